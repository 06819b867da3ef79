package o2

import (
	"context"
	"encoding/json"
	"iter"
)

// AlarmSubscription is an alarm subscription: the IMS POSTs an
// AlarmEventNotification to Callback for every alarm event Filter
// selects. Extensions are excluded from lists unless selected, such as
// with ListOptions.Fields "extensions/deliveryStatus".
type AlarmSubscription struct {
	// AlarmSubscriptionID identifies the subscription; the IMS assigns it.
	AlarmSubscriptionID string `json:"alarmSubscriptionId"`
	// ConsumerSubscriptionID is the consumer's own identifier.
	ConsumerSubscriptionID string `json:"consumerSubscriptionId,omitempty"`
	// Filter is the SOL013 filter selecting the events; empty selects all.
	Filter string `json:"filter"`
	// Callback is the URL notifications are POSTed to.
	Callback string `json:"callback"`
	// Extensions are implementation-specific attributes, among them
	// "deliveryStatus".
	Extensions map[string]any `json:"extensions,omitempty"`
	// DeliveryStatus is extensions.deliveryStatus, decoded; nil when the
	// answer did not include it.
	DeliveryStatus *DeliveryStatus `json:"-"`
}

// UnmarshalJSON decodes an alarm subscription and its delivery status.
func (s *AlarmSubscription) UnmarshalJSON(data []byte) error {
	type plain AlarmSubscription
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	ds, err := deliveryStatusOf(data)
	if err != nil {
		return err
	}
	*s = AlarmSubscription(p)
	s.DeliveryStatus = ds
	return nil
}

// AlarmSubscriptionService manages the alarm subscriptions. Get one with
// Client.AlarmSubscriptions.
type AlarmSubscriptionService struct {
	col collection[AlarmSubscription]
}

// AlarmSubscriptions returns the service for the alarm subscriptions.
func (c *Client) AlarmSubscriptions() *AlarmSubscriptionService {
	return &AlarmSubscriptionService{col: newCollection[AlarmSubscription](c, "alarm subscription", MonitoringAPIPrefix, "alarmSubscriptions")}
}

// List returns the page of alarm subscriptions opts select.
func (s *AlarmSubscriptionService) List(ctx context.Context, opts ListOptions) (*Page[AlarmSubscription], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every alarm subscription opts select, fetching pages
// of opts.Limit as needed.
func (s *AlarmSubscriptionService) All(ctx context.Context, opts ListOptions) iter.Seq2[AlarmSubscription, error] {
	return s.col.all(ctx, opts)
}

// Get returns the alarm subscription with identifier id, with its
// delivery status.
func (s *AlarmSubscriptionService) Get(ctx context.Context, id string) (*AlarmSubscription, error) {
	return s.col.get(ctx, id)
}

// Create subscribes req.Callback to the alarm events req.Filter selects,
// such as And(Eq("notificationEventType", AlarmEventNew),
// Lte("perceivedSeverity", SeverityMajor)), and returns the new
// subscription. It is never retried: the first attempt may have created
// it. An invalid callback or filter is a ProblemError with status 400; a
// subscription of the same callback with an equivalent filter, one with
// status 409 (IsConflict).
func (s *AlarmSubscriptionService) Create(ctx context.Context, req SubscriptionRequest) (*AlarmSubscription, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	return s.col.create(ctx, req)
}

// Delete deletes the alarm subscription with identifier id; nothing more
// is delivered to its callback. An unknown id is a ProblemError with
// status 404.
func (s *AlarmSubscriptionService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}
