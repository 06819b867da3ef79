package o2

// CloudInfo describes the O-Cloud an IMS manages.
type CloudInfo struct {
	// OCloudID identifies the O-Cloud; the IMS creates it once and keeps it.
	OCloudID string `json:"oCloudId"`
	// GlobalCloudID identifies the O-Cloud as assigned by the SMO.
	GlobalCloudID string `json:"globalCloudId"`
	// Name is the O-Cloud's name.
	Name string `json:"name"`
	// Description is a human-readable description of the O-Cloud.
	Description string `json:"description"`
	// ServiceURI is the base URI of the IMS.
	ServiceURI string `json:"serviceUri"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// APIVersions lists the versions of an API the IMS supports.
type APIVersions struct {
	// URIPrefix is the path prefix of the API, such as
	// "/o2ims-infrastructureInventory/v1".
	URIPrefix string `json:"uriPrefix"`
	// APIVersions are the supported versions.
	APIVersions []APIVersion `json:"apiVersions"`
}

// APIVersion is one supported version of an API.
type APIVersion struct {
	// Version is the semantic version, such as "1.0.0".
	Version string `json:"version"`
}

// ResourceKind tells whether a resource type is physical or logical.
type ResourceKind string

// The resource kinds of the O2ims_InfrastructureInventory API.
const (
	// ResourceKindUndefined is a kind the provider could not determine.
	ResourceKindUndefined ResourceKind = "UNDEFINED"
	// ResourceKindPhysical is hardware.
	ResourceKindPhysical ResourceKind = "PHYSICAL"
	// ResourceKindLogical is a virtual or software-defined resource.
	ResourceKindLogical ResourceKind = "LOGICAL"
)

// ResourceClass tells what a resource type provides.
type ResourceClass string

// The resource classes of the O2ims_InfrastructureInventory API.
const (
	// ResourceClassUndefined is a class the provider could not determine.
	ResourceClassUndefined ResourceClass = "UNDEFINED"
	// ResourceClassCompute provides processing or memory.
	ResourceClassCompute ResourceClass = "COMPUTE"
	// ResourceClassNetworking provides connectivity.
	ResourceClassNetworking ResourceClass = "NETWORKING"
	// ResourceClassStorage provides storage.
	ResourceClassStorage ResourceClass = "STORAGE"
)

// ResourceType is a kind of resource, such as a CPU model or a server type.
// Extensions are excluded from lists unless selected.
type ResourceType struct {
	// ResourceTypeID identifies the resource type.
	ResourceTypeID string `json:"resourceTypeId"`
	// Name is the resource type's name.
	Name string `json:"name"`
	// Description is a human-readable description.
	Description string `json:"description,omitempty"`
	// Vendor is the manufacturer or supplier.
	Vendor string `json:"vendor"`
	// Model is the vendor's model name.
	Model string `json:"model"`
	// Version is the model's version.
	Version string `json:"version"`
	// ResourceKind tells whether the type is physical or logical.
	ResourceKind ResourceKind `json:"resourceKind"`
	// ResourceClass tells what the type provides.
	ResourceClass ResourceClass `json:"resourceClass"`
	// AlarmDictionary is the dictionary of the alarms raised on resources
	// of this type; lists include it with AllFields or Fields
	// "alarmDictionary", Get always.
	AlarmDictionary *AlarmDictionary `json:"alarmDictionary,omitempty"`
	// AlarmDictionaryID identifies that dictionary (inventory v2, which
	// does not embed it).
	AlarmDictionaryID string `json:"alarmDictionaryId,omitempty"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// ResourcePool is a group of resources, typically one site. Extensions are
// excluded from lists unless selected.
type ResourcePool struct {
	// ResourcePoolID identifies the resource pool.
	ResourcePoolID string `json:"resourcePoolId"`
	// Name is the resource pool's name.
	Name string `json:"name"`
	// Description is a human-readable description.
	Description string `json:"description,omitempty"`
	// OCloudSiteID identifies the O-Cloud site the pool is in
	// (inventory v2).
	OCloudSiteID string `json:"oCloudSiteId,omitempty"`
	// OCloudID identifies the O-Cloud the pool belongs to (inventory v1).
	OCloudID string `json:"oCloudId,omitempty"`
	// GlobalLocationID identifies the pool's location as known to the
	// SMO: its site's location (inventory v1).
	GlobalLocationID string `json:"globalLocationId,omitempty"`
	// Location describes where the pool is: its site's location's address
	// or name (inventory v1).
	Location string `json:"location,omitempty"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Resource is a unit of infrastructure, such as a server or one of its
// disks. Elements and extensions are excluded from lists unless selected.
type Resource struct {
	// ResourceID identifies the resource.
	ResourceID string `json:"resourceId"`
	// ResourcePoolID identifies the pool the resource belongs to.
	ResourcePoolID string `json:"resourcePoolId"`
	// ResourceTypeID identifies the resource's type.
	ResourceTypeID string `json:"resourceTypeId"`
	// GlobalAssetID identifies the resource as an asset, such as a serial
	// number.
	GlobalAssetID string `json:"globalAssetId,omitempty"`
	// Description is a human-readable description.
	Description string `json:"description,omitempty"`
	// ParentID identifies the resource this one is part of; it is empty
	// for top-level resources.
	ParentID string `json:"parentId,omitempty"`
	// Elements are the resources this one is composed of.
	Elements []Resource `json:"elements,omitempty"`
	// Tags are labels of the resource, such as "host" or "disk".
	Tags []string `json:"tags,omitempty"`
	// Groups are the groups the resource is a member of.
	Groups []string `json:"groups,omitempty"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// DeploymentManager is a workload deployment endpoint of the O-Cloud, such
// as a Kubernetes cluster. Extensions are excluded from lists unless
// selected.
type DeploymentManager struct {
	// DeploymentManagerID identifies the deployment manager.
	DeploymentManagerID string `json:"deploymentManagerId"`
	// Name is the deployment manager's name.
	Name string `json:"name"`
	// Description is a human-readable description.
	Description string `json:"description,omitempty"`
	// OCloudID identifies the O-Cloud the deployment manager belongs to.
	OCloudID string `json:"oCloudId"`
	// ServiceURI is where the deployment manager is reached.
	ServiceURI string `json:"serviceUri"`
	// SupportedLocations are the locations workloads can be placed in.
	SupportedLocations []string `json:"supportedLocations,omitempty"`
	// Capabilities describe what the deployment manager offers.
	Capabilities map[string]any `json:"capabilities,omitempty"`
	// Capacity describes the resources available to workloads.
	Capacity map[string]any `json:"capacity,omitempty"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}
