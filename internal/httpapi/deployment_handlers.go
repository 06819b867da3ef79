package httpapi

import (
	"context"

	"github.com/nephoran/o2ims/internal/deployment"
	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	"github.com/nephoran/o2ims/internal/ims"
)

const deploymentsPath = "/o2ims/v1/deployments/"

func (h *nephoranHandlers) ListDeployments(ctx context.Context, req nephapi.ListDeploymentsRequestObject) (nephapi.ListDeploymentsResponseObject, error) {
	p := req.Params
	f, err := readFeed(ctx, h.changes, deployment.Schema, deref(p.ChangedSince), deref(p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	page, err := h.deployments.List(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker), f.conds...)
	if err != nil {
		return nil, err
	}
	return feedResponse(ctx, page, f), nil
}

func (h *nephoranHandlers) CreateDeployment(ctx context.Context, req nephapi.CreateDeploymentRequestObject) (nephapi.CreateDeploymentResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	spec, err := fromValue[deployment.Spec](req.Body)
	if err != nil {
		return nil, err
	}
	d, err := h.deployments.Create(ctx, spec)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[nephapi.Deployment](d)
	if err != nil {
		return nil, err
	}
	if spec.DryRun {
		return nephapi.CreateDeployment200JSONResponse(v), nil
	}
	loc, etag := deploymentsPath+d.DeploymentID, d.ETag()
	return nephapi.CreateDeployment201JSONResponse{Body: v, Headers: nephapi.CreateDeployment201ResponseHeaders{Location: &loc, ETag: &etag}}, nil
}

func (h *nephoranHandlers) GetDeployment(ctx context.Context, req nephapi.GetDeploymentRequestObject) (nephapi.GetDeploymentResponseObject, error) {
	d, err := h.deployments.Get(ctx, req.DeploymentId.String())
	if err != nil {
		return nil, err
	}
	p := req.Params
	r, err := view[nephapi.Deployment](deployment.Schema, d, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
	r.etag = d.ETag()
	return r, err
}

func (h *nephoranHandlers) UpdateDeployment(ctx context.Context, req nephapi.UpdateDeploymentRequestObject) (nephapi.UpdateDeploymentResponseObject, error) {
	var body any = req.ApplicationMergePatchPlusJSONBody
	if req.JSONBody != nil {
		body = req.JSONBody
	}
	if req.JSONBody == nil && req.ApplicationMergePatchPlusJSONBody == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	patch, err := fromValue[deployment.Patch](body)
	if err != nil {
		return nil, err
	}
	d, err := h.deployments.Update(ctx, req.DeploymentId.String(), patch, deref(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	v, etag, err := deploymentView(d)
	return nephapi.UpdateDeployment200JSONResponse{Body: v, Headers: nephapi.UpdateDeployment200ResponseHeaders{ETag: &etag}}, err
}

func (h *nephoranHandlers) DeleteDeployment(ctx context.Context, req nephapi.DeleteDeploymentRequestObject) (nephapi.DeleteDeploymentResponseObject, error) {
	d, err := h.deployments.Delete(ctx, req.DeploymentId.String())
	if err != nil {
		return nil, err
	}
	v, err := fromValue[nephapi.Deployment](d)
	loc := deploymentsPath + d.DeploymentID
	return nephapi.DeleteDeployment202JSONResponse{Body: v, Headers: nephapi.DeleteDeployment202ResponseHeaders{Location: &loc}}, err
}

func (h *nephoranHandlers) UpdateDeploymentStatus(ctx context.Context, req nephapi.UpdateDeploymentStatusRequestObject) (nephapi.UpdateDeploymentStatusResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a body is required")
	}
	upd, err := fromValue[deployment.StatusUpdate](req.Body)
	if err != nil {
		return nil, err
	}
	d, err := h.deployments.PutStatus(ctx, req.DeploymentId.String(), upd, deref(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	v, etag, err := deploymentView(d)
	return nephapi.UpdateDeploymentStatus200JSONResponse{Body: v, Headers: nephapi.UpdateDeploymentStatus200ResponseHeaders{ETag: &etag}}, err
}

func deploymentView(d deployment.Deployment) (nephapi.Deployment, string, error) {
	v, err := fromValue[nephapi.Deployment](d)
	return v, d.ETag(), err
}
