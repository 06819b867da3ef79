package lcm

// VnfdInfo identifies the descriptor a package implements.
type VnfdInfo struct {
	VnfdID             string `json:"vnfdId"`
	VnfProvider        string `json:"vnfProvider,omitempty"`
	VnfProductName     string `json:"vnfProductName,omitempty"`
	VnfSoftwareVersion string `json:"vnfSoftwareVersion,omitempty"`
}

// Flavour is a deployment flavour of a package.
type Flavour struct {
	FlavourID   string     `json:"flavourId"`
	Description string     `json:"description,omitempty"`
	Replicas    *int       `json:"replicas,omitempty"`
	Resources   *Resources `json:"resources,omitempty"`
}

// Resources are container requests.
type Resources struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// ScalingAspect scales one workload in steps.
type ScalingAspect struct {
	AspectID      string `json:"aspectId"`
	Workload      string `json:"workload"`
	StepDelta     int    `json:"stepDelta"`
	MaxScaleLevel int    `json:"maxScaleLevel"`
}

// Workload is a Deployment or StatefulSet a package deploys.
type Workload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Package is a registered CNF package.
type Package struct {
	PackageID      string          `json:"packageId"`
	Name           string          `json:"name"`
	Version        string          `json:"version"`
	ContentType    string          `json:"contentType"`
	VnfdInfo       VnfdInfo        `json:"vnfdInfo"`
	Flavours       []Flavour       `json:"flavours"`
	ScalingAspects []ScalingAspect `json:"scalingAspects,omitempty"`
	Checksum       string          `json:"checksum"`
	Size           int             `json:"size"`
	Workloads      []Workload      `json:"workloads,omitempty"`
	CreatedAt      string          `json:"createdAt"`
	Extensions     map[string]any  `json:"extensions,omitempty"`
}

// Instantiation states and phases.
const (
	NotInstantiated = "NOT_INSTANTIATED"
	Instantiated    = "INSTANTIATED"

	PhaseInstantiating = "INSTANTIATING"
	PhaseScaling       = "SCALING"
	PhaseTerminating   = "TERMINATING"
	PhaseFailed        = "FAILED"
)

// ScaleStatus is the level of one aspect.
type ScaleStatus struct {
	AspectID   string `json:"aspectId"`
	ScaleLevel int    `json:"scaleLevel"`
}

// ResourceRef names an object an instance created.
type ResourceRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// InstantiatedInfo describes a deployed instance.
type InstantiatedInfo struct {
	FlavourID           string `json:"flavourId"`
	DeploymentManagerID string `json:"deploymentManagerId"`
	ResourcePoolID      string `json:"resourcePoolId,omitempty"`
	// ResourcePoolName is the pool's node label value, fixed when the
	// instance is instantiated (the pool may be empty, and so absent from
	// the inventory, for a while).
	ResourcePoolName string         `json:"resourcePoolName,omitempty"`
	Namespace        string         `json:"namespace"`
	ScaleStatus      []ScaleStatus  `json:"scaleStatus"`
	Replicas         int            `json:"replicas"`
	ReadyReplicas    int            `json:"readyReplicas"`
	Resources        []ResourceRef  `json:"resources"`
	AdditionalParams map[string]any `json:"additionalParams,omitempty"`
	// TargetReplicas, when set, is the replica count of every workload.
	TargetReplicas *int `json:"targetReplicas,omitempty"`
	// ContainerResources, when set, replace the flavour's requests.
	ContainerResources *Resources `json:"containerResources,omitempty"`
}

// Instance is a CNF instance.
type Instance struct {
	CnfInstanceID          string            `json:"cnfInstanceId"`
	VnfInstanceName        string            `json:"vnfInstanceName,omitempty"`
	VnfInstanceDescription string            `json:"vnfInstanceDescription,omitempty"`
	VnfdID                 string            `json:"vnfdId"`
	PackageID              string            `json:"packageId"`
	FlavourID              string            `json:"flavourId,omitempty"`
	InstantiationState     string            `json:"instantiationState"`
	Phase                  string            `json:"phase"`
	InstantiatedCnfInfo    *InstantiatedInfo `json:"instantiatedCnfInfo,omitempty"`
	CreatedAt              string            `json:"createdAt"`
	Extensions             map[string]any    `json:"extensions,omitempty"`
}

// Operations and their states.
const (
	OpInstantiate = "INSTANTIATE"
	OpScale       = "SCALE"
	OpTerminate   = "TERMINATE"

	StateStarting   = "STARTING"
	StateProcessing = "PROCESSING"
	StateCompleted  = "COMPLETED"
	StateFailed     = "FAILED"
	StateRolledBack = "ROLLED_BACK"
)

// Problem is an operation's error, as RFC 7807 problem details.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// OpOcc is a lifecycle operation occurrence.
type OpOcc struct {
	ID               string         `json:"id"`
	Operation        string         `json:"operation"`
	OperationState   string         `json:"operationState"`
	StartTime        string         `json:"startTime"`
	StateEnteredTime string         `json:"stateEnteredTime"`
	CnfInstanceID    string         `json:"cnfInstanceId"`
	OperationParams  map[string]any `json:"operationParams,omitempty"`
	Error            *Problem       `json:"error,omitempty"`
}

func (o *OpOcc) active() bool {
	return o.OperationState == StateStarting || o.OperationState == StateProcessing
}
