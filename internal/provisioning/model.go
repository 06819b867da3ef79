package provisioning

import (
	"github.com/nephoran/o2ims/internal/query"
)

// Schema names the table the sqlstore migrations create for provisioning
// requests; its documents are ProvisioningRequestInfo (RequestInfo).
var Schema = &query.Schema{
	Name: "provisioning_requests", Object: "provisioning request", DocColumn: "doc",
	Attrs: []query.Attr{
		{Name: "provisioningRequestReference", Type: query.String},
		{Name: "provisioningRequestData", Type: query.Object, Complex: true},
		{Name: "provisionedResourceSet", Type: query.Object, Complex: true},
		{Name: "status", Type: query.Object, Complex: true},
	},
}

// The provisioning phases of a request (O2ims ProvisioningStatus
// provisioningPhase). PROGRESSING, FULFILLED and FAILED are the Phase
// values of the same names.
const (
	PhasePending     = "PENDING"
	PhaseProgressing = string(Progressing)
	PhaseFulfilled   = string(Fulfilled)
	PhaseFailed      = string(Failed)
	PhaseDeleting    = "DELETING"
)

// RequestData is O2ims ProvisioningRequestData: what the SMO asks for.
type RequestData struct {
	ProvisioningRequestID string         `json:"provisioningRequestId"`
	Name                  string         `json:"name"`
	Description           string         `json:"description"`
	TemplateName          string         `json:"templateName"`
	TemplateVersion       string         `json:"templateVersion"`
	TemplateParameters    map[string]any `json:"templateParameters"`
}

// ResourceStatus is O2ims ResourceProvisioningStatus: one created
// resource's provisioning phase.
type ResourceStatus struct {
	ResourceName              string        `json:"resourceName"`
	ResourceID                string        `json:"resourceId"`
	ResourceProvisioningPhase ResourcePhase `json:"resourceProvisioningPhase"`
}

// Status is O2ims ProvisioningStatus.
type Status struct {
	UpdateTime        string `json:"updateTime"`
	Message           string `json:"message"`
	ProvisioningPhase string `json:"provisioningPhase"`
	// InfrastructureResourceProvisioningStatus are the realizer's
	// resources, one status each.
	InfrastructureResourceProvisioningStatus []ResourceStatus `json:"infrastructureResourceProvisioningStatus"`
}

// ResourceSet is O2ims ProvisionedResourceSet. NodeClusterID is the
// deployment manager the request names (its deploymentManagerId): this
// server has no O2ims_InfrastructureCluster node clusters, and the
// deployment manager is the cluster or account the infrastructure lives
// in. InfrastructureResourceIDs are the inventory ids of the created
// resources that the inventory shows (none for a namespace).
type ResourceSet struct {
	NodeClusterID             string   `json:"nodeClusterId"`
	InfrastructureResourceIDs []string `json:"infrastructureResourceIds"`
}

// RequestInfo is O2ims ProvisioningRequestInfo, the stored and shown
// form of a provisioning request.
type RequestInfo struct {
	// ProvisioningRequestReference is the O-Cloud's own id of the request.
	ProvisioningRequestReference string      `json:"provisioningRequestReference"`
	ProvisioningRequestData      RequestData `json:"provisioningRequestData"`
	ProvisionedResourceSet       ResourceSet `json:"provisionedResourceSet"`
	Status                       Status      `json:"status"`
}
