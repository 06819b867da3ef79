package httpapi

import (
	"context"
	"sync/atomic"

	inv2api "github.com/nephoran/o2ims/internal/httpapi/gen/inventoryv2"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/subscription"
)

// inventoryV2Handlers adapts the O2ims_InfrastructureInventory v2 API (O2ims
// v11) onto inventoryAPI.
type inventoryV2Handlers struct {
	api   inventoryAPI
	cloud atomic.Pointer[renderedCloud]
}

var _ inv2api.StrictServerInterface = (*inventoryV2Handlers)(nil)

func (h *inventoryV2Handlers) GetMinorVersions(ctx context.Context, _ inv2api.GetMinorVersionsRequestObject) (inv2api.GetMinorVersionsResponseObject, error) {
	return inv2api.GetMinorVersions200JSONResponse(inventoryVersions(h.api.v)), nil
}

func (h *inventoryV2Handlers) GetCloudInfo(ctx context.Context, req inv2api.GetCloudInfoRequestObject) (inv2api.GetCloudInfoResponseObject, error) {
	p := req.Params
	return h.api.cachedCloud(ctx, &h.cloud, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetResourceTypes(ctx context.Context, req inv2api.GetResourceTypesRequestObject) (inv2api.GetResourceTypesResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, types, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryV2Handlers) GetResourceType(ctx context.Context, req inv2api.GetResourceTypeRequestObject) (inv2api.GetResourceTypeResponseObject, error) {
	p := req.Params
	return h.api.get(ctx, types, req.ResourceTypeId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetResourcePools(ctx context.Context, req inv2api.GetResourcePoolsRequestObject) (inv2api.GetResourcePoolsResponseObject, error) {
	p := req.Params
	return h.api.pools(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker), deref(p.MinCapacity))
}

func (h *inventoryV2Handlers) GetResourcePool(ctx context.Context, req inv2api.GetResourcePoolRequestObject) (inv2api.GetResourcePoolResponseObject, error) {
	p := req.Params
	return h.api.pool(ctx, req.ResourcePoolId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetResources(ctx context.Context, req inv2api.GetResourcesRequestObject) (inv2api.GetResourcesResponseObject, error) {
	p := req.Params
	return h.api.resources(ctx, req.ResourcePoolId.String(), listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryV2Handlers) GetResource(ctx context.Context, req inv2api.GetResourceRequestObject) (inv2api.GetResourceResponseObject, error) {
	p := req.Params
	return h.api.resource(ctx, req.ResourcePoolId.String(), req.ResourceId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetDeploymentManagers(ctx context.Context, req inv2api.GetDeploymentManagersRequestObject) (inv2api.GetDeploymentManagersResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, dms, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryV2Handlers) GetDeploymentManager(ctx context.Context, req inv2api.GetDeploymentManagerRequestObject) (inv2api.GetDeploymentManagerResponseObject, error) {
	p := req.Params
	return h.api.deploymentManager(ctx, req.DeploymentManagerId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetSubscriptions(ctx context.Context, req inv2api.GetSubscriptionsRequestObject) (inv2api.GetSubscriptionsResponseObject, error) {
	p := req.Params
	return h.api.subscriptions(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryV2Handlers) CreateSubscription(ctx context.Context, req inv2api.CreateSubscriptionRequestObject) (inv2api.CreateSubscriptionResponseObject, error) {
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
	v, err := fromMap[inv2api.Subscription](doc)
	if err != nil {
		return nil, err
	}
	return inv2api.CreateSubscription201JSONResponse{Body: v, Headers: inv2api.CreateSubscription201ResponseHeaders{Location: &loc}}, nil
}

func (h *inventoryV2Handlers) GetSubscription(ctx context.Context, req inv2api.GetSubscriptionRequestObject) (inv2api.GetSubscriptionResponseObject, error) {
	p := req.Params
	return h.api.subscription(ctx, req.SubscriptionId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) DeleteSubscription(ctx context.Context, req inv2api.DeleteSubscriptionRequestObject) (inv2api.DeleteSubscriptionResponseObject, error) {
	if err := h.api.deleteSubscription(ctx, req.SubscriptionId.String()); err != nil {
		return nil, err
	}
	return inv2api.DeleteSubscription200Response{}, nil
}

func (h *inventoryV2Handlers) GetAlarmDictionaries(ctx context.Context, req inv2api.GetAlarmDictionariesRequestObject) (inv2api.GetAlarmDictionariesResponseObject, error) {
	p := req.Params
	return h.api.alarmDictionaries(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryV2Handlers) GetAlarmDictionary(ctx context.Context, req inv2api.GetAlarmDictionaryRequestObject) (inv2api.GetAlarmDictionaryResponseObject, error) {
	p := req.Params
	return h.api.alarmDictionary(req.AlarmDictionaryId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetResourceTypeAlarmDictionary(ctx context.Context, req inv2api.GetResourceTypeAlarmDictionaryRequestObject) (inv2api.GetResourceTypeAlarmDictionaryResponseObject, error) {
	p := req.Params
	return h.api.typeAlarmDictionary(ctx, req.ResourceTypeId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetLocations(ctx context.Context, req inv2api.GetLocationsRequestObject) (inv2api.GetLocationsResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, locations, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryV2Handlers) GetLocation(ctx context.Context, req inv2api.GetLocationRequestObject) (inv2api.GetLocationResponseObject, error) {
	p := req.Params
	return h.api.get(ctx, locations, req.GlobalLocationId, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *inventoryV2Handlers) GetOCloudSites(ctx context.Context, req inv2api.GetOCloudSitesRequestObject) (inv2api.GetOCloudSitesResponseObject, error) {
	p := req.Params
	return h.api.list(ctx, sites, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
}

func (h *inventoryV2Handlers) GetOCloudSite(ctx context.Context, req inv2api.GetOCloudSiteRequestObject) (inv2api.GetOCloudSiteResponseObject, error) {
	p := req.Params
	return h.api.get(ctx, sites, req.OCloudSiteId.String(), selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}
