package httpapi

import (
	"context"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/subscription"
)

// inventoryAPI answers the O2ims_InfrastructureInventory operations for
// one major version of the API. The v1 and v2 handlers and the /o2ims/v1
// aliases are thin adapters of the generated interfaces onto it: one
// service, one store, one rendering per version.
type inventoryAPI struct {
	v    *inventory.Version
	inv  *inventory.Service
	subs *subscription.Service
	kind subscription.Kind
	// dmsCredentials: see Options.DMSCredentials.
	dmsCredentials func(provider string) (map[string]any, bool)
}

func (a inventoryAPI) cloud(ctx context.Context, s selectors) (objectResponse, error) {
	c, err := a.inv.CloudInfo(ctx)
	if err != nil {
		return objectResponse{}, err
	}
	out, err := cloudInfo(c)
	if err != nil {
		return objectResponse{}, err
	}
	return one(inventory.OCloudSchema, out, s)
}

// list answers a collection of the version's objects.
func (a inventoryAPI) list(ctx context.Context, sc func(*inventory.Version) *query.Schema, req collection.Request) (listResponse, error) {
	page, err := a.inv.List(ctx, sc(a.v), req)
	if err != nil {
		return listResponse{}, err
	}
	return newListResponse(ctx, page), nil
}

// get answers one of the version's objects.
func (a inventoryAPI) get(ctx context.Context, sc func(*inventory.Version) *query.Schema, id string, s selectors) (objectResponse, error) {
	doc, err := a.inv.Get(ctx, sc(a.v), id)
	if err != nil {
		return objectResponse{}, err
	}
	return one(sc(a.v), doc, s)
}

func (a inventoryAPI) pools(ctx context.Context, req collection.Request, minCapacity string) (listResponse, error) {
	page, err := a.inv.ListPools(ctx, a.v, req, minCapacity)
	if err != nil {
		return listResponse{}, err
	}
	return newListResponse(ctx, page), nil
}

func (a inventoryAPI) pool(ctx context.Context, id string, s selectors) (objectResponse, error) {
	doc, err := a.inv.GetPool(ctx, a.v, id)
	if err != nil {
		return objectResponse{}, err
	}
	return one(a.v.ResourcePools, doc, s)
}

func (a inventoryAPI) resources(ctx context.Context, poolID string, req collection.Request) (listResponse, error) {
	page, err := a.inv.ListResourcesInPool(ctx, a.v, poolID, req)
	if err != nil {
		return listResponse{}, err
	}
	return newListResponse(ctx, page), nil
}

func (a inventoryAPI) resource(ctx context.Context, poolID, id string, s selectors) (objectResponse, error) {
	if s == (selectors{}) {
		if r, ok, err := a.storedResource(ctx, poolID, id); ok || err != nil {
			return r, err
		}
	}
	doc, err := a.inv.GetResource(ctx, a.v, poolID, id)
	if err != nil {
		return objectResponse{}, err
	}
	return one(a.v.Resources, doc, s)
}

func (a inventoryAPI) deploymentManager(ctx context.Context, id string, s selectors) (objectResponse, error) {
	doc, err := a.inv.Get(ctx, a.v.DeploymentManagers, id)
	if err != nil {
		return objectResponse{}, err
	}
	return one(a.v.DeploymentManagers, withDMSCredentials(ctx, a.dmsCredentials, doc), s)
}

func (a inventoryAPI) subscriptions(ctx context.Context, req collection.Request) (listResponse, error) {
	page, err := a.subs.List(ctx, a.kind, req)
	if err != nil {
		return listResponse{}, err
	}
	return newListResponse(ctx, page), nil
}

// createSubscription stores a subscription and returns it with its URL.
func (a inventoryAPI) createSubscription(ctx context.Context, in subscription.Input) (map[string]any, string, error) {
	doc, err := a.subs.Create(ctx, a.kind, in)
	if err != nil {
		return nil, "", err
	}
	id, _ := doc["subscriptionId"].(string)
	return doc, a.v.Prefix + "/subscriptions/" + id, nil
}

func (a inventoryAPI) subscription(ctx context.Context, id string, s selectors) (objectResponse, error) {
	doc, err := a.subs.Get(ctx, a.kind, id)
	if err != nil {
		return objectResponse{}, err
	}
	sc := subscription.InventorySchema
	if a.kind == subscription.InventoryV2 {
		sc = subscription.InventoryV2Schema
	}
	return one(sc, doc, s)
}

func (a inventoryAPI) deleteSubscription(ctx context.Context, id string) error {
	return a.subs.Delete(ctx, a.kind, id)
}

func (a inventoryAPI) alarmDictionaries(ctx context.Context, req collection.Request) (listResponse, error) {
	page, err := staticList(alarmDictionarySchema, []any{alarms.Dictionary}, req)
	if err != nil {
		return listResponse{}, err
	}
	return newListResponse(ctx, page), nil
}

func (a inventoryAPI) alarmDictionary(id string, s selectors) (objectResponse, error) {
	if id != alarms.Dictionary.AlarmDictionaryID {
		return objectResponse{}, ims.Errorf(ims.ENOTFOUND, "alarm dictionary %q not found", id)
	}
	return one(alarmDictionarySchema, alarms.Dictionary, s)
}

func (a inventoryAPI) typeAlarmDictionary(ctx context.Context, typeID string, s selectors) (objectResponse, error) {
	if _, err := a.inv.Get(ctx, a.v.ResourceTypes, typeID); err != nil {
		return objectResponse{}, err
	}
	return one(alarmDictionarySchema, alarms.Dictionary, s)
}

// The version's schema of each kind of object, for list and get.
func types(v *inventory.Version) *query.Schema     { return v.ResourceTypes }
func resources(v *inventory.Version) *query.Schema { return v.Resources }
func dms(v *inventory.Version) *query.Schema       { return v.DeploymentManagers }
func locations(v *inventory.Version) *query.Schema { return v.Locations }
func sites(v *inventory.Version) *query.Schema     { return v.OCloudSites }
