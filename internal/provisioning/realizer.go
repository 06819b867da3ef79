// Package provisioning serves the O2ims InfrastructureProvisioning API:
// provisioning requests that name a managed infrastructure template and
// its parameters, realized by the realizer of the template's kind
// (Kubernetes namespaces, AWS CloudFormation stacks, Azure ARM
// deployments) and followed until the infrastructure is in the inventory.
package provisioning

import (
	"context"
	"encoding/json"
	"time"
)

// Phase is where a realization stands after one call of a Realizer.
type Phase string

// The phases a Realizer reports.
const (
	// Progressing: the work is under way; call again after RetryAfter.
	Progressing Phase = "PROGRESSING"
	// Fulfilled: Apply's infrastructure is in place.
	Fulfilled Phase = "FULFILLED"
	// Failed: the realization cannot succeed without a change of the
	// request; Message says why in the infrastructure's own words.
	Failed Phase = "FAILED"
	// Deleted: Delete's infrastructure is gone.
	Deleted Phase = "DELETED"
)

// ResourcePhase is one created resource's provisioning phase, as the
// O2ims ResourceProvisioningStatus names it.
type ResourcePhase string

// The resource phases of O2ims ResourceProvisioningStatus.
const (
	ResourceProcessing            ResourcePhase = "PROCESSING"
	ResourceProvisioned           ResourcePhase = "PROVISIONED"
	ResourceAwaitingFreeResources ResourcePhase = "AWAITING_FREE_RESOURCES"
	ResourceFailed                ResourcePhase = "FAILED"
)

// Template is a managed infrastructure template.
type Template struct {
	// Name and Version identify the template; requests name both.
	Name    string
	Version string
	// Description is for people.
	Description string
	// Kind selects the Realizer: "kubernetes-namespace",
	// "aws-cloudformation", "azure-arm".
	Kind string
	// ParameterSchema is the OpenAPI v3 schema object that a request's
	// templateParameters must satisfy.
	ParameterSchema json.RawMessage
	// Defaults are the parameter values used when a request leaves them
	// out.
	Defaults map[string]any
	// Body is the template a cloud kind submits as is (a CloudFormation
	// template, an ARM template); empty for kinds that need none.
	Body []byte
}

// Job is one realization asked of a Realizer.
type Job struct {
	// RequestID is the provisioningRequestId; realizers derive the names
	// of what they create from it, so a repeated call finds its own work.
	RequestID string
	// Template is the request's template.
	Template Template
	// Parameters are the request's templateParameters, validated against
	// the template's schema, with its defaults filled in.
	Parameters map[string]any
	// State is what the realizer returned in Progress.State last time
	// (nil on the first call); it is stored with the request, so a
	// realization resumes after a restart.
	State json.RawMessage
}

// Resource is one piece of infrastructure a realization created.
type Resource struct {
	// Name is the infrastructure's own name (the stack's logical id, the
	// VM name, the namespace).
	Name string
	// ID is the id of the resource as it appears in the O2ims inventory
	// once discovered (empty until then).
	ID string
	// Phase and Message are its provisioning status.
	Phase   ResourcePhase
	Message string
}

// Progress is the outcome of one Realizer call.
type Progress struct {
	Phase   Phase
	Message string
	// Resources are the pieces of infrastructure so far.
	Resources []Resource
	// State is handed back in the next Job of the same request.
	State json.RawMessage
	// RetryAfter is how soon to call again while Progressing (zero: the
	// service's default poll interval).
	RetryAfter time.Duration
}

// Realizer creates, updates and deletes the infrastructure of one
// template kind. Both calls are idempotent and are repeated until they
// report a final phase (Fulfilled or Failed for Apply, Deleted or Failed
// for Delete). A returned error is transient (the call is retried with
// backoff); a permanent failure is a Progress with Phase Failed.
type Realizer interface {
	Apply(ctx context.Context, job Job) (Progress, error)
	Delete(ctx context.Context, job Job) (Progress, error)
}

// Validator is implemented by a Realizer that checks parameters against
// live facts the schema cannot hold (a cluster that exists, an instance
// type the provider supports) before a request is accepted. The error's
// message is shown to the client.
type Validator interface {
	Validate(ctx context.Context, t Template, params map[string]any) error
}
