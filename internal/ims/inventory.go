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

// ResourcePool groups resources of one O-Cloud site. OCloudSiteID is the
// model (O2ims v11); OCloudID, GlobalLocationID and Location are what
// O2ims v1 shows of it, filled in from the site and its location when the
// inventory is stored.
type ResourcePool struct {
	ResourcePoolID   string     `json:"resourcePoolId"`
	Name             string     `json:"name"`
	Description      string     `json:"description"`
	OCloudSiteID     string     `json:"oCloudSiteId,omitempty"`
	OCloudID         string     `json:"oCloudId"`
	GlobalLocationID string     `json:"globalLocationId"`
	Location         string     `json:"location"`
	Extensions       Extensions `json:"extensions,omitempty"`
}

// Location is a place where O-Cloud sites are (O2ims v11 LocationInfo).
// GlobalLocationID is assigned by the SMO or the operator. At least one of
// Coordinate, CivicAddress and Address describes it.
type Location struct {
	GlobalLocationID string           `json:"globalLocationId"`
	Name             string           `json:"name"`
	Description      string           `json:"description"`
	Coordinate       *GeoPoint        `json:"coordinate,omitempty"`
	CivicAddress     []CivicAddressEl `json:"civicAddress,omitempty"`
	Address          string           `json:"address,omitempty"`
	Extensions       Extensions       `json:"extensions,omitempty"`
}

// GeoPoint is a GeoJSON Point (RFC 7946): longitude, latitude and an
// optional altitude.
type GeoPoint struct {
	Type        string    `json:"type"`
	Coordinates []float64 `json:"coordinates"`
}

// CivicAddressEl is one element of a civic address (RFC 4776 CAtype and
// its value).
type CivicAddressEl struct {
	CaType  int    `json:"caType"`
	CaValue string `json:"caValue"`
}

// OCloudSite is a site of the O-Cloud at a location (O2ims v11
// OCloudSiteInfo); resource pools belong to one site.
type OCloudSite struct {
	OCloudSiteID     string     `json:"oCloudSiteId"`
	GlobalLocationID string     `json:"globalLocationId"`
	Name             string     `json:"name"`
	Description      string     `json:"description"`
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
	// Sites are the O-Cloud sites the provider defines; a pool names its
	// site (OCloudSiteID) among these or the operator's. A pool without
	// one is put in the provider's default site, and a site without a
	// location in the O-Cloud's default location.
	Sites              []OCloudSite
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
