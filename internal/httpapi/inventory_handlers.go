package httpapi

import (
	"context"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/httpapi/gen/common"
	invapi "github.com/nephoran/o2ims/internal/httpapi/gen/inventory"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/subscription"
)

// inventoryHandlers implements the O2ims_InfrastructureInventory API.
type inventoryHandlers struct {
	inv            *inventory.Service
	subs           *subscription.Service
	dmsCredentials func(provider string) (map[string]any, bool)
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

func (h *inventoryHandlers) GetCloudInfo(ctx context.Context, req invapi.GetCloudInfoRequestObject) (invapi.GetCloudInfoResponseObject, error) {
	p := req.Params
	c, err := h.inv.CloudInfo(ctx)
	if err != nil {
		return nil, err
	}
	out, err := cloudInfo(c)
	if err != nil {
		return nil, err
	}
	return one(inventory.OCloudSchema, out, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetResourceTypes(ctx context.Context, req invapi.GetResourceTypesRequestObject) (invapi.GetResourceTypesResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.ResourceTypeSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetResourceType(ctx context.Context, req invapi.GetResourceTypeRequestObject) (invapi.GetResourceTypeResponseObject, error) {
	p := req.Params
	doc, err := h.inv.Get(ctx, inventory.ResourceTypeSchema, req.ResourceTypeId.String())
	if err != nil {
		return nil, err
	}
	return one(inventory.ResourceTypeSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetResourcePools(ctx context.Context, req invapi.GetResourcePoolsRequestObject) (invapi.GetResourcePoolsResponseObject, error) {
	p := req.Params
	page, err := h.inv.ListPools(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker), deref(p.MinCapacity))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *inventoryHandlers) GetResourcePool(ctx context.Context, req invapi.GetResourcePoolRequestObject) (invapi.GetResourcePoolResponseObject, error) {
	p := req.Params
	doc, err := h.inv.GetPool(ctx, req.ResourcePoolId.String())
	if err != nil {
		return nil, err
	}
	return one(inventory.ResourcePoolSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
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
	p := req.Params
	doc, err := h.inv.GetResource(ctx, req.ResourcePoolId.String(), req.ResourceId.String())
	if err != nil {
		return nil, err
	}
	return one(inventory.ResourceSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetDeploymentManagers(ctx context.Context, req invapi.GetDeploymentManagersRequestObject) (invapi.GetDeploymentManagersResponseObject, error) {
	p := req.Params
	return list(ctx, h.inv, inventory.DeploymentManagerSchema, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetDeploymentManager(ctx context.Context, req invapi.GetDeploymentManagerRequestObject) (invapi.GetDeploymentManagerResponseObject, error) {
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

func (h *inventoryHandlers) GetSubscriptions(ctx context.Context, req invapi.GetSubscriptionsRequestObject) (invapi.GetSubscriptionsResponseObject, error) {
	p := req.Params
	page, err := h.subs.List(ctx, sqlstore.StreamInventory, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *inventoryHandlers) CreateSubscription(ctx context.Context, req invapi.CreateSubscriptionRequestObject) (invapi.CreateSubscriptionResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a subscription body is required")
	}
	doc, err := h.subs.Create(ctx, sqlstore.StreamInventory, subscription.Input{
		ConsumerSubscriptionID: deref(req.Body.ConsumerSubscriptionId),
		Filter:                 deref(req.Body.Filter),
		Callback:               req.Body.Callback,
	})
	if err != nil {
		return nil, err
	}
	v, err := fromMap[invapi.Subscription](doc)
	if err != nil {
		return nil, err
	}
	loc := inventoryPrefix + "/subscriptions/" + v.SubscriptionId.String()
	return invapi.CreateSubscription201JSONResponse{Body: v, Headers: invapi.CreateSubscription201ResponseHeaders{Location: &loc}}, nil
}

func (h *inventoryHandlers) GetSubscription(ctx context.Context, req invapi.GetSubscriptionRequestObject) (invapi.GetSubscriptionResponseObject, error) {
	p := req.Params
	doc, err := h.subs.Get(ctx, sqlstore.StreamInventory, req.SubscriptionId.String())
	if err != nil {
		return nil, err
	}
	return one(subscription.InventorySchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) DeleteSubscription(ctx context.Context, req invapi.DeleteSubscriptionRequestObject) (invapi.DeleteSubscriptionResponseObject, error) {
	if err := h.subs.Delete(ctx, sqlstore.StreamInventory, req.SubscriptionId.String()); err != nil {
		return nil, err
	}
	return invapi.DeleteSubscription200Response{}, nil
}

func (h *inventoryHandlers) GetAlarmDictionaries(ctx context.Context, req invapi.GetAlarmDictionariesRequestObject) (invapi.GetAlarmDictionariesResponseObject, error) {
	p := req.Params
	page, err := staticList(alarmDictionarySchema, []any{alarms.Dictionary}, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *inventoryHandlers) GetAlarmDictionary(ctx context.Context, req invapi.GetAlarmDictionaryRequestObject) (invapi.GetAlarmDictionaryResponseObject, error) {
	p := req.Params
	if req.AlarmDictionaryId.String() != alarms.Dictionary.AlarmDictionaryID {
		return nil, ims.Errorf(ims.ENOTFOUND, "alarm dictionary %q not found", req.AlarmDictionaryId.String())
	}
	return one(alarmDictionarySchema, alarms.Dictionary, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetResourceTypeAlarmDictionary(ctx context.Context, req invapi.GetResourceTypeAlarmDictionaryRequestObject) (invapi.GetResourceTypeAlarmDictionaryResponseObject, error) {
	p := req.Params
	if _, err := h.inv.Get(ctx, inventory.ResourceTypeSchema, req.ResourceTypeId.String()); err != nil {
		return nil, err
	}
	return one(alarmDictionarySchema, alarms.Dictionary, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}
