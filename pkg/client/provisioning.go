package o2

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
)

// The roots of the provisioning APIs, relative to Config.Endpoint.
const (
	// ProvisioningAPIPrefix is the root of the
	// O2ims_InfrastructureProvisioning API, version 1.
	ProvisioningAPIPrefix = "/o2ims-infrastructureProvisioning/v1"
	// ArtifactsAPIPrefix is the root of the O2ims_InfrastructureArtifacts
	// API, version 1: the managed infrastructure templates.
	ArtifactsAPIPrefix = "/o2ims-infrastructureArtifacts/v1"
)

// ProvisioningPhase is where a provisioning request stands.
type ProvisioningPhase string

// The provisioning phases.
const (
	ProvisioningPending     ProvisioningPhase = "PENDING"
	ProvisioningProgressing ProvisioningPhase = "PROGRESSING"
	ProvisioningFulfilled   ProvisioningPhase = "FULFILLED"
	ProvisioningFailed      ProvisioningPhase = "FAILED"
	ProvisioningDeleting    ProvisioningPhase = "DELETING"
)

// ProvisioningRequestData is what a provisioning request asks for: a
// template by name and version, and its parameters.
type ProvisioningRequestData struct {
	// ProvisioningRequestID identifies the request; the caller chooses
	// it (a UUID).
	ProvisioningRequestID string `json:"provisioningRequestId" yaml:"provisioningRequestId"`
	Name                  string `json:"name" yaml:"name"`
	Description           string `json:"description" yaml:"description"`
	TemplateName          string `json:"templateName" yaml:"templateName"`
	TemplateVersion       string `json:"templateVersion" yaml:"templateVersion"`
	// TemplateParameters satisfy the template's ParameterSchema; every
	// template takes deploymentManagerId.
	TemplateParameters map[string]any `json:"templateParameters" yaml:"templateParameters"`
}

// ResourceProvisioningStatus is one created resource's phase
// (PROCESSING, PROVISIONED, AWAITING_FREE_RESOURCES, FAILED).
type ResourceProvisioningStatus struct {
	ResourceName              string `json:"resourceName"`
	ResourceID                string `json:"resourceId"`
	ResourceProvisioningPhase string `json:"resourceProvisioningPhase"`
}

// ProvisioningStatus is a provisioning request's status.
type ProvisioningStatus struct {
	UpdateTime                               string                       `json:"updateTime"`
	Message                                  string                       `json:"message"`
	ProvisioningPhase                        ProvisioningPhase            `json:"provisioningPhase"`
	InfrastructureResourceProvisioningStatus []ResourceProvisioningStatus `json:"infrastructureResourceProvisioningStatus"`
}

// ProvisionedResourceSet is what a request provisioned: the deployment
// manager it lives in (NodeClusterID) and the inventory ids of the
// created resources the inventory shows.
type ProvisionedResourceSet struct {
	NodeClusterID             string   `json:"nodeClusterId"`
	InfrastructureResourceIDs []string `json:"infrastructureResourceIds"`
}

// ProvisioningRequest is a provisioning request as the IMS shows it.
type ProvisioningRequest struct {
	// ProvisioningRequestReference is the IMS's own identifier of it.
	ProvisioningRequestReference string                  `json:"provisioningRequestReference"`
	ProvisioningRequestData      ProvisioningRequestData `json:"provisioningRequestData"`
	ProvisionedResourceSet       ProvisionedResourceSet  `json:"provisionedResourceSet"`
	Status                       ProvisioningStatus      `json:"status"`
}

// ProvisioningRequestService creates, reads, changes and deletes
// provisioning requests. Get one with Client.ProvisioningRequests.
type ProvisioningRequestService struct {
	c   *Client
	col collection[ProvisioningRequest]
}

// ProvisioningRequests returns the service for the provisioning requests.
func (c *Client) ProvisioningRequests() *ProvisioningRequestService {
	return &ProvisioningRequestService{c: c, col: newCollection[ProvisioningRequest](c, "provisioning request", ProvisioningAPIPrefix, "provisioningRequests")}
}

// List returns the page of provisioning requests opts select.
func (s *ProvisioningRequestService) List(ctx context.Context, opts ListOptions) (*Page[ProvisioningRequest], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every provisioning request opts select.
func (s *ProvisioningRequestService) All(ctx context.Context, opts ListOptions) iter.Seq2[ProvisioningRequest, error] {
	return s.col.all(ctx, opts)
}

// Get returns the provisioning request with identifier id.
func (s *ProvisioningRequestService) Get(ctx context.Context, id string) (*ProvisioningRequest, error) {
	return s.col.get(ctx, id)
}

// Create submits a provisioning request; it is PENDING and the IMS
// realizes it (Wait for ProvisioningFulfilled). It is never retried. A
// parameter outside the template's schema, or a deploymentManagerId that
// names no suitable cluster, is a ProblemError with status 400 whose
// detail names the parameter; an id in use is 409 (IsConflict).
func (s *ProvisioningRequestService) Create(ctx context.Context, d ProvisioningRequestData) (*ProvisioningRequest, error) {
	if d.ProvisioningRequestID == "" {
		return nil, errors.New("o2: ProvisioningRequestData.ProvisioningRequestID is empty")
	}
	return s.col.create(ctx, d)
}

// Update replaces the data of the request d.ProvisioningRequestID; a
// changed template version or parameters applies it again. It is never
// retried.
func (s *ProvisioningRequestService) Update(ctx context.Context, d ProvisioningRequestData) (*ProvisioningRequest, error) {
	u, err := s.col.item(d.ProvisioningRequestID)
	if err != nil {
		return nil, err
	}
	var out ProvisioningRequest
	if _, err := s.c.do(ctx, call{method: http.MethodPut, url: u, body: d, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete starts deleting the request id and its infrastructure: DELETING
// until the infrastructure is gone, then 404 (WaitDeleted).
func (s *ProvisioningRequestService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}

// ProvisioningError is what Wait returns when the request FAILED.
type ProvisioningError struct {
	// Request is the request as last read, FAILED.
	Request *ProvisioningRequest
}

// Error names the request and its status message.
func (e *ProvisioningError) Error() string {
	return fmt.Sprintf("provisioning request %s FAILED: %s", e.Request.ProvisioningRequestData.ProvisioningRequestID, e.Request.Status.Message)
}

// Wait polls the request id until it reaches phase and returns it. A
// request that turns FAILED first (when phase is not FAILED) is a
// *ProvisioningError.
func (s *ProvisioningRequestService) Wait(ctx context.Context, id string, phase ProvisioningPhase) (*ProvisioningRequest, error) {
	var last *ProvisioningRequest
	err := s.c.pollUntil(ctx, func() (bool, error) {
		r, err := s.Get(ctx, id)
		if err != nil {
			return false, err
		}
		last = r
		if r.Status.ProvisioningPhase == ProvisioningFailed && phase != ProvisioningFailed {
			return false, &ProvisioningError{Request: r}
		}
		return r.Status.ProvisioningPhase == phase, nil
	})
	return last, err
}

// WaitDeleted polls the request id until it is gone.
func (s *ProvisioningRequestService) WaitDeleted(ctx context.Context, id string) error {
	return s.c.pollUntil(ctx, func() (bool, error) {
		_, err := s.Get(ctx, id)
		if IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
}

// ManagedInfrastructureTemplate is a template provisioning requests name.
type ManagedInfrastructureTemplate struct {
	ArtifactResourceID string `json:"artifactResourceId"`
	Name               string `json:"name"`
	Version            string `json:"version"`
	Description        string `json:"description"`
	// ParameterSchema is the OpenAPI v3 schema of the parameters.
	ParameterSchema map[string]any `json:"parameterSchema"`
	// Extensions hold "kind" (the realizer kind) and "realizable"
	// ("true" when the IMS can realize the template).
	Extensions map[string]string `json:"extensions,omitempty"`
}

// TemplateService reads the managed infrastructure templates. Get one
// with Client.Templates.
type TemplateService struct {
	c   *Client
	col collection[ManagedInfrastructureTemplate]
}

// Templates returns the service for the managed infrastructure templates.
func (c *Client) Templates() *TemplateService {
	return &TemplateService{c: c, col: newCollection[ManagedInfrastructureTemplate](c, "managed infrastructure template", ArtifactsAPIPrefix, "managedInfrastructureTemplates")}
}

// List returns the page of templates opts select.
func (s *TemplateService) List(ctx context.Context, opts ListOptions) (*Page[ManagedInfrastructureTemplate], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every template opts select.
func (s *TemplateService) All(ctx context.Context, opts ListOptions) iter.Seq2[ManagedInfrastructureTemplate, error] {
	return s.col.all(ctx, opts)
}

// Get returns the template id: its artifactResourceId, or
// "<name>.<version>".
func (s *TemplateService) Get(ctx context.Context, id string) (*ManagedInfrastructureTemplate, error) {
	return s.col.get(ctx, id)
}

// Defaults returns the values the template id uses for parameters a
// request leaves out.
func (s *TemplateService) Defaults(ctx context.Context, id string) (map[string]any, error) {
	u, err := s.col.item(id)
	if err != nil {
		return nil, err
	}
	var out struct {
		ParameterDefaults map[string]any `json:"parameterDefaults"`
	}
	if err := s.c.getJSON(ctx, appendPath(u, "defaults"), &out); err != nil {
		return nil, err
	}
	return out.ParameterDefaults, nil
}
