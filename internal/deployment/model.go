// Package deployment is the orchestration layer over the CNF lifecycle:
// a deployment is a named set of components (CNF packages with replica
// counts) that the service places on resource pools, optionally holding
// their capacity, and realizes as CNF instances; a reconciler drives each
// deployment through its phases and survives restarts.
package deployment

import (
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/query"
)

// Schema names the table the sqlstore migrations create for deployments.
var Schema = &query.Schema{
	Name: "deployments", Object: "deployment", DocColumn: "doc",
	Attrs: []query.Attr{
		{Name: "deploymentId", Type: query.String, Column: "id"},
		{Name: "name", Type: query.String, Column: "name"},
		{Name: "description", Type: query.String},
		{Name: "components", Type: query.Object, List: true, Complex: true},
		{Name: "deploymentManagerId", Type: query.String},
		{Name: "resourcePools", Type: query.String, List: true, Complex: true},
		{Name: "placement", Type: query.Object, Complex: true},
		{Name: "networkRequirements", Type: query.Object, Complex: true},
		{Name: "reserveCapacity", Type: query.Bool},
		{Name: "failover", Type: query.Bool},
		{Name: "resourceVersion", Type: query.Number},
		{Name: "createdAt", Type: query.Time},
		{Name: "updatedAt", Type: query.Time},
		{Name: "status", Type: query.Object, Complex: true},
		{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true},
	},
}

// Phases of a deployment.
const (
	PhasePending   = "PENDING"
	PhaseDeploying = "DEPLOYING"
	PhaseActive    = "ACTIVE"
	PhaseScaling   = "SCALING"
	PhaseScaled    = "SCALED"
	PhaseDegraded  = "DEGRADED"
	PhaseFailed    = "FAILED"
	PhaseDeleting  = "DELETING"
)

// Phases lists every phase, for validation and the gauge.
var Phases = []string{PhasePending, PhaseDeploying, PhaseActive, PhaseScaling, PhaseScaled, PhaseDegraded, PhaseFailed, PhaseDeleting}

// Component is one part of a deployment.
type Component struct {
	Name             string         `json:"name"`
	VnfdID           string         `json:"vnfdId,omitempty"`
	PackageID        string         `json:"packageId,omitempty"`
	FlavourID        string         `json:"flavourId,omitempty"`
	Replicas         int            `json:"replicas"`
	Resources        *lcm.Resources `json:"resources,omitempty"`
	Namespace        string         `json:"namespace,omitempty"`
	AdditionalParams map[string]any `json:"additionalParams,omitempty"`
}

// Rules steer automatic placement.
type Rules struct {
	Providers       []string `json:"providers,omitempty"`
	Regions         []string `json:"regions,omitempty"`
	PoolSelector    string   `json:"poolSelector,omitempty"`
	MinCapacity     string   `json:"minCapacity,omitempty"`
	Spread          int      `json:"spread,omitempty"`
	PreferProviders []string `json:"preferProviders,omitempty"`
}

// Spec is what a client asks for.
type Spec struct {
	Name          string      `json:"name"`
	Description   string      `json:"description,omitempty"`
	Components    []Component `json:"components"`
	ResourcePools []string    `json:"resourcePools,omitempty"`
	// DeploymentManagerID, when set, names the deployment manager that
	// delivers the deployment instead of the pools' own: a GitOps
	// repository commits its package.
	DeploymentManagerID string         `json:"deploymentManagerId,omitempty"`
	Placement           *Rules         `json:"placement,omitempty"`
	NetworkRequirements map[string]any `json:"networkRequirements,omitempty"`
	ReserveCapacity     *bool          `json:"reserveCapacity,omitempty"`
	Failover            bool           `json:"failover,omitempty"`
	DryRun              bool           `json:"dryRun,omitempty"`
	Extensions          map[string]any `json:"extensions,omitempty"`
}

// Capacity is an amount of compute as the API renders it.
type Capacity struct {
	CPUMillicores int64 `json:"cpuMillicores"`
	MemoryBytes   int64 `json:"memoryBytes"`
	Pods          int64 `json:"pods"`
}

// Assignment places replicas of a component on a pool.
type Assignment struct {
	Component           string   `json:"component"`
	ResourcePoolID      string   `json:"resourcePoolId"`
	ResourcePoolName    string   `json:"resourcePoolName,omitempty"`
	DeploymentManagerID string   `json:"deploymentManagerId"`
	Replicas            int      `json:"replicas"`
	Requests            Capacity `json:"requests"`
	Score               float64  `json:"score"`
}

// Decision explains what placement made of one pool.
type Decision struct {
	ResourcePoolID   string   `json:"resourcePoolId"`
	ResourcePoolName string   `json:"resourcePoolName,omitempty"`
	Eligible         bool     `json:"eligible"`
	Chosen           bool     `json:"chosen"`
	Score            float64  `json:"score"`
	Reasons          []string `json:"reasons"`
}

// PlacementStatus is the plan a deployment was accepted with.
type PlacementStatus struct {
	Assignments []Assignment `json:"assignments"`
	Decisions   []Decision   `json:"decisions"`
}

// Reservation is capacity held for the deployment.
type Reservation struct {
	ResourcePoolID string   `json:"resourcePoolId"`
	Requests       Capacity `json:"requests"`
	State          string   `json:"state"`
	ExpiresAt      string   `json:"expiresAt,omitempty"`
}

// Condition is one aspect of the status, set by the service or by an
// external controller.
type Condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason,omitempty"`
	Message            string `json:"message,omitempty"`
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`
}

// ComponentStatus is one placed part of a component: its replicas on one
// pool, realized by one CNF instance.
type ComponentStatus struct {
	Name                string `json:"name"`
	ResourcePoolID      string `json:"resourcePoolId"`
	ResourcePoolName    string `json:"resourcePoolName,omitempty"`
	DeploymentManagerID string `json:"deploymentManagerId"`
	CnfInstanceID       string `json:"cnfInstanceId"`
	Namespace           string `json:"namespace"`
	Replicas            int    `json:"replicas"`
	ReadyReplicas       int    `json:"readyReplicas"`
	Phase               string `json:"phase"`
	LcmOpOccID          string `json:"lcmOpOccId,omitempty"`
	// Workloads are the workloads a GitOps delivery committed for this
	// part, observed on the cluster the repository syncs to.
	Workloads []lcm.ResourceRef `json:"workloads,omitempty"`
}

// Status is the observed state of a deployment.
type Status struct {
	Phase           string            `json:"phase"`
	Message         string            `json:"message,omitempty"`
	Error           *lcm.Problem      `json:"error,omitempty"`
	Components      []ComponentStatus `json:"components"`
	Placement       *PlacementStatus  `json:"placement,omitempty"`
	Reservations    []Reservation     `json:"reservations"`
	PackageRevision string            `json:"packageRevision,omitempty"`
	// GitOps is where a GitOps delivery committed the package.
	GitOps         *GitOpsStatus `json:"gitops,omitempty"`
	Conditions     []Condition   `json:"conditions,omitempty"`
	PhaseChangedAt string        `json:"phaseChangedAt,omitempty"`
	// RetiredInstances are CNF instances a failover replaced, removed by
	// the reconciler.
	RetiredInstances []string `json:"retiredCnfInstances,omitempty"`
}

// GitOpsStatus is where a deployment delivered through git is.
type GitOpsStatus struct {
	// Kind is "git" (the server commits the package it renders) or
	// "porch" (Porch renders its blueprint; status.packageRevision
	// names the revision).
	Kind                string `json:"kind"`
	DeploymentManagerID string `json:"deploymentManagerId"`
	// Repository is the repository's URL (without credentials), or the
	// URL the server serves its local repository at.
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	// Path is the package's directory in the repository.
	Path string `json:"path"`
	// Commit is the commit holding the deployment's current package.
	Commit      string `json:"commit,omitempty"`
	CommittedAt string `json:"committedAt,omitempty"`
	// Digest identifies the committed package's content.
	Digest string `json:"digest,omitempty"`
	// ClusterDeploymentManagerID is the Kubernetes cluster the
	// repository's GitOps agent applies to, when it is registered; the
	// deployment's status is observed there.
	ClusterDeploymentManagerID string `json:"clusterDeploymentManagerId,omitempty"`
}

// Deployment is a stored deployment.
type Deployment struct {
	Spec
	DeploymentID    string `json:"deploymentId,omitempty"`
	ResourceVersion int64  `json:"resourceVersion"`
	CreatedAt       string `json:"createdAt,omitempty"`
	UpdatedAt       string `json:"updatedAt,omitempty"`
	Status          Status `json:"status"`
}

// ETag is the entity tag of a deployment's current version.
func (d Deployment) ETag() string { return `"` + itoa(d.ResourceVersion) + `"` }

// ComponentPatch changes the replicas of a named component.
type ComponentPatch struct {
	Name     string `json:"name"`
	Replicas int    `json:"replicas"`
}

// Patch is a change of a deployment.
type Patch struct {
	Description *string          `json:"description,omitempty"`
	Components  []ComponentPatch `json:"components,omitempty"`
}

// StatusUpdate is a status report of an external controller.
type StatusUpdate struct {
	ResourceVersion *int64      `json:"resourceVersion,omitempty"`
	Phase           string      `json:"phase,omitempty"`
	Message         *string     `json:"message,omitempty"`
	PackageRevision *string     `json:"packageRevision,omitempty"`
	Conditions      []Condition `json:"conditions,omitempty"`
}
