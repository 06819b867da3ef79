package main

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// deliveryStatusField selects the delivery status of subscriptions, which
// lists leave out by default.
const deliveryStatusField = "extensions/deliveryStatus"

// subscriptionDescribeOrder is the order "describe" prints the attributes
// of both kinds of subscription in.
var subscriptionDescribeOrder = []string{"subscriptionId", "alarmSubscriptionId", "consumerSubscriptionId",
	"callback", "filter", "extensions"}

// monitoringKinds returns the kinds of the monitoring API, the alarm
// dictionaries of the inventory, and both kinds of subscription.
func monitoringKinds() []*kind {
	return []*kind{
		erase(&kind{
			name: "alarms", singular: "alarm", aliases: []string{"al"},
			title: "alarm",
			describeOrder: []string{"alarmEventRecordId", "perceivedSeverity", "alarmAcknowledged", "alarmDefinitionID",
				"probableCauseID", "resourceID", "resourceTypeID", "alarmRaisedTime", "alarmChangedTime",
				"alarmAcknowledgedTime", "alarmClearedTime", "extensions"},
			display: func(v any) map[string]string {
				s := v.(o2.AlarmEventRecord).PerceivedSeverity
				return map[string]string{"perceivedSeverity": fmt.Sprintf("%s (%d)", s, s)}
			},
			columns: []column{
				col("ID", func(a o2.AlarmEventRecord) string { return a.AlarmEventRecordID }),
				col("SEVERITY", func(a o2.AlarmEventRecord) string { return a.PerceivedSeverity.String() }),
				col("DEFINITION", func(a o2.AlarmEventRecord) string { return shortID(a.AlarmDefinitionID) }),
				col("PROBABLE CAUSE", func(a o2.AlarmEventRecord) string { return shortID(a.ProbableCauseID) }),
				col("RESOURCE", func(a o2.AlarmEventRecord) string { return a.ResourceID }),
				col("RAISED", func(a o2.AlarmEventRecord) string { return timeCell(a.AlarmRaisedTime) }),
				col("ACKED", func(a o2.AlarmEventRecord) string { return strconv.FormatBool(a.AlarmAcknowledged) }),
			},
			wide: []column{
				col("RESOURCE TYPE", func(a o2.AlarmEventRecord) string { return a.ResourceTypeID }),
				col("CHANGED", func(a o2.AlarmEventRecord) string { return timeCell(a.AlarmChangedTime) }),
				col("ACKNOWLEDGED", func(a o2.AlarmEventRecord) string { return timeCell(a.AlarmAcknowledgedTime) }),
				col("CLEARED", func(a o2.AlarmEventRecord) string { return timeCell(a.AlarmClearedTime) }),
				col("DEFINITION ID", func(a o2.AlarmEventRecord) string { return a.AlarmDefinitionID }),
				col("PROBABLE CAUSE ID", func(a o2.AlarmEventRecord) string { return a.ProbableCauseID }),
			},
		}, ops[o2.AlarmEventRecord]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.AlarmEventRecord], error) {
				return c.Alarms().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.AlarmEventRecord, error] {
				return c.Alarms().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.AlarmEventRecord, error) {
				return c.Alarms().Get(ctx, id)
			},
			id: func(a o2.AlarmEventRecord) string { return a.AlarmEventRecordID },
		}),
		erase(&kind{
			name: "subscriptions", singular: "subscription", aliases: []string{"sub", "subs"},
			title:         "subscription",
			describeOrder: subscriptionDescribeOrder,
			defaultFields: []string{deliveryStatusField},
			columns: []column{
				col("ID", func(s o2.Subscription) string { return s.SubscriptionID }),
				col("CALLBACK", func(s o2.Subscription) string { return s.Callback }),
				col("FILTER", func(s o2.Subscription) string { return s.Filter }),
				col("STATE", func(s o2.Subscription) string { return deliveryState(s.DeliveryStatus) }),
			},
			wide: deliveryColumns(func(s o2.Subscription) (string, *o2.DeliveryStatus) {
				return s.ConsumerSubscriptionID, s.DeliveryStatus
			}),
		}, ops[o2.Subscription]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.Subscription], error) {
				return c.Subscriptions().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.Subscription, error] {
				return c.Subscriptions().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.Subscription, error) {
				return c.Subscriptions().Get(ctx, id)
			},
			id: func(s o2.Subscription) string { return s.SubscriptionID },
		}),
		erase(&kind{
			name: "alarmsubscriptions", singular: "alarmsubscription", aliases: []string{"asub", "alarmsubs"},
			title:         "alarm subscription",
			describeOrder: subscriptionDescribeOrder,
			defaultFields: []string{deliveryStatusField},
			columns: []column{
				col("ID", func(s o2.AlarmSubscription) string { return s.AlarmSubscriptionID }),
				col("CALLBACK", func(s o2.AlarmSubscription) string { return s.Callback }),
				col("FILTER", func(s o2.AlarmSubscription) string { return s.Filter }),
				col("STATE", func(s o2.AlarmSubscription) string { return deliveryState(s.DeliveryStatus) }),
			},
			wide: deliveryColumns(func(s o2.AlarmSubscription) (string, *o2.DeliveryStatus) {
				return s.ConsumerSubscriptionID, s.DeliveryStatus
			}),
		}, ops[o2.AlarmSubscription]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.AlarmSubscription], error) {
				return c.AlarmSubscriptions().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.AlarmSubscription, error] {
				return c.AlarmSubscriptions().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.AlarmSubscription, error) {
				return c.AlarmSubscriptions().Get(ctx, id)
			},
			id: func(s o2.AlarmSubscription) string { return s.AlarmSubscriptionID },
		}),
		erase(&kind{
			name: "probablecauses", singular: "probablecause", aliases: []string{"pc"},
			title:         "probable cause",
			describeOrder: []string{"probableCauseId", "name", "description"},
			columns: []column{
				col("ID", func(p o2.ProbableCause) string { return p.ProbableCauseID }),
				col("NAME", func(p o2.ProbableCause) string { return p.Name }),
				col("DESCRIPTION", func(p o2.ProbableCause) string { return p.Description }),
			},
		}, ops[o2.ProbableCause]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.ProbableCause], error) {
				return c.ProbableCauses().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.ProbableCause, error] {
				return c.ProbableCauses().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.ProbableCause, error) {
				return c.ProbableCauses().Get(ctx, id)
			},
			id: func(p o2.ProbableCause) string { return p.ProbableCauseID },
		}),
		erase(&kind{
			name: "alarmdictionaries", singular: "alarmdictionary", aliases: []string{"ad", "dict"},
			title: "alarm dictionary",
			// The dictionary's attributes, those of each of its alarm
			// definitions in between: neither has the other's.
			describeOrder: []string{"alarmDictionaryId", "alarmDictionaryVersion", "alarmDictionarySchemaVersion",
				"entityType", "vendor",
				"alarmDefinitionId", "alarmName", "alarmDescription", "clearingType", "proposedRepairActions",
				"alarmChangeType", "alarmLastChange",
				"managementInterfaceId", "pkNotificationField", "alarmDefinition"},
			columns: []column{
				col("ID", func(d o2.AlarmDictionary) string { return d.AlarmDictionaryID }),
				col("VERSION", func(d o2.AlarmDictionary) string { return d.AlarmDictionaryVersion }),
				col("ENTITY TYPE", func(d o2.AlarmDictionary) string { return d.EntityType }),
				col("VENDOR", func(d o2.AlarmDictionary) string { return d.Vendor }),
				col("DEFINITIONS", func(d o2.AlarmDictionary) string { return strconv.Itoa(len(d.AlarmDefinitions)) }),
			},
			wide: []column{
				col("SCHEMA VERSION", func(d o2.AlarmDictionary) string { return d.AlarmDictionarySchemaVersion }),
				col("INTERFACES", func(d o2.AlarmDictionary) string { return strings.Join(d.ManagementInterfaceIDs, ",") }),
				col("ALARMS", func(d o2.AlarmDictionary) string {
					names := make([]string, len(d.AlarmDefinitions))
					for i, def := range d.AlarmDefinitions {
						names[i] = def.AlarmName
					}
					return strings.Join(names, ",")
				}),
			},
		}, ops[o2.AlarmDictionary]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.AlarmDictionary], error) {
				return c.AlarmDictionaries().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.AlarmDictionary, error] {
				return c.AlarmDictionaries().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.AlarmDictionary, error) {
				return c.AlarmDictionaries().Get(ctx, id)
			},
			id: func(d o2.AlarmDictionary) string { return d.AlarmDictionaryID },
		}),
	}
}

// deliveryColumns are the wide columns of a kind of subscription, read
// with f.
func deliveryColumns[T any](f func(T) (consumerID string, ds *o2.DeliveryStatus)) []column {
	status := func(v T) o2.DeliveryStatus {
		if _, ds := f(v); ds != nil {
			return *ds
		}
		return o2.DeliveryStatus{}
	}
	known := func(v T) bool { _, ds := f(v); return ds != nil }
	count := func(v T, n int64) string {
		if !known(v) {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	return []column{
		col("CONSUMER ID", func(v T) string { id, _ := f(v); return id }),
		col("DELIVERED", func(v T) string { return count(v, status(v).Delivered) }),
		col("EXPIRED", func(v T) string { return count(v, status(v).Expired) }),
		col("LAST DELIVERED", func(v T) string { return timeCell(status(v).LastDeliveredAt) }),
		col("RETRYING SINCE", func(v T) string { return timeCell(status(v).RetryingSince) }),
		col("LAST ERROR", func(v T) string { return status(v).LastError }),
	}
}

// deliveryState is the STATE cell of a subscription: healthy or retrying,
// or empty when the answer lacked the delivery status.
func deliveryState(ds *o2.DeliveryStatus) string {
	if ds == nil {
		return ""
	}
	return string(ds.State)
}

// shortID abbreviates a UUID to its first eight characters for tables;
// "-o wide" and "describe" show it whole.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// timeCell renders a time for tables, in UTC to the second, or "" when it
// is zero.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
