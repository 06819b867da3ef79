// Package subscription manages inventory and alarm subscriptions: their
// validation and storage, the evaluation of a subscription's filter on a
// change event, and the notification bodies sent to subscribers.
package subscription

import (
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Kind is the API a subscription belongs to: its outbox stream and, for
// inventory, the major version of the inventory API, whose object shapes
// and URLs its notifications carry.
type Kind struct {
	Stream string
	Major  int
}

// The kinds of subscription.
var (
	Inventory   = Kind{Stream: sqlstore.StreamInventory, Major: 1}
	InventoryV2 = Kind{Stream: sqlstore.StreamInventory, Major: 2}
	Alarm       = Kind{Stream: sqlstore.StreamAlarm, Major: 1}
)

// inventoryAttrs are the attributes of an inventory subscription, of
// either major version.
var inventoryAttrs = []query.Attr{
	{Name: "subscriptionId", Type: query.String, Column: "id"},
	{Name: "consumerSubscriptionId", Type: query.String, Column: "consumer_subscription_id"},
	{Name: "filter", Type: query.String, Column: "filter"},
	{Name: "callback", Type: query.String, Column: "callback"},
	{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
}

// The kinds of subscription share one table; Where keeps them apart.
var (
	InventorySchema = &query.Schema{
		Name: "subscriptions", Object: "subscription", DocColumn: "doc", Where: "stream = '" + sqlstore.StreamInventory + "' AND api_major = 1",
		Attrs: inventoryAttrs,
	}
	InventoryV2Schema = &query.Schema{
		Name: "subscriptions", Object: "subscription", DocColumn: "doc", Where: "stream = '" + sqlstore.StreamInventory + "' AND api_major = 2",
		Attrs: inventoryAttrs,
	}
	AlarmSchema = &query.Schema{
		Name: "subscriptions", Object: "alarm subscription", DocColumn: "doc", Where: "stream = '" + sqlstore.StreamAlarm + "'",
		Attrs: []query.Attr{
			{Name: "alarmSubscriptionId", Type: query.String, Column: "id"},
			{Name: "consumerSubscriptionId", Type: query.String, Column: "consumer_subscription_id"},
			{Name: "filter", Type: query.String, Column: "filter"},
			{Name: "callback", Type: query.String, Column: "callback"},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
	}
)
