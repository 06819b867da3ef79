package o2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// SubscriptionRequest is a new subscription, inventory or alarm, as
// submitted to SubscriptionService.Create or AlarmSubscriptionService.Create.
type SubscriptionRequest struct {
	// Callback is the absolute http or https URL notifications are POSTed
	// to. It is required; the IMS refuses link-local and cloud metadata
	// addresses (400).
	Callback string
	// ConsumerSubscriptionID is the consumer's own identifier of the
	// subscription, echoed in every notification; it is optional.
	ConsumerSubscriptionID string
	// Filter selects the events notified; the zero Filter selects all.
	// Besides the attributes of the changed object, an inventory filter
	// may test "objectType" (ResourceType, ResourcePool, Resource,
	// DeploymentManager) and "notificationEventType" (InventoryEventType),
	// and an alarm filter "notificationEventType" (AlarmEventType). The
	// same callback with an equivalent filter cannot be subscribed twice
	// (409).
	Filter Filter
}

// MarshalJSON returns r as the request body of the IMS.
func (r SubscriptionRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ConsumerSubscriptionID string `json:"consumerSubscriptionId,omitempty"`
		Filter                 string `json:"filter,omitempty"`
		Callback               string `json:"callback"`
	}{r.ConsumerSubscriptionID, r.Filter.String(), r.Callback})
}

// check rejects a request the IMS would refuse for want of a callback.
func (r SubscriptionRequest) check() error {
	if r.Callback == "" {
		return errors.New("o2: SubscriptionRequest.Callback is empty")
	}
	return nil
}

// DeliveryState tells whether notifications reach a subscription's
// callback.
type DeliveryState string

// The delivery states of DeliveryStatus.State.
const (
	// DeliveryHealthy: the last notification, if any, was delivered.
	DeliveryHealthy DeliveryState = "healthy"
	// DeliveryRetrying: a notification failed and is being retried.
	DeliveryRetrying DeliveryState = "retrying"
)

// DeliveryStatus is how notifications of a subscription are delivered,
// reported read-only by the IMS as extensions.deliveryStatus.
type DeliveryStatus struct {
	// State is DeliveryHealthy or DeliveryRetrying.
	State DeliveryState `json:"state"`
	// RetryingSince is when the notification being retried first failed;
	// zero when healthy.
	RetryingSince time.Time `json:"retryingSince,omitzero"`
	// Attempts is the number of failed attempts of the notification being
	// retried; zero when healthy.
	Attempts int `json:"attempts,omitempty"`
	// NextAttemptAt is when the notification is tried next; zero when
	// healthy.
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
	// LastError describes the last failed attempt.
	LastError string `json:"lastError,omitempty"`
	// LastDeliveredAt is when a notification was last delivered; zero when
	// none was.
	LastDeliveredAt time.Time `json:"lastDeliveredAt,omitzero"`
	// Delivered counts the notifications delivered.
	Delivered int64 `json:"delivered"`
	// Expired counts the notifications given up after
	// --notification-max-age of failed attempts.
	Expired int64 `json:"expired"`
}

// deliveryStatusOf decodes extensions.deliveryStatus of a subscription
// body, or returns nil when it is absent, as in lists that do not select
// extensions.
func deliveryStatusOf(data []byte) (*DeliveryStatus, error) {
	var v struct {
		Extensions struct {
			DeliveryStatus *DeliveryStatus `json:"deliveryStatus"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("extensions.deliveryStatus: %w", err)
	}
	return v.Extensions.DeliveryStatus, nil
}

// Subscription is an inventory subscription: the IMS POSTs an
// InventoryChangeNotification to Callback for every change of the
// inventory Filter selects. Extensions are excluded from lists unless
// selected, such as with ListOptions.Fields "extensions/deliveryStatus".
type Subscription struct {
	// SubscriptionID identifies the subscription; the IMS assigns it.
	SubscriptionID string `json:"subscriptionId"`
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

// UnmarshalJSON decodes a subscription and its delivery status.
func (s *Subscription) UnmarshalJSON(data []byte) error {
	type plain Subscription
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	ds, err := deliveryStatusOf(data)
	if err != nil {
		return err
	}
	*s = Subscription(p)
	s.DeliveryStatus = ds
	return nil
}

// SubscriptionService manages the inventory subscriptions. Get one with
// Client.Subscriptions.
type SubscriptionService struct {
	col collection[Subscription]
}

// Subscriptions returns the service for the inventory subscriptions.
func (c *Client) Subscriptions() *SubscriptionService {
	return &SubscriptionService{col: newCollection[Subscription](c, "subscription", c.inventory, "subscriptions")}
}

// List returns the page of inventory subscriptions opts select.
func (s *SubscriptionService) List(ctx context.Context, opts ListOptions) (*Page[Subscription], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every inventory subscription opts select, fetching
// pages of opts.Limit as needed.
func (s *SubscriptionService) All(ctx context.Context, opts ListOptions) iter.Seq2[Subscription, error] {
	return s.col.all(ctx, opts)
}

// Get returns the inventory subscription with identifier id, with its
// delivery status.
func (s *SubscriptionService) Get(ctx context.Context, id string) (*Subscription, error) {
	return s.col.get(ctx, id)
}

// Create subscribes req.Callback to the inventory changes req.Filter
// selects and returns the new subscription. It is never retried: the
// first attempt may have created it. An invalid callback or filter is a
// ProblemError with status 400; a subscription of the same callback with
// an equivalent filter, one with status 409 (IsConflict).
func (s *SubscriptionService) Create(ctx context.Context, req SubscriptionRequest) (*Subscription, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	return s.col.create(ctx, req)
}

// Delete deletes the inventory subscription with identifier id; nothing
// more is delivered to its callback. An unknown id is a ProblemError with
// status 404.
func (s *SubscriptionService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}
