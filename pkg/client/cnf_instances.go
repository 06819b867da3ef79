package o2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"path"
	"time"
)

// InstantiationState tells whether a CNF instance is deployed.
type InstantiationState string

// The instantiation states of CNFInstance.InstantiationState.
const (
	NotInstantiated InstantiationState = "NOT_INSTANTIATED"
	Instantiated    InstantiationState = "INSTANTIATED"
)

// CNFPhase is what a CNF instance is doing: its instantiation state while
// no operation runs, else the operation under way, or FAILED after a
// failed instantiation or termination.
type CNFPhase string

// The phases of CNFInstance.Phase.
const (
	PhaseNotInstantiated CNFPhase = "NOT_INSTANTIATED"
	PhaseInstantiating   CNFPhase = "INSTANTIATING"
	PhaseInstantiated    CNFPhase = "INSTANTIATED"
	PhaseScaling         CNFPhase = "SCALING"
	PhaseTerminating     CNFPhase = "TERMINATING"
	PhaseFailed          CNFPhase = "FAILED"
)

// ScaleStatus is the scale level of one aspect of an instance.
type ScaleStatus struct {
	AspectID   string `json:"aspectId"`
	ScaleLevel int    `json:"scaleLevel"`
}

// CNFResourceRef names a Kubernetes object an instance created.
type CNFResourceRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// InstantiatedCNFInfo describes where and how an instance is deployed.
type InstantiatedCNFInfo struct {
	// FlavourID is the flavour deployed.
	FlavourID string `json:"flavourId"`
	// DeploymentManagerID identifies the cluster.
	DeploymentManagerID string `json:"deploymentManagerId"`
	// ResourcePoolID identifies the pool whose nodes the pods run on;
	// empty when the instance may use any node.
	ResourcePoolID string `json:"resourcePoolId,omitempty"`
	// ResourcePoolName is the pool's node label value
	// (nephoran.io/resource-pool), fixed at instantiation.
	ResourcePoolName string `json:"resourcePoolName,omitempty"`
	// Namespace is the Kubernetes namespace of the instance.
	Namespace string `json:"namespace"`
	// ScaleStatus is the level of each scaling aspect.
	ScaleStatus []ScaleStatus `json:"scaleStatus"`
	// Replicas is the desired replica count of the instance's workloads.
	Replicas int `json:"replicas"`
	// ReadyReplicas is the number of them that are ready.
	ReadyReplicas int `json:"readyReplicas"`
	// Resources are the Kubernetes objects the instance created.
	Resources []CNFResourceRef `json:"resources"`
	// AdditionalParams are those given to Instantiate.
	AdditionalParams map[string]any `json:"additionalParams,omitempty"`
}

// CNFInstance is a CNF instance: a package's descriptor (VNFD) deployed, or
// to be deployed, onto a deployment manager. Extensions are excluded from
// lists unless selected.
type CNFInstance struct {
	// CNFInstanceID identifies the instance.
	CNFInstanceID string `json:"cnfInstanceId"`
	// VnfInstanceName is the instance's name.
	VnfInstanceName string `json:"vnfInstanceName,omitempty"`
	// VnfInstanceDescription is a human-readable description.
	VnfInstanceDescription string `json:"vnfInstanceDescription,omitempty"`
	// VnfdID identifies the descriptor the instance deploys.
	VnfdID string `json:"vnfdId"`
	// PackageID identifies the package of that descriptor.
	PackageID string `json:"packageId,omitempty"`
	// FlavourID is the flavour chosen at creation or instantiation.
	FlavourID string `json:"flavourId,omitempty"`
	// InstantiationState tells whether the instance is deployed.
	InstantiationState InstantiationState `json:"instantiationState"`
	// Phase tells what the instance is doing.
	Phase CNFPhase `json:"phase"`
	// InstantiatedCNFInfo describes the deployment; nil while the
	// instance is not instantiated.
	InstantiatedCNFInfo *InstantiatedCNFInfo `json:"instantiatedCnfInfo,omitempty"`
	// CreatedAt is when the instance was created.
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Extensions are implementation-specific attributes, such as the
	// operation under way.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// CreateCNFInstanceRequest is a new CNF instance, as submitted to
// CNFInstanceService.Create.
type CreateCNFInstanceRequest struct {
	// VnfInstanceName is the instance's name; optional.
	VnfInstanceName string `json:"vnfInstanceName,omitempty"`
	// VnfInstanceDescription is a human-readable description; optional.
	VnfInstanceDescription string `json:"vnfInstanceDescription,omitempty"`
	// VnfdID identifies the descriptor, and so the package, to deploy;
	// it is required.
	VnfdID string `json:"vnfdId"`
	// FlavourID is the default flavour of Instantiate; optional.
	FlavourID string `json:"flavourId,omitempty"`
}

// InstantiateRequest deploys a CNF instance, with
// CNFInstanceService.Instantiate.
type InstantiateRequest struct {
	// FlavourID is the flavour to deploy; empty selects the flavour the
	// instance was created with.
	FlavourID string `json:"flavourId"`
	// DeploymentManagerID identifies the Kubernetes cluster; it is
	// required.
	DeploymentManagerID string `json:"deploymentManagerId"`
	// ResourcePoolID, when set, confines the pods to the nodes of this
	// pool of the cluster.
	ResourcePoolID string `json:"resourcePoolId,omitempty"`
	// Namespace is the Kubernetes namespace; empty selects
	// "cnf-<first 8 characters of the instance ID>".
	Namespace string `json:"namespace,omitempty"`
	// AdditionalParams are passed to the package, such as Helm values.
	AdditionalParams map[string]any `json:"additionalParams,omitempty"`
}

// ScaleType tells whether Scale adds or removes replicas.
type ScaleType string

// The scale types of ScaleRequest.Type.
const (
	ScaleOut ScaleType = "SCALE_OUT"
	ScaleIn  ScaleType = "SCALE_IN"
)

// ScaleRequest scales one aspect of an instantiated CNF instance, with
// CNFInstanceService.Scale.
type ScaleRequest struct {
	// Type is ScaleOut or ScaleIn; it is required.
	Type ScaleType `json:"type"`
	// AspectID names a scaling aspect of the package; it is required.
	AspectID string `json:"aspectId"`
	// NumberOfSteps is the number of levels to move; zero means 1.
	NumberOfSteps int `json:"numberOfSteps,omitempty"`
}

// TerminationType tells how Terminate stops the pods of an instance.
type TerminationType string

// The termination types of TerminateRequest.TerminationType.
const (
	// Graceful lets the pods shut down, within
	// TerminateRequest.GracefulTerminationTimeout.
	Graceful TerminationType = "GRACEFUL"
	// Forceful deletes everything at once.
	Forceful TerminationType = "FORCEFUL"
)

// TerminateRequest removes everything a CNF instance deployed, with
// CNFInstanceService.Terminate.
type TerminateRequest struct {
	// TerminationType is Graceful or Forceful; empty selects Graceful.
	TerminationType TerminationType
	// GracefulTerminationTimeout bounds a graceful termination; it is
	// sent in whole seconds, rounded up. Zero leaves the IMS's default.
	GracefulTerminationTimeout time.Duration
}

// MarshalJSON returns r as the request body of the IMS.
func (r TerminateRequest) MarshalJSON() ([]byte, error) {
	body := struct {
		TerminationType            TerminationType `json:"terminationType"`
		GracefulTerminationTimeout *int64          `json:"gracefulTerminationTimeout,omitempty"`
	}{TerminationType: r.TerminationType}
	if body.TerminationType == "" {
		body.TerminationType = Graceful
	}
	if r.GracefulTerminationTimeout > 0 {
		secs := int64((r.GracefulTerminationTimeout + time.Second - 1) / time.Second)
		body.GracefulTerminationTimeout = &secs
	}
	return json.Marshal(body)
}

// CNFInstanceService creates, deploys, scales, terminates and deletes CNF
// instances. Instantiate, Scale and Terminate start a lifecycle operation
// and return at once, with the LcmOpOcc that tracks it: wait for it with
// LcmOpOccService.Wait, or for the instance with WaitForState. One
// operation runs at a time per instance; starting another meanwhile is a
// ProblemError with status 409 (IsConflict). Get one with
// Client.CNFInstances.
type CNFInstanceService struct {
	c   *Client
	col collection[CNFInstance]
}

// CNFInstances returns the service for the CNF instances.
func (c *Client) CNFInstances() *CNFInstanceService {
	return &CNFInstanceService{c: c, col: newCollection[CNFInstance](c, "CNF instance", NephoranAPIPrefix, "cnfInstances")}
}

// List returns the page of CNF instances opts select.
func (s *CNFInstanceService) List(ctx context.Context, opts ListOptions) (*Page[CNFInstance], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every CNF instance opts select, fetching pages of
// opts.Limit as needed.
func (s *CNFInstanceService) All(ctx context.Context, opts ListOptions) iter.Seq2[CNFInstance, error] {
	return s.col.all(ctx, opts)
}

// Get returns the CNF instance with identifier id, with its replica counts
// as the cluster reports them now.
func (s *CNFInstanceService) Get(ctx context.Context, id string) (*CNFInstance, error) {
	return s.col.get(ctx, id)
}

// Create creates a CNF instance of the descriptor req.VnfdID, not
// instantiated. It is never retried. A descriptor no package implements
// is a ProblemError with status 422 (IsUnprocessable).
func (s *CNFInstanceService) Create(ctx context.Context, req CreateCNFInstanceRequest) (*CNFInstance, error) {
	if req.VnfdID == "" {
		return nil, errors.New("o2: CreateCNFInstanceRequest.VnfdID is empty")
	}
	return s.col.create(ctx, req)
}

// Delete deletes the CNF instance with identifier id. Only an instance
// that is not instantiated can be deleted; else the answer is a
// ProblemError with status 409 (IsConflict).
func (s *CNFInstanceService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}

// Instantiate starts deploying the instance id onto a deployment manager
// and returns the operation, STARTING. It is never retried. An unknown
// flavour, deployment manager or pool, or a pool of another deployment
// manager, is a ProblemError with status 422 (IsUnprocessable); an
// instance instantiated already or busy with another operation, one with
// status 409 (IsConflict).
func (s *CNFInstanceService) Instantiate(ctx context.Context, id string, req InstantiateRequest) (*LcmOpOcc, error) {
	if req.DeploymentManagerID == "" {
		return nil, errors.New("o2: InstantiateRequest.DeploymentManagerID is empty")
	}
	return s.start(ctx, id, "instantiate", req)
}

// Scale starts scaling an aspect of the instantiated instance id and
// returns the operation, STARTING. It is never retried. An unknown aspect,
// or a level beyond 0 to the aspect's maximum, is a ProblemError with
// status 422 (IsUnprocessable); an instance not instantiated or busy, one
// with status 409 (IsConflict).
func (s *CNFInstanceService) Scale(ctx context.Context, id string, req ScaleRequest) (*LcmOpOcc, error) {
	switch {
	case req.Type != ScaleOut && req.Type != ScaleIn:
		return nil, fmt.Errorf("o2: ScaleRequest.Type %q is neither %s nor %s", req.Type, ScaleOut, ScaleIn)
	case req.AspectID == "":
		return nil, errors.New("o2: ScaleRequest.AspectID is empty")
	case req.NumberOfSteps < 0:
		return nil, fmt.Errorf("o2: ScaleRequest.NumberOfSteps %d is negative", req.NumberOfSteps)
	}
	return s.start(ctx, id, "scale", req)
}

// Terminate starts removing everything the instance id deployed and
// returns the operation, STARTING; once it completes the instance is
// NOT_INSTANTIATED again and can be deleted. It is never retried. An
// instance not instantiated or busy is a ProblemError with status 409
// (IsConflict).
func (s *CNFInstanceService) Terminate(ctx context.Context, id string, req TerminateRequest) (*LcmOpOcc, error) {
	if req.GracefulTerminationTimeout < 0 {
		return nil, errors.New("o2: TerminateRequest.GracefulTerminationTimeout is negative")
	}
	return s.start(ctx, id, "terminate", req)
}

// start POSTs req to the task resource of instance id and returns the
// operation of the 202 answer; its ID comes from the Location header
// should the body lack it.
func (s *CNFInstanceService) start(ctx context.Context, id, task string, req any) (*LcmOpOcc, error) {
	var op LcmOpOcc
	resp, err := s.col.action(ctx, id, task, req, &op)
	if err != nil {
		return nil, err
	}
	if op.ID == "" {
		if loc := resp.header.Get("Location"); loc != "" {
			op.ID = path.Base(loc)
		}
	}
	if op.ID == "" {
		return nil, fmt.Errorf("o2: the answer to %s of CNF instance %s names no operation", task, id)
	}
	return &op, nil
}

// WaitFor polls the instance id, with backoff, until done reports true of
// it, and returns it then. It returns the error of a failed GET (after the
// retries of idempotent requests), or once ctx ends, an error wrapping
// ctx's that tells the instance's last phase; with an error, the instance
// last read, if any, is returned too.
func (s *CNFInstanceService) WaitFor(ctx context.Context, id string, done func(*CNFInstance) bool) (*CNFInstance, error) {
	if done == nil {
		return nil, errors.New("o2: nil condition")
	}
	var last *CNFInstance
	err := s.c.pollUntil(ctx, func() (bool, error) {
		inst, err := s.Get(ctx, id)
		if err != nil {
			return false, err
		}
		last = inst
		return done(inst), nil
	})
	if err != nil {
		if last != nil && ctx.Err() != nil {
			return last, fmt.Errorf("o2: waiting for CNF instance %s (phase %s): %w", id, last.Phase, err)
		}
		return last, err
	}
	return last, nil
}

// WaitForState polls the instance id until its Phase is phase, such as
// PhaseInstantiated (idle and deployed) or PhaseNotInstantiated, and
// returns it. Since an idle instance's phase is its instantiation state,
// WaitForState(ctx, id, "INSTANTIATED") waits until the instance is
// deployed and no operation runs. It fails early, with the instance, when
// the phase becomes PhaseFailed while waiting for another phase; see the
// operation's LcmOpOcc.Error for why.
func (s *CNFInstanceService) WaitForState(ctx context.Context, id string, phase CNFPhase) (*CNFInstance, error) {
	if phase == "" {
		return nil, errors.New("o2: empty phase")
	}
	inst, err := s.WaitFor(ctx, id, func(i *CNFInstance) bool {
		return i.Phase == phase || i.Phase == PhaseFailed
	})
	if err == nil && inst.Phase != phase {
		return inst, fmt.Errorf("o2: CNF instance %s is %s, not %s", id, inst.Phase, phase)
	}
	return inst, err
}
