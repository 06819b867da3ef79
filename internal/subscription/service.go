package subscription

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store is what the subscription service needs from persistence.
type Store interface {
	collection.Store
	CreateSubscription(ctx context.Context, sub sqlstore.Subscription, dedupeKey string) error
	GetSubscription(ctx context.Context, stream, id string) (sqlstore.Subscription, error)
	DeleteSubscription(ctx context.Context, stream, id string) error
	SubscriptionsByID(ctx context.Context, ids []string) (map[string]sqlstore.Subscription, error)
}

// CallbackChecker validates callback URLs (notify.Policy).
type CallbackChecker interface {
	CheckURL(ctx context.Context, raw string) error
}

// Service manages subscriptions.
type Service struct {
	store    Store
	checker  CallbackChecker
	matchers *Matchers
	logger   *slog.Logger
}

// NewService returns a subscription service.
func NewService(store Store, checker CallbackChecker, matchers *Matchers, logger *slog.Logger) *Service {
	return &Service{store: store, checker: checker, matchers: matchers, logger: logger}
}

// Input is a subscription as a consumer submits it.
type Input struct {
	ConsumerSubscriptionID string
	Filter                 string
	Callback               string
}

// Limits on submitted subscriptions.
const (
	maxFilterLen   = 4096
	maxConsumerLen = 1024
)

// idAttr names the identifier attribute of each kind's representation.
func idAttr(k Kind) string {
	if k.Stream == sqlstore.StreamAlarm {
		return "alarmSubscriptionId"
	}
	return "subscriptionId"
}

func schemaOf(k Kind) *query.Schema {
	switch {
	case k.Stream == sqlstore.StreamAlarm:
		return AlarmSchema
	case k.Major == 2:
		return InventoryV2Schema
	}
	return InventorySchema
}

// Create validates and stores a subscription of kind k and returns its
// representation.
func (s *Service) Create(ctx context.Context, k Kind, in Input) (map[string]any, error) {
	if len(in.ConsumerSubscriptionID) > maxConsumerLen {
		return nil, ims.Errorf(ims.EINVALID, "consumerSubscriptionId: longer than %d characters", maxConsumerLen)
	}
	if len(in.Filter) > maxFilterLen {
		return nil, ims.Errorf(ims.EINVALID, "filter: longer than %d characters", maxFilterLen)
	}
	if err := s.checker.CheckURL(ctx, in.Callback); err != nil {
		return nil, err
	}
	f, err := query.ParseFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	if err := s.matchers.Validate(k, f); err != nil {
		return nil, err
	}
	id := uuid.NewString()
	doc := map[string]any{idAttr(k): id, "callback": in.Callback, "filter": in.Filter}
	if in.ConsumerSubscriptionID != "" {
		doc["consumerSubscriptionId"] = in.ConsumerSubscriptionID
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, ims.Internal(err, "creating the subscription failed")
	}
	// The same callback with an equivalent filter is the same subscription.
	scope := k.Stream
	if k.Major > 1 {
		scope += fmt.Sprintf("/v%d", k.Major)
	}
	key := sha256.Sum256([]byte(scope + "\x00" + in.Callback + "\x00" + f.String()))
	sub := sqlstore.Subscription{ID: id, Stream: k.Stream, APIMajor: k.Major, Callback: in.Callback, ConsumerSubscriptionID: in.ConsumerSubscriptionID, Filter: in.Filter, Doc: b}
	if err := s.store.CreateSubscription(ctx, sub, hex.EncodeToString(key[:])); err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "subscription created", "stream", k.Stream, "major", k.Major, "id", id, "callback", redactURL(in.Callback))
	return s.Get(ctx, k, id)
}

// Ensure makes in the only subscription of kind k with its
// consumerSubscriptionId: one with another callback or filter is deleted,
// and in is created unless it exists. It is how the server keeps the
// subscriptions its configuration names (a webhook) across restarts.
func (s *Service) Ensure(ctx context.Context, k Kind, in Input) (string, error) {
	if in.ConsumerSubscriptionID == "" {
		return "", ims.Errorf(ims.EINVALID, "consumerSubscriptionId: required to keep a configured subscription")
	}
	subs, err := s.byConsumer(ctx, k, in.ConsumerSubscriptionID)
	if err != nil {
		return "", err
	}
	var keep string
	for _, sub := range subs {
		id, _ := sub[idAttr(k)].(string)
		if keep == "" && sub["callback"] == in.Callback && sub["filter"] == in.Filter {
			keep = id
			continue
		}
		if err := s.Delete(ctx, k, id); err != nil {
			return "", err
		}
	}
	if keep != "" {
		return keep, nil
	}
	doc, err := s.Create(ctx, k, in)
	if errors.Is(err, sqlstore.ErrDuplicateSubscription) {
		// A consumer's own subscription already sends the same.
		return "", nil
	}
	if err != nil {
		return "", err
	}
	id, _ := doc[idAttr(k)].(string)
	return id, nil
}

// RemoveConsumer deletes the subscriptions of kind k with the
// consumerSubscriptionId consumer.
func (s *Service) RemoveConsumer(ctx context.Context, k Kind, consumer string) error {
	subs, err := s.byConsumer(ctx, k, consumer)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		id, _ := sub[idAttr(k)].(string)
		if err := s.Delete(ctx, k, id); err != nil {
			return err
		}
	}
	return nil
}

// byConsumer returns the stored subscriptions of kind k with the
// consumerSubscriptionId consumer.
func (s *Service) byConsumer(ctx context.Context, k Kind, consumer string) ([]map[string]any, error) {
	var out []map[string]any
	f := query.Filter{Terms: []query.Term{{Op: query.Eq, Path: []string{"consumerSubscriptionId"}, Values: []string{consumer}}}}
	err := collection.Each(ctx, s.store, schemaOf(k), f, func(doc json.RawMessage) error {
		var sub map[string]any
		if err := json.Unmarshal(doc, &sub); err != nil {
			return ims.Internal(err, "reading the subscriptions failed")
		}
		out = append(out, sub)
		return nil
	})
	return out, err
}

// Get returns one subscription with its delivery status in extensions.
func (s *Service) Get(ctx context.Context, k Kind, id string) (map[string]any, error) {
	sub, err := s.store.GetSubscription(ctx, k.Stream, id)
	if err != nil {
		return nil, err
	}
	if max(sub.APIMajor, 1) != k.Major {
		return nil, ims.Errorf(ims.ENOTFOUND, "subscription %q not found", id)
	}
	var doc map[string]any
	if err := json.Unmarshal(sub.Doc, &doc); err != nil {
		return nil, ims.Internal(err, "reading the subscription failed")
	}
	addStatus(doc, sub)
	return doc, nil
}

// Delete removes a subscription; nothing more is delivered to it.
func (s *Service) Delete(ctx context.Context, k Kind, id string) error {
	if _, err := s.Get(ctx, k, id); err != nil {
		return err
	}
	if err := s.store.DeleteSubscription(ctx, k.Stream, id); err != nil {
		return err
	}
	s.matchers.Forget(id)
	s.logger.InfoContext(ctx, "subscription deleted", "stream", k.Stream, "major", k.Major, "id", id)
	return nil
}

// List lists subscriptions of kind k with the SOL013 query language.
func (s *Service) List(ctx context.Context, k Kind, req collection.Request) (collection.Page, error) {
	// The delivery status is added after the query, from live columns;
	// a filter on it would be evaluated on documents that lack it and
	// give wrong answers, so it is refused.
	if f, err := query.ParseFilter(req.Filter); err == nil {
		for _, t := range f.Terms {
			if len(t.Path) >= 2 && t.Path[0] == "extensions" && t.Path[1] == "deliveryStatus" {
				return collection.Page{}, ims.Errorf(ims.EINVALID, "filter: extensions/deliveryStatus cannot be filtered on, in %s; read it with all_fields", t)
			}
		}
	}
	return collection.List(ctx, s.store, schemaOf(k), req, collection.Options{
		Decorate: func(ctx context.Context, objs []map[string]any) error {
			ids := make([]string, 0, len(objs))
			for _, o := range objs {
				if id, ok := o[idAttr(k)].(string); ok {
					ids = append(ids, id)
				}
			}
			subs, err := s.store.SubscriptionsByID(ctx, ids)
			if err != nil {
				return err
			}
			for _, o := range objs {
				id, _ := o[idAttr(k)].(string)
				if sub, ok := subs[id]; ok {
					addStatus(o, sub)
				}
			}
			return nil
		},
	})
}

// addStatus puts the delivery status into doc's extensions.
func addStatus(doc map[string]any, sub sqlstore.Subscription) {
	status := map[string]any{
		"state":     "healthy",
		"delivered": sub.Delivered,
		"expired":   sub.Expired,
	}
	if !sub.RetryingSince.IsZero() {
		status["state"] = "retrying"
		status["retryingSince"] = sub.RetryingSince.UTC().Format(time.RFC3339)
		status["attempts"] = sub.Attempts
		status["nextAttemptAt"] = sub.NextAttemptAt.UTC().Format(time.RFC3339)
	}
	if sub.LastError != "" {
		status["lastError"] = sub.LastError
	}
	if !sub.LastDeliveredAt.IsZero() {
		status["lastDeliveredAt"] = sub.LastDeliveredAt.UTC().Format(time.RFC3339)
	}
	ext, _ := doc["extensions"].(map[string]any)
	ext = maps.Clone(ext)
	if ext == nil {
		ext = map[string]any{}
	}
	ext["deliveryStatus"] = status
	doc["extensions"] = ext
}

func redactURL(u string) string {
	if i := strings.Index(u, "?"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
