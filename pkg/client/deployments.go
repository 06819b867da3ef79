package o2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ResourceName names a kind of compute in a ResourceList.
type ResourceName string

// The resources a ResourceList may name.
const (
	ResourceCPU    ResourceName = "cpu"
	ResourceMemory ResourceName = "memory"
	ResourcePods   ResourceName = "pods"
)

// ResourceList is an amount of compute by resource, each a Kubernetes
// quantity: {ResourceCPU: "4", ResourceMemory: "8Gi", ResourcePods: "10"}.
type ResourceList map[ResourceName]string

// encode renders l as the IMS's "cpu:4,memory:8Gi,pods:10" form, in a
// fixed order.
func (l ResourceList) encode() (string, error) {
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, string(n))
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		v := l[ResourceName(n)]
		if n == "" || strings.ContainsAny(n, ",:") || v == "" || strings.ContainsAny(v, ",:") {
			return "", fmt.Errorf("resource %q: %q is not a quantity", n, v)
		}
		parts = append(parts, n+":"+v)
	}
	return strings.Join(parts, ","), nil
}

// MarshalJSON renders l as the IMS does: "cpu:4,memory:8Gi,pods:10".
func (l ResourceList) MarshalJSON() ([]byte, error) {
	v, err := l.encode()
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads the "cpu:4,memory:8Gi" form, or an object such as
// {"cpu": "4", "memory": "8Gi", "pods": 10}.
func (l *ResourceList) UnmarshalJSON(b []byte) error {
	var obj map[ResourceName]json.RawMessage
	if json.Unmarshal(b, &obj) == nil {
		out := ResourceList{}
		for n, raw := range obj {
			var q string
			if json.Unmarshal(raw, &q) != nil {
				var num json.Number
				if err := json.Unmarshal(raw, &num); err != nil {
					return fmt.Errorf("o2: resource %s: not a quantity", n)
				}
				q = num.String()
			}
			out[n] = q
		}
		*l = out
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("o2: a resource list is a string such as \"cpu:4,memory:8Gi\" or an object")
	}
	out := ResourceList{}
	for _, item := range strings.Split(v, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		name, q, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok {
			return fmt.Errorf("o2: %q is not a resource amount", item)
		}
		out[ResourceName(strings.TrimSpace(name))] = strings.TrimSpace(q)
	}
	*l = out
	return nil
}

// DeploymentPhase is where a deployment is in its life.
type DeploymentPhase string

// The phases of DeploymentStatus.Phase: PENDING → DEPLOYING → ACTIVE;
// SCALING → SCALED after a change of replicas; DEGRADED while a component
// is below its replicas or its pool is unhealthy; FAILED; DELETING until
// it is gone.
const (
	DeploymentPending   DeploymentPhase = "PENDING"
	DeploymentDeploying DeploymentPhase = "DEPLOYING"
	DeploymentActive    DeploymentPhase = "ACTIVE"
	DeploymentScaling   DeploymentPhase = "SCALING"
	DeploymentScaled    DeploymentPhase = "SCALED"
	DeploymentDegraded  DeploymentPhase = "DEGRADED"
	DeploymentFailed    DeploymentPhase = "FAILED"
	DeploymentDeleting  DeploymentPhase = "DELETING"
)

// ComponentResources are the requests of one replica of a component.
type ComponentResources struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// DeploymentComponent is one part of a deployment: a CNF package with a
// replica count.
type DeploymentComponent struct {
	// Name is unique in the deployment, a DNS label of at most 15
	// characters.
	Name string `json:"name"`
	// VnfdID (with FlavourID) or PackageID names the CNF package.
	VnfdID    string `json:"vnfdId,omitempty"`
	PackageID string `json:"packageId,omitempty"`
	FlavourID string `json:"flavourId,omitempty"`
	// Replicas of every workload of the package; zero means 1.
	Replicas int `json:"replicas,omitempty"`
	// Resources default to the flavour's.
	Resources *ComponentResources `json:"resources,omitempty"`
	// Namespace defaults to <deployment>-<component>.
	Namespace string `json:"namespace,omitempty"`
	// AdditionalParams are passed to the package (Helm values).
	AdditionalParams map[string]any `json:"additionalParams,omitempty"`
}

// PlacementRules say where a deployment may go when no explicit pools
// are given.
type PlacementRules struct {
	// Providers and Regions keep pools of those.
	Providers []string `json:"providers,omitempty"`
	Regions   []string `json:"regions,omitempty"`
	// PoolSelector is a Kubernetes label selector on the pools' labels.
	PoolSelector string `json:"poolSelector,omitempty"`
	// MinCapacity is free capacity a pool must have, as
	// ListOptions.MinCapacity.
	MinCapacity ResourceList `json:"minCapacity,omitempty"`
	// Spread is the number of distinct pools each component's replicas
	// are split over.
	Spread int `json:"spread,omitempty"`
	// PreferProviders raise the score of pools of those providers.
	PreferProviders []string `json:"preferProviders,omitempty"`
}

// NetworkRequirements are kept with a deployment and passed on.
type NetworkRequirements struct {
	Bandwidth string `json:"bandwidth,omitempty"`
	Latency   string `json:"latency,omitempty"`
	SliceID   string `json:"sliceId,omitempty"`
}

// DeploymentSpec is what a client asks for, with
// DeploymentService.Create.
type DeploymentSpec struct {
	Name        string                `json:"name"`
	Description string                `json:"description,omitempty"`
	Components  []DeploymentComponent `json:"components"`
	// ResourcePools, when set, are the only pools used.
	ResourcePools []string `json:"resourcePools,omitempty"`
	// DeploymentManagerID, when set, names the deployment manager that
	// delivers the deployment: a GitOps repository (such as local-gitops)
	// gets it committed as a kpt package, a Kubernetes cluster restricts
	// placement to its pools.
	DeploymentManagerID string               `json:"deploymentManagerId,omitempty"`
	Placement           *PlacementRules      `json:"placement,omitempty"`
	NetworkRequirements *NetworkRequirements `json:"networkRequirements,omitempty"`
	// ReserveCapacity holds the requests on their pools until the
	// workloads run; nil leaves the IMS's default.
	ReserveCapacity *bool `json:"reserveCapacity,omitempty"`
	// Failover re-places a component's part whose pool becomes unhealthy
	// or leaves the inventory, on another eligible pool.
	Failover bool `json:"failover,omitempty"`
	// DryRun only plans: the answer is the deployment as it would be
	// created, with nothing stored.
	DryRun     bool           `json:"dryRun,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Capacity is an amount of compute as the IMS reports it.
type Capacity struct {
	CPUMillicores int64 `json:"cpuMillicores"`
	MemoryBytes   int64 `json:"memoryBytes"`
	Pods          int64 `json:"pods"`
}

// PoolCapacity is a resource pool's capacity as its extensions.capacity
// reports it: Free is Allocatable − Requested − Reserved (held by
// deployments).
type PoolCapacity struct {
	Allocatable Capacity `json:"allocatable"`
	Requested   Capacity `json:"requested"`
	Reserved    Capacity `json:"reserved"`
	Free        Capacity `json:"free"`
}

// Capacity returns the pool's capacity; ok is false when the pool does
// not report one (extensions excluded from the list, or a provider
// without capacity figures).
func (p *ResourcePool) Capacity() (c PoolCapacity, ok bool) {
	raw, found := p.Extensions["capacity"]
	if !found {
		return c, false
	}
	b, err := json.Marshal(raw)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return PoolCapacity{}, false
	}
	return c, true
}

// ComponentStatus is one placed part of a component: its replicas on one
// pool, run by one CNF instance.
type ComponentStatus struct {
	Name                string `json:"name"`
	ResourcePoolID      string `json:"resourcePoolId"`
	ResourcePoolName    string `json:"resourcePoolName,omitempty"`
	DeploymentManagerID string `json:"deploymentManagerId"`
	CNFInstanceID       string `json:"cnfInstanceId"`
	Namespace           string `json:"namespace"`
	Replicas            int    `json:"replicas"`
	ReadyReplicas       int    `json:"readyReplicas"`
	Phase               string `json:"phase"`
	LcmOpOccID          string `json:"lcmOpOccId,omitempty"`
	// Workloads are what a GitOps delivery committed for this part.
	Workloads []ObjectRef `json:"workloads,omitempty"`
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// GitOpsStatus is where a deployment delivered through git is: the
// repository, branch and package directory, and the commit holding its
// current package.
type GitOpsStatus struct {
	// Kind is "git" (the IMS commits the package it renders) or "porch"
	// (Porch renders its blueprint; Status.PackageRevision names it).
	Kind                       string    `json:"kind"`
	DeploymentManagerID        string    `json:"deploymentManagerId"`
	Repository                 string    `json:"repository"`
	Branch                     string    `json:"branch"`
	Path                       string    `json:"path,omitempty"`
	Commit                     string    `json:"commit,omitempty"`
	CommittedAt                time.Time `json:"committedAt,omitzero"`
	Digest                     string    `json:"digest,omitempty"`
	ClusterDeploymentManagerID string    `json:"clusterDeploymentManagerId,omitempty"`
}

// PlacementAssignment puts replicas of a component on a pool.
type PlacementAssignment struct {
	Component           string   `json:"component"`
	ResourcePoolID      string   `json:"resourcePoolId"`
	ResourcePoolName    string   `json:"resourcePoolName,omitempty"`
	DeploymentManagerID string   `json:"deploymentManagerId"`
	Replicas            int      `json:"replicas"`
	Requests            Capacity `json:"requests"`
	Score               float64  `json:"score"`
}

// PlacementDecision explains what placement made of one pool.
type PlacementDecision struct {
	ResourcePoolID   string   `json:"resourcePoolId"`
	ResourcePoolName string   `json:"resourcePoolName,omitempty"`
	Eligible         bool     `json:"eligible"`
	Chosen           bool     `json:"chosen"`
	Score            float64  `json:"score"`
	Reasons          []string `json:"reasons"`
}

// PlacementStatus is the plan a deployment was accepted with.
type PlacementStatus struct {
	Assignments []PlacementAssignment `json:"assignments"`
	Decisions   []PlacementDecision   `json:"decisions"`
}

// Reservation is capacity held for a deployment: PLANNED (dry run), HELD,
// RELEASED or EXPIRED.
type Reservation struct {
	ResourcePoolID string    `json:"resourcePoolId"`
	Requests       Capacity  `json:"requests"`
	State          string    `json:"state"`
	ExpiresAt      time.Time `json:"expiresAt,omitzero"`
}

// DeploymentCondition is one aspect of a deployment's status.
type DeploymentCondition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"` // True, False or Unknown
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime,omitzero"`
}

// DeploymentStatus is the observed state of a deployment.
type DeploymentStatus struct {
	Phase           DeploymentPhase   `json:"phase"`
	Message         string            `json:"message,omitempty"`
	Error           *Problem          `json:"error,omitempty"`
	Components      []ComponentStatus `json:"components"`
	Placement       *PlacementStatus  `json:"placement,omitempty"`
	Reservations    []Reservation     `json:"reservations"`
	PackageRevision string            `json:"packageRevision,omitempty"`
	// GitOps is set for deployments delivered through git.
	GitOps         *GitOpsStatus         `json:"gitops,omitempty"`
	Conditions     []DeploymentCondition `json:"conditions,omitempty"`
	PhaseChangedAt time.Time             `json:"phaseChangedAt,omitzero"`
	// RetiredCNFInstances are instances a failover replaced, until they
	// are removed.
	RetiredCNFInstances []string `json:"retiredCnfInstances,omitempty"`
}

// Deployment is a deployment as the IMS keeps it.
type Deployment struct {
	DeploymentSpec
	// DeploymentID is empty on a dry run.
	DeploymentID    string           `json:"deploymentId,omitempty"`
	ResourceVersion int64            `json:"resourceVersion"`
	CreatedAt       time.Time        `json:"createdAt,omitzero"`
	UpdatedAt       time.Time        `json:"updatedAt,omitzero"`
	Status          DeploymentStatus `json:"status"`
	// ETag is the entity tag of this version, for IfMatch; set by Get,
	// Create, Update and UpdateStatus.
	ETag string `json:"-"`
}

// ComponentReplicas changes the replicas of a named component.
type ComponentReplicas struct {
	Name     string `json:"name"`
	Replicas int    `json:"replicas"`
}

// DeploymentPatch changes a deployment with DeploymentService.Update.
type DeploymentPatch struct {
	Description *string             `json:"description,omitempty"`
	Components  []ComponentReplicas `json:"components,omitempty"`
	// IfMatch, when set, makes the change conditional on this ETag: a
	// newer version is a ProblemError with status 412.
	IfMatch string `json:"-"`
}

// DeploymentStatusUpdate is a status report of an external controller,
// with DeploymentService.UpdateStatus.
type DeploymentStatusUpdate struct {
	// ResourceVersion, when not zero, must be the current version (else
	// a ProblemError with status 409).
	ResourceVersion int64                 `json:"resourceVersion,omitempty"`
	Phase           DeploymentPhase       `json:"phase,omitempty"`
	Message         *string               `json:"message,omitempty"`
	PackageRevision *string               `json:"packageRevision,omitempty"`
	Conditions      []DeploymentCondition `json:"conditions,omitempty"`
	// IfMatch, when set, must be the current ETag (else 412).
	IfMatch string `json:"-"`
}

// DeploymentService creates, reads, changes and deletes deployments. Get
// one with Client.Deployments.
type DeploymentService struct {
	c   *Client
	col collection[Deployment]
}

// Deployments returns the service for the deployments.
func (c *Client) Deployments() *DeploymentService {
	return &DeploymentService{c: c, col: newCollection[Deployment](c, "deployment", NephoranAPIPrefix, "deployments")}
}

// List returns the page of deployments opts select.
func (s *DeploymentService) List(ctx context.Context, opts ListOptions) (*Page[Deployment], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every deployment opts select.
func (s *DeploymentService) All(ctx context.Context, opts ListOptions) iter.Seq2[Deployment, error] {
	return s.col.all(ctx, opts)
}

// Get returns the deployment with identifier id, with its ETag.
func (s *DeploymentService) Get(ctx context.Context, id string) (*Deployment, error) {
	u, err := s.col.item(id)
	if err != nil {
		return nil, err
	}
	var d Deployment
	resp, err := s.c.do(ctx, call{method: http.MethodGet, url: u, out: &d})
	if err != nil {
		return nil, err
	}
	d.ETag = resp.header.Get("ETag")
	return &d, nil
}

// Create places and creates a deployment; it returns PENDING and the IMS
// realizes it (Wait for DeploymentActive). With spec.DryRun the answer is
// the plan and nothing is created. It is never retried. When no pool
// fits, or a package is unknown, the error is a ProblemError with status
// 422 (IsUnprocessable) whose detail names why each pool was refused; a
// name in use is 409 (IsConflict).
func (s *DeploymentService) Create(ctx context.Context, spec *DeploymentSpec) (*Deployment, error) {
	if spec == nil {
		return nil, errors.New("o2: nil DeploymentSpec")
	}
	if spec.Name == "" {
		return nil, errors.New("o2: DeploymentSpec.Name is empty")
	}
	var d Deployment
	resp, err := s.c.do(ctx, call{method: http.MethodPost, url: s.col.base, body: spec, out: &d})
	if err != nil {
		return nil, err
	}
	d.ETag = resp.header.Get("ETag")
	return &d, nil
}

// Update changes the description or the component replicas of the
// deployment id; a change of replicas scales its CNF instances (SCALING,
// then SCALED). It is never retried.
func (s *DeploymentService) Update(ctx context.Context, id string, patch DeploymentPatch) (*Deployment, error) {
	u, err := s.col.item(id)
	if err != nil {
		return nil, err
	}
	var d Deployment
	resp, err := s.c.do(ctx, call{method: http.MethodPatch, url: u, body: patch, contentType: contentTypeMergePatch, out: &d, header: ifMatch(patch.IfMatch)})
	if err != nil {
		return nil, err
	}
	d.ETag = resp.header.Get("ETag")
	return &d, nil
}

// Scale sets the replicas of one component of the deployment id.
func (s *DeploymentService) Scale(ctx context.Context, id, component string, replicas int) (*Deployment, error) {
	return s.Update(ctx, id, DeploymentPatch{Components: []ComponentReplicas{{Name: component, Replicas: replicas}}})
}

// UpdateStatus records the status report of an external controller
// (phase, message, package revision, conditions merged by type). It is
// never retried.
func (s *DeploymentService) UpdateStatus(ctx context.Context, id string, upd DeploymentStatusUpdate) (*Deployment, error) {
	u, err := s.col.item(id)
	if err != nil {
		return nil, err
	}
	var d Deployment
	resp, err := s.c.do(ctx, call{method: http.MethodPut, url: appendPath(u, "status"), body: upd, out: &d, header: ifMatch(upd.IfMatch)})
	if err != nil {
		return nil, err
	}
	d.ETag = resp.header.Get("ETag")
	return &d, nil
}

// Delete starts deleting the deployment id: DELETING until its CNF
// instances are gone, then 404 (WaitDeleted).
func (s *DeploymentService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}

// DeploymentError is what Wait returns when the deployment FAILED.
type DeploymentError struct {
	// Deployment is the deployment as last read, FAILED.
	Deployment *Deployment
}

// Error names the deployment and its problem detail.
func (e *DeploymentError) Error() string {
	detail := e.Deployment.Status.Message
	if p := e.Deployment.Status.Error; p != nil && p.Detail != "" {
		detail = p.Detail
	}
	return fmt.Sprintf("deployment %s (%s) FAILED: %s", e.Deployment.Name, e.Deployment.DeploymentID, detail)
}

// Wait polls the deployment id until it reaches phase and returns it. A
// deployment that turns FAILED first (when phase is not FAILED) is a
// *DeploymentError.
func (s *DeploymentService) Wait(ctx context.Context, id string, phase DeploymentPhase) (*Deployment, error) {
	var last *Deployment
	err := s.c.pollUntil(ctx, func() (bool, error) {
		d, err := s.Get(ctx, id)
		if err != nil {
			return false, err
		}
		last = d
		if d.Status.Phase == DeploymentFailed && phase != DeploymentFailed {
			return false, &DeploymentError{Deployment: d}
		}
		return d.Status.Phase == phase, nil
	})
	if err != nil {
		if last != nil && ctx.Err() != nil {
			return last, fmt.Errorf("o2: deployment %s is %s, not %s: %w", id, last.Status.Phase, phase, err)
		}
		return last, err
	}
	return last, nil
}

// WaitDeleted polls the deployment id until it is gone.
func (s *DeploymentService) WaitDeleted(ctx context.Context, id string) error {
	return s.c.pollUntil(ctx, func() (bool, error) {
		_, err := s.Get(ctx, id)
		if IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

func ifMatch(etag string) http.Header {
	if etag == "" {
		return nil
	}
	return http.Header{"If-Match": []string{etag}}
}
