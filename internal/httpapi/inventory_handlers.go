package httpapi

import (
	"context"
	"sync/atomic"

	"github.com/nephoran/o2ims/internal/httpapi/gen/common"
	invapi "github.com/nephoran/o2ims/internal/httpapi/gen/inventory"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/subscription"
)

// inventoryHandlers adapts the O2ims_InfrastructureInventory v1 API onto
// inventoryAPI.
type inventoryHandlers struct {
	api   inventoryAPI
	cloud atomic.Pointer[renderedCloud]
}

var _ invapi.StrictServerInterface = (*inventoryHandlers)(nil)

// inventoryVersions lists the versions of the inventory API: both majors
// at the API's root, one major under its prefix.
func inventoryVersions(v *inventory.Version) common.APIVersions {
	if v == nil {
		return common.APIVersions{UriPrefix: "/o2ims-infrastructureInventory", ApiVersions: []common.APIVersion{
			{Version: "1.0.0"}, {Version: "2.0.0"},
		}}
	}
	version := "1.0.0"
	if v.Major == 2 {
		version = "2.0.0"
	}
	return common.APIVersions{UriPrefix: v.Prefix, ApiVersions: []common.APIVersion{{Version: version}}}
}

func (h *inventoryHandlers) GetAllVersions(ctx context.Context, _ invapi.GetAllVersionsRequestObject) (invapi.GetAllVersionsResponseObject, error) {
	return invapi.GetAllVersions200JSONResponse(inventoryVersions(nil)), nil
}

func (h *inventoryHandlers) GetMinorVersions(ctx context.Context, _ invapi.GetMinorVersionsRequestObject) (invapi.GetMinorVersionsResponseObject, error) {
	return invapi.GetMinorVersions200JSONResponse(inventoryVersions(h.api.v)), nil
}

func (h *inventoryHandlers) GetCloudInfo(ctx context.Context, req invapi.GetCloudInfoRequestObject) (invapi.GetCloudInfoResponseObject, error) {
	p := req.Params
	return h.api.cachedCloud(ctx, &h.cloud, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetResourceTypes(ctx context.Context, req invapi.GetResourceTypesRequestObject) (invapi.GetResourceTypesResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, types, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetResourceType(ctx context.Context, req invapi.GetResourceTypeRequestObject) (invapi.GetResourceTypeResponseObject, error) {
	p := req.Params
	return h.api.get(ctx, types, req.ResourceTypeId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetResourcePools(ctx context.Context, req invapi.GetResourcePoolsRequestObject) (invapi.GetResourcePoolsResponseObject, error) {
	p := req.Params
	return h.api.pools(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker), deref(p.MinCapacity))
}

func (h *inventoryHandlers) GetResourcePool(ctx context.Context, req invapi.GetResourcePoolRequestObject) (invapi.GetResourcePoolResponseObject, error) {
	p := req.Params
	return h.api.pool(ctx, req.ResourcePoolId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetResources(ctx context.Context, req invapi.GetResourcesRequestObject) (invapi.GetResourcesResponseObject, error) {
	p := req.Params
	return h.api.resources(ctx, req.ResourcePoolId.String(), listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetResource(ctx context.Context, req invapi.GetResourceRequestObject) (invapi.GetResourceResponseObject, error) {
	p := req.Params
	return h.api.resource(ctx, req.ResourcePoolId.String(), req.ResourceId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetDeploymentManagers(ctx context.Context, req invapi.GetDeploymentManagersRequestObject) (invapi.GetDeploymentManagersResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, dms, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetDeploymentManager(ctx context.Context, req invapi.GetDeploymentManagerRequestObject) (invapi.GetDeploymentManagerResponseObject, error) {
	p := req.Params
	return h.api.deploymentManager(ctx, req.DeploymentManagerId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetSubscriptions(ctx context.Context, req invapi.GetSubscriptionsRequestObject) (invapi.GetSubscriptionsResponseObject, error) {
	p := req.Params
	return h.api.subscriptions(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) CreateSubscription(ctx context.Context, req invapi.CreateSubscriptionRequestObject) (invapi.CreateSubscriptionResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a subscription body is required")
	}
	doc, loc, err := h.api.createSubscription(ctx, subscription.Input{
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
	return invapi.CreateSubscription201JSONResponse{Body: v, Headers: invapi.CreateSubscription201ResponseHeaders{Location: &loc}}, nil
}

func (h *inventoryHandlers) GetSubscription(ctx context.Context, req invapi.GetSubscriptionRequestObject) (invapi.GetSubscriptionResponseObject, error) {
	p := req.Params
	return h.api.subscription(ctx, req.SubscriptionId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) DeleteSubscription(ctx context.Context, req invapi.DeleteSubscriptionRequestObject) (invapi.DeleteSubscriptionResponseObject, error) {
	if err := h.api.deleteSubscription(ctx, req.SubscriptionId.String()); err != nil {
		return nil, err
	}
	return invapi.DeleteSubscription200Response{}, nil
}

func (h *inventoryHandlers) GetAlarmDictionaries(ctx context.Context, req invapi.GetAlarmDictionariesRequestObject) (invapi.GetAlarmDictionariesResponseObject, error) {
	p := req.Params
	return h.api.alarmDictionaries(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryHandlers) GetAlarmDictionary(ctx context.Context, req invapi.GetAlarmDictionaryRequestObject) (invapi.GetAlarmDictionaryResponseObject, error) {
	p := req.Params
	return h.api.alarmDictionary(req.AlarmDictionaryId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryHandlers) GetResourceTypeAlarmDictionary(ctx context.Context, req invapi.GetResourceTypeAlarmDictionaryRequestObject) (invapi.GetResourceTypeAlarmDictionaryResponseObject, error) {
	p := req.Params
	return h.api.typeAlarmDictionary(ctx, req.ResourceTypeId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}
