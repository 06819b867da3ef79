package httpapi

import (
	"context"

	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/edge"
	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/provider"
	"github.com/nephoran/o2ims/internal/report"
)

// nephoranHandlers implements the Nephoran extensions under /o2ims/v1. The
// inventory collections there serve the same objects as the O2ims API.
type nephoranHandlers struct {
	inv *inventory.Service
	// api serves the inventory aliases as inventory v1 does; places the
	// locations and sites as v2 does.
	api, places inventoryAPI
	alarms      *alarms.Service
	providers   *provider.Registry
	lcm         *lcm.Service
	deployments *deployment.Service
	advisor     *advisor.Service
	report      *report.Builder
	changes     ChangeFeed
	// edge is nil while edge enrolment is off.
	edge     *edge.Service
	agentURL string
}

var _ nephapi.StrictServerInterface = (*nephoranHandlers)(nil)

func (h *nephoranHandlers) ListResourceTypes(ctx context.Context, req nephapi.ListResourceTypesRequestObject) (nephapi.ListResourceTypesResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, types, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetResourceTypeByID(ctx context.Context, req nephapi.GetResourceTypeByIDRequestObject) (nephapi.GetResourceTypeByIDResponseObject, error) {
	p := req.Params
	return h.api.get(ctx, types, req.ResourceTypeId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListResourcePools(ctx context.Context, req nephapi.ListResourcePoolsRequestObject) (nephapi.ListResourcePoolsResponseObject, error) {
	p := req.Params
	f, err := readFeed(ctx, h.changes, inventory.ResourcePoolSchema, deref(p.ChangedSince), deref(p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	page, err := h.inv.ListPools(ctx, inventory.V1, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker), deref(p.MinCapacity), f.conds...)
	if err != nil {
		return nil, err
	}
	return feedResponse(ctx, page, f), nil
}

func (h *nephoranHandlers) GetResourcePoolByID(ctx context.Context, req nephapi.GetResourcePoolByIDRequestObject) (nephapi.GetResourcePoolByIDResponseObject, error) {
	p := req.Params
	return h.api.pool(ctx, req.ResourcePoolId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListResources(ctx context.Context, req nephapi.ListResourcesRequestObject) (nephapi.ListResourcesResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, resources, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetResourceByID(ctx context.Context, req nephapi.GetResourceByIDRequestObject) (nephapi.GetResourceByIDResponseObject, error) {
	p := req.Params
	return h.api.get(ctx, resources, req.ResourceId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListDeploymentManagers(ctx context.Context, req nephapi.ListDeploymentManagersRequestObject) (nephapi.ListDeploymentManagersResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, dms, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetDeploymentManagerByID(ctx context.Context, req nephapi.GetDeploymentManagerByIDRequestObject) (nephapi.GetDeploymentManagerByIDResponseObject, error) {
	p := req.Params
	return h.api.deploymentManager(ctx, req.DeploymentManagerId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListAlarms(ctx context.Context, req nephapi.ListAlarmsRequestObject) (nephapi.ListAlarmsResponseObject, error) {
	p := req.Params
	page, err := h.alarms.List(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}
