package ims

// Extensions holds free-form, implementation-specific attributes of an
// inventory object. Values must marshal to JSON.
type Extensions map[string]any

// OCloud is the O-Cloud this IMS manages (O2ims OCloudInfo).
type OCloud struct {
	OCloudID      string     `json:"oCloudId"`
	GlobalCloudID string     `json:"globalCloudId"`
	Name          string     `json:"name"`
	Description   string     `json:"description"`
	ServiceURI    string     `json:"serviceUri"`
	Extensions    Extensions `json:"extensions,omitempty"`
}

// ResourceKind classifies a resource type as physical or logical.
type ResourceKind string

// Resource kinds as defined by O2ims.
const (
	ResourceKindUndefined ResourceKind = "UNDEFINED"
	ResourceKindPhysical  ResourceKind = "PHYSICAL"
	ResourceKindLogical   ResourceKind = "LOGICAL"
)

// ResourceClass classifies a resource type by function.
type ResourceClass string

// Resource classes as defined by O2ims.
const (
	ResourceClassUndefined  ResourceClass = "UNDEFINED"
	ResourceClassCompute    ResourceClass = "COMPUTE"
	ResourceClassNetworking ResourceClass = "NETWORKING"
	ResourceClassStorage    ResourceClass = "STORAGE"
)

// ResourceType describes a kind of resource (a server model, a NIC model, …).
type ResourceType struct {
	ResourceTypeID string        `json:"resourceTypeId"`
	Name           string        `json:"name"`
	Description    string        `json:"description"`
	Vendor         string        `json:"vendor"`
	Model          string        `json:"model"`
	Version        string        `json:"version"`
	ResourceKind   ResourceKind  `json:"resourceKind"`
	ResourceClass  ResourceClass `json:"resourceClass"`
	Extensions     Extensions    `json:"extensions,omitempty"`
}

// ResourcePool groups resources, typically those of one site.
type ResourcePool struct {
	ResourcePoolID   string     `json:"resourcePoolId"`
	Name             string     `json:"name"`
	Description      string     `json:"description"`
	OCloudID         string     `json:"oCloudId"`
	GlobalLocationID string     `json:"globalLocationId"`
	Location         string     `json:"location"`
	Extensions       Extensions `json:"extensions,omitempty"`
}

// Resource is one unit of infrastructure: a host, a device, a node.
type Resource struct {
	ResourceID     string     `json:"resourceId"`
	ResourcePoolID string     `json:"resourcePoolId"`
	ResourceTypeID string     `json:"resourceTypeId"`
	GlobalAssetID  string     `json:"globalAssetId"`
	Description    string     `json:"description"`
	ParentID       string     `json:"parentId,omitempty"`
	Elements       []Resource `json:"elements,omitempty"`
	Tags           []string   `json:"tags,omitempty"`
	Groups         []string   `json:"groups,omitempty"`
	Extensions     Extensions `json:"extensions,omitempty"`
}

// DeploymentManager is a workload deployment endpoint (a Kubernetes cluster,
// a host runtime) offered by the O-Cloud.
type DeploymentManager struct {
	DeploymentManagerID string         `json:"deploymentManagerId"`
	Name                string         `json:"name"`
	Description         string         `json:"description"`
	OCloudID            string         `json:"oCloudId"`
	ServiceURI          string         `json:"serviceUri"`
	SupportedLocations  []string       `json:"supportedLocations,omitempty"`
	Capabilities        map[string]any `json:"capabilities,omitempty"`
	Capacity            map[string]any `json:"capacity,omitempty"`
	Extensions          Extensions     `json:"extensions,omitempty"`
}

// Snapshot is the complete inventory one provider reports at one moment.
// Objects absent from a provider's newest snapshot are removed from the
// store. The OCloudID fields of pools and deployment managers are filled in
// by the store.
type Snapshot struct {
	ResourceTypes      []ResourceType
	ResourcePools      []ResourcePool
	Resources          []Resource
	DeploymentManagers []DeploymentManager
}

// OCloudResourceTypeID identifies the resource type of the O-Cloud as a
// whole: alarms raised on the O-Cloud rather than on one of its resources
// carry it as resourceTypeID. It is the same on every installation.
const OCloudResourceTypeID = "0c10ad00-0000-5000-8000-000000000001"

// OCloudResourceType is the resource type of the O-Cloud itself, which
// the inventory lists beside the providers' types.
func OCloudResourceType() ResourceType {
	return ResourceType{
		ResourceTypeID: OCloudResourceTypeID,
		Name:           "O-Cloud",
		Description:    "The O-Cloud as a whole: the subject of alarms not raised on one of its resources",
		Vendor:         "Nephoran",
		Model:          "O2 IMS",
		Version:        "1",
		ResourceKind:   ResourceKindLogical,
		ResourceClass:  ResourceClassUndefined,
	}
}
