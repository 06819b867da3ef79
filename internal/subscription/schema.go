// Package subscription manages inventory and alarm subscriptions: their
// validation and storage, the evaluation of a subscription's filter on a
// change event, and the notification bodies sent to subscribers.
package subscription

import (
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Both kinds of subscription share one table; Where keeps them apart.
var (
	InventorySchema = &query.Schema{
		Name: "subscriptions", Object: "subscription", DocColumn: "doc", Where: "stream = '" + sqlstore.StreamInventory + "'",
		Attrs: []query.Attr{
			{Name: "subscriptionId", Type: query.String, Column: "id"},
			{Name: "consumerSubscriptionId", Type: query.String, Column: "consumer_subscription_id"},
			{Name: "filter", Type: query.String, Column: "filter"},
			{Name: "callback", Type: query.String, Column: "callback"},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true, Always: true},
		},
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
