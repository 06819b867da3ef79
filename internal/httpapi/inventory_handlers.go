package httpapi

import (
	"context"

	"github.com/nephoran/o2ims/internal/httpapi/gen/common"
	invapi "github.com/nephoran/o2ims/internal/httpapi/gen/inventory"
	"github.com/nephoran/o2ims/internal/inventory"
)

// inventoryHandlers implements the O2ims_InfrastructureInventory API.
type inventoryHandlers struct {
	inv *inventory.Service
}

var _ invapi.StrictServerInterface = (*inventoryHandlers)(nil)

const inventoryPrefix = "/o2ims-infrastructureInventory/v1"

func inventoryVersions() common.APIVersions {
	return common.APIVersions{UriPrefix: inventoryPrefix, ApiVersions: []common.APIVersion{{Version: "1.0.0"}}}
}

func (h *inventoryHandlers) GetAllVersions(ctx context.Context, _ invapi.GetAllVersionsRequestObject) (invapi.GetAllVersionsResponseObject, error) {
	return invapi.GetAllVersions200JSONResponse(inventoryVersions()), nil
}

func (h *inventoryHandlers) GetMinorVersions(ctx context.Context, _ invapi.GetMinorVersionsRequestObject) (invapi.GetMinorVersionsResponseObject, error) {
	return invapi.GetMinorVersions200JSONResponse(inventoryVersions()), nil
}

func (h *inventoryHandlers) GetCloudInfo(ctx context.Context, _ invapi.GetCloudInfoRequestObject) (invapi.GetCloudInfoResponseObject, error) {
	c, err := h.inv.CloudInfo(ctx)
	if err != nil {
		return nil, err
	}
	out, err := cloudInfo(c)
	if err != nil {
		return nil, err
	}
	return invapi.GetCloudInfo200JSONResponse(out), nil
}

func (h *inventoryHandlers) GetResourceTypes(ctx context.Context, req invapi.GetResourceTypesRequestObject) (invapi.GetResourceTypesResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.ResourceTypeSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetResourceType(ctx context.Context, req invapi.GetResourceTypeRequestObject) (invapi.GetResourceTypeResponseObject, error) {
	doc, err := h.inv.Get(ctx, inventory.ResourceTypeSchema, req.ResourceTypeId.String())
	if err != nil {
		return nil, err
	}
	v, err := fromDoc[invapi.ResourceType](doc)
	return invapi.GetResourceType200JSONResponse(v), err
}

func (h *inventoryHandlers) GetResourcePools(ctx context.Context, req invapi.GetResourcePoolsRequestObject) (invapi.GetResourcePoolsResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.ResourcePoolSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetResourcePool(ctx context.Context, req invapi.GetResourcePoolRequestObject) (invapi.GetResourcePoolResponseObject, error) {
	doc, err := h.inv.Get(ctx, inventory.ResourcePoolSchema, req.ResourcePoolId.String())
	if err != nil {
		return nil, err
	}
	v, err := fromDoc[invapi.ResourcePool](doc)
	return invapi.GetResourcePool200JSONResponse(v), err
}

func (h *inventoryHandlers) GetResources(ctx context.Context, req invapi.GetResourcesRequestObject) (invapi.GetResourcesResponseObject, error) {
	p := req.Params
	page, err := h.inv.ListResourcesInPool(ctx, req.ResourcePoolId.String(), listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *inventoryHandlers) GetResource(ctx context.Context, req invapi.GetResourceRequestObject) (invapi.GetResourceResponseObject, error) {
	doc, err := h.inv.GetResource(ctx, req.ResourcePoolId.String(), req.ResourceId.String())
	if err != nil {
		return nil, err
	}
	v, err := fromDoc[invapi.Resource](doc)
	return invapi.GetResource200JSONResponse(v), err
}

func (h *inventoryHandlers) GetDeploymentManagers(ctx context.Context, req invapi.GetDeploymentManagersRequestObject) (invapi.GetDeploymentManagersResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.DeploymentManagerSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetDeploymentManager(ctx context.Context, req invapi.GetDeploymentManagerRequestObject) (invapi.GetDeploymentManagerResponseObject, error) {
	doc, err := h.inv.Get(ctx, inventory.DeploymentManagerSchema, req.DeploymentManagerId.String())
	if err != nil {
		return nil, err
	}
	v, err := fromDoc[invapi.DeploymentManager](doc)
	return invapi.GetDeploymentManager200JSONResponse(v), err
}
