package httpapi

import (
	"context"
	"net/http"

	artapi "github.com/nephoran/o2ims/internal/httpapi/gen/artifacts"
	"github.com/nephoran/o2ims/internal/httpapi/gen/common"
	provapi "github.com/nephoran/o2ims/internal/httpapi/gen/provisioning"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provisioning"
)

// provisioningHandlers implements the O2ims_InfrastructureProvisioning API.
type provisioningHandlers struct {
	svc *provisioning.Service
}

var _ provapi.StrictServerInterface = (*provisioningHandlers)(nil)

const (
	provisioningPrefix = "/o2ims-infrastructureProvisioning/v1"
	artifactsPrefix    = "/o2ims-infrastructureArtifacts/v1"
)

func (h *provisioningHandlers) GetAllVersions(context.Context, provapi.GetAllVersionsRequestObject) (provapi.GetAllVersionsResponseObject, error) {
	return provapi.GetAllVersions200JSONResponse(versionsOf(provisioningPrefix)), nil
}

func (h *provisioningHandlers) GetMinorVersions(context.Context, provapi.GetMinorVersionsRequestObject) (provapi.GetMinorVersionsResponseObject, error) {
	return provapi.GetMinorVersions200JSONResponse(versionsOf(provisioningPrefix)), nil
}

func versionsOf(prefix string) common.APIVersions {
	return common.APIVersions{UriPrefix: prefix, ApiVersions: []common.APIVersion{{Version: "1.0.0"}}}
}

func (h *provisioningHandlers) GetProvisioningRequests(ctx context.Context, req provapi.GetProvisioningRequestsRequestObject) (provapi.GetProvisioningRequestsResponseObject, error) {
	p := req.Params
	page, err := h.svc.List(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func requestData(body *provapi.ProvisioningRequestData) (provisioning.RequestData, error) {
	if body == nil {
		return provisioning.RequestData{}, ims.Errorf(ims.EINVALID, "a ProvisioningRequestData body is required")
	}
	return provisioning.RequestData{
		ProvisioningRequestID: body.ProvisioningRequestId.String(), Name: body.Name, Description: body.Description,
		TemplateName: body.TemplateName, TemplateVersion: body.TemplateVersion, TemplateParameters: body.TemplateParameters,
	}, nil
}

func (h *provisioningHandlers) CreateProvisioningRequest(ctx context.Context, req provapi.CreateProvisioningRequestRequestObject) (provapi.CreateProvisioningRequestResponseObject, error) {
	d, err := requestData(req.Body)
	if err != nil {
		return nil, err
	}
	info, err := h.svc.Create(ctx, d)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[provapi.ProvisioningRequestInfo](info)
	if err != nil {
		return nil, err
	}
	loc := provisioningPrefix + "/provisioningRequests/" + d.ProvisioningRequestID
	return provapi.CreateProvisioningRequest201JSONResponse{Body: v, Headers: provapi.CreateProvisioningRequest201ResponseHeaders{Location: &loc}}, nil
}

func (h *provisioningHandlers) GetProvisioningRequest(ctx context.Context, req provapi.GetProvisioningRequestRequestObject) (provapi.GetProvisioningRequestResponseObject, error) {
	info, err := h.svc.Get(ctx, req.ProvisioningRequestId.String())
	if err != nil {
		return nil, err
	}
	p := req.Params
	return one(provisioning.Schema, info, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *provisioningHandlers) UpdateProvisioningRequest(ctx context.Context, req provapi.UpdateProvisioningRequestRequestObject) (provapi.UpdateProvisioningRequestResponseObject, error) {
	d, err := requestData(req.Body)
	if err != nil {
		return nil, err
	}
	info, err := h.svc.Update(ctx, req.ProvisioningRequestId.String(), d)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[provapi.ProvisioningRequestInfo](info)
	if err != nil {
		return nil, err
	}
	return provapi.UpdateProvisioningRequest200JSONResponse(v), nil
}

func (h *provisioningHandlers) DeleteProvisioningRequest(ctx context.Context, req provapi.DeleteProvisioningRequestRequestObject) (provapi.DeleteProvisioningRequestResponseObject, error) {
	id := req.ProvisioningRequestId.String()
	if err := h.svc.Delete(ctx, id); err != nil {
		return nil, err
	}
	loc := provisioningPrefix + "/provisioningRequests/" + id
	return provapi.DeleteProvisioningRequest202Response{Headers: provapi.DeleteProvisioningRequest202ResponseHeaders{Location: &loc}}, nil
}

// artifactsHandlers implements the O2ims_InfrastructureArtifacts API.
type artifactsHandlers struct {
	svc *provisioning.Service
}

var _ artapi.StrictServerInterface = (*artifactsHandlers)(nil)

func (h *artifactsHandlers) GetAllVersions(context.Context, artapi.GetAllVersionsRequestObject) (artapi.GetAllVersionsResponseObject, error) {
	return artapi.GetAllVersions200JSONResponse(versionsOf(artifactsPrefix)), nil
}

func (h *artifactsHandlers) GetMinorVersions(context.Context, artapi.GetMinorVersionsRequestObject) (artapi.GetMinorVersionsResponseObject, error) {
	return artapi.GetMinorVersions200JSONResponse(versionsOf(artifactsPrefix)), nil
}

func (h *artifactsHandlers) GetManagedInfrastructureTemplates(ctx context.Context, req artapi.GetManagedInfrastructureTemplatesRequestObject) (artapi.GetManagedInfrastructureTemplatesResponseObject, error) {
	p := req.Params
	page, err := h.svc.ListTemplates(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *artifactsHandlers) GetManagedInfrastructureTemplate(ctx context.Context, req artapi.GetManagedInfrastructureTemplateRequestObject) (artapi.GetManagedInfrastructureTemplateResponseObject, error) {
	t, err := h.svc.Template(req.ManagedInfrastructureTemplateId)
	if err != nil {
		return nil, err
	}
	p := req.Params
	return one(provisioning.TemplateSchema, h.svc.TemplateInfo(t), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *artifactsHandlers) GetManagedInfrastructureTemplateDefaults(ctx context.Context, req artapi.GetManagedInfrastructureTemplateDefaultsRequestObject) (artapi.GetManagedInfrastructureTemplateDefaultsResponseObject, error) {
	t, err := h.svc.Template(req.ManagedInfrastructureTemplateId)
	if err != nil {
		return nil, err
	}
	d := t.Defaults
	if d == nil {
		d = map[string]any{}
	}
	return artapi.GetManagedInfrastructureTemplateDefaults200JSONResponse{ParameterDefaults: d}, nil
}

func (r listResponse) VisitGetProvisioningRequestsResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r listResponse) VisitGetManagedInfrastructureTemplatesResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetProvisioningRequestResponse(w http.ResponseWriter) error {
	return r.write(w)
}
func (r objectResponse) VisitGetManagedInfrastructureTemplateResponse(w http.ResponseWriter) error {
	return r.write(w)
}
