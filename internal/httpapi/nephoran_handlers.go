package httpapi

import (
	"context"

	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/deployment"
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
	// dmsCredentials: see Options.DMSCredentials.
	dmsCredentials func(providerName string) (map[string]any, bool)
	alarms         *alarms.Service
	providers      *provider.Registry
	lcm            *lcm.Service
	deployments    *deployment.Service
	advisor        *advisor.Service
	report         *report.Builder
	changes        ChangeFeed
}

var _ nephapi.StrictServerInterface = (*nephoranHandlers)(nil)

func (h *nephoranHandlers) ListResourceTypes(ctx context.Context, req nephapi.ListResourceTypesRequestObject) (nephapi.ListResourceTypesResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.ResourceTypeSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetResourceTypeByID(ctx context.Context, req nephapi.GetResourceTypeByIDRequestObject) (nephapi.GetResourceTypeByIDResponseObject, error) {
	p := req.Params
	doc, err := h.inv.Get(ctx, inventory.ResourceTypeSchema, req.ResourceTypeId.String())
	if err != nil {
		return nil, err
	}
	return one(inventory.ResourceTypeSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListResourcePools(ctx context.Context, req nephapi.ListResourcePoolsRequestObject) (nephapi.ListResourcePoolsResponseObject, error) {
	p := req.Params
	f, err := readFeed(ctx, h.changes, inventory.ResourcePoolSchema, deref(p.ChangedSince), deref(p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	page, err := h.inv.ListPools(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker), deref(p.MinCapacity), f.conds...)
	if err != nil {
		return nil, err
	}
	return feedResponse(ctx, page, f), nil
}

func (h *nephoranHandlers) GetResourcePoolByID(ctx context.Context, req nephapi.GetResourcePoolByIDRequestObject) (nephapi.GetResourcePoolByIDResponseObject, error) {
	p := req.Params
	doc, err := h.inv.GetPool(ctx, req.ResourcePoolId.String())
	if err != nil {
		return nil, err
	}
	return one(inventory.ResourcePoolSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListResources(ctx context.Context, req nephapi.ListResourcesRequestObject) (nephapi.ListResourcesResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.ResourceSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetResourceByID(ctx context.Context, req nephapi.GetResourceByIDRequestObject) (nephapi.GetResourceByIDResponseObject, error) {
	p := req.Params
	doc, err := h.inv.Get(ctx, inventory.ResourceSchema, req.ResourceId.String())
	if err != nil {
		return nil, err
	}
	return one(inventory.ResourceSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListDeploymentManagers(ctx context.Context, req nephapi.ListDeploymentManagersRequestObject) (nephapi.ListDeploymentManagersResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.DeploymentManagerSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *nephoranHandlers) GetDeploymentManagerByID(ctx context.Context, req nephapi.GetDeploymentManagerByIDRequestObject) (nephapi.GetDeploymentManagerByIDResponseObject, error) {
	p := req.Params
	doc, err := h.inv.Get(ctx, inventory.DeploymentManagerSchema, req.DeploymentManagerId.String())
	if err != nil {
		return nil, err
	}
	obj, err := withDMSCredentials(ctx, h.dmsCredentials, doc)
	if err != nil {
		return nil, err
	}
	return one(inventory.DeploymentManagerSchema, obj, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *nephoranHandlers) ListAlarms(ctx context.Context, req nephapi.ListAlarmsRequestObject) (nephapi.ListAlarmsResponseObject, error) {
	p := req.Params
	page, err := h.alarms.List(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}
