package subscription

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/provisioning"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Poster sends a notification body to a callback (notify.Webhook).
type Poster interface {
	Post(ctx context.Context, url string, body []byte) (retry bool, err error)
}

// Notifier renders and delivers notifications; it is the dispatcher's
// handler.
type Notifier struct {
	matchers      *Matchers
	poster        Poster
	serviceURI    string
	globalCloudID string
	shaper        Shaper
}

// Shaper converts stored inventory documents into the objects of one
// inventory API version (inventory.Service.Shape).
type Shaper interface {
	Shape(ctx context.Context, v *inventory.Version, table string, objs []map[string]any) error
}

// WithShaper makes the notifier show object states as each subscriber's
// inventory API version shows them; without one they are sent as stored.
func (n *Notifier) WithShaper(sh Shaper) *Notifier {
	n.shaper = sh
	return n
}

// NewNotifier returns a notifier. serviceURI prefixes objectRef URIs.
func NewNotifier(matchers *Matchers, poster Poster, serviceURI, globalCloudID string) *Notifier {
	return &Notifier{matchers: matchers, poster: poster, serviceURI: strings.TrimSuffix(serviceURI, "/"), globalCloudID: globalCloudID}
}

// Match reports whether sub's filter selects ev.
func (n *Notifier) Match(sub sqlstore.Subscription, ev sqlstore.Event) bool {
	return n.matchers.Match(sub, ev)
}

// Deliver sends the notification of ev to sub's callback. retry tells
// whether a failure is worth another attempt.
func (n *Notifier) Deliver(ctx context.Context, sub sqlstore.Subscription, ev sqlstore.Event) (retry bool, err error) {
	body, err := n.RenderContext(ctx, sub, ev)
	if err != nil {
		return false, err
	}
	return n.poster.Post(ctx, sub.Callback, body)
}

// notificationID is derived from subscription and event, so a redelivery
// after a crash carries the same id and consumers can drop duplicates.
func notificationID(sub sqlstore.Subscription, ev sqlstore.Event) string {
	return uuid.NewSHA1(uuid.MustParse(sub.ID), fmt.Appendf(nil, "event/%d", ev.Seq)).String()
}

// Render builds the notification body of ev for sub.
func (n *Notifier) Render(sub sqlstore.Subscription, ev sqlstore.Event) ([]byte, error) {
	return n.RenderContext(context.Background(), sub, ev)
}

// RenderContext builds the notification body of ev for sub: objectRef
// and object states as sub's inventory API version shows them.
func (n *Notifier) RenderContext(ctx context.Context, sub sqlstore.Subscription, ev sqlstore.Event) ([]byte, error) {
	if ev.Stream == sqlstore.StreamAlarm {
		return n.renderAlarm(sub, ev)
	}
	v, ok := inventory.VersionOf(kindOf(sub).Major)
	if !ok {
		v = inventory.V1
	}
	body := map[string]any{
		"notificationId":        notificationID(sub, ev),
		"notificationEventType": ev.EventType,
		"objectRef":             n.serviceURI + objectPath(v, ev),
	}
	if sub.ConsumerSubscriptionID != "" {
		body["consumerSubscriptionId"] = sub.ConsumerSubscriptionID
	}
	for key, state := range map[string]json.RawMessage{"priorObjectState": ev.Prior, "postObjectState": ev.Post} {
		if len(state) == 0 {
			continue
		}
		shaped, err := n.shape(ctx, v, ev.ObjectType, state)
		if err != nil {
			return nil, err
		}
		body[key] = shaped
	}
	return json.Marshal(body)
}

// shape renders a stored state as version v shows it; states of objects
// the versions show alike go out as stored.
func (n *Notifier) shape(ctx context.Context, v *inventory.Version, table string, state json.RawMessage) (any, error) {
	if n.shaper == nil || v.Schema(table) == nil || table == inventory.DeploymentManagerSchema.Name {
		return state, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(state, &obj); err != nil {
		return nil, fmt.Errorf("decode %s state: %w", table, err)
	}
	if err := n.shaper.Shape(ctx, v, table, []map[string]any{obj}); err != nil {
		return nil, err
	}
	return obj, nil
}

func objectPath(v *inventory.Version, ev sqlstore.Event) string {
	state := ev.Post
	if len(state) == 0 {
		state = ev.Prior
	}
	if p, ok := v.ObjectPath(ev.ObjectType, ev.ObjectID, state); ok {
		return p
	}
	switch ev.ObjectType {
	case lcm.PackageSchema.Name:
		return "/o2ims/v1/cnfPackages/" + ev.ObjectID
	case lcm.InstanceSchema.Name:
		return "/o2ims/v1/cnfInstances/" + ev.ObjectID
	case lcm.OpSchema.Name:
		return "/o2ims/v1/lcmOpOccs/" + ev.ObjectID
	case deployment.Schema.Name:
		return "/o2ims/v1/deployments/" + ev.ObjectID
	case provisioning.Schema.Name:
		return "/o2ims-infrastructureProvisioning/v1/provisioningRequests/" + ev.ObjectID
	}
	return v.Prefix + "/" + ev.ObjectType + "/" + ev.ObjectID
}

func (n *Notifier) renderAlarm(sub sqlstore.Subscription, ev sqlstore.Event) ([]byte, error) {
	state := ev.Post
	if len(state) == 0 {
		state = ev.Prior
	}
	var a ims.AlarmEventRecord
	if err := json.Unmarshal(state, &a); err != nil {
		return nil, fmt.Errorf("decode alarm event %d: %w", ev.Seq, err)
	}
	body := map[string]any{
		"notificationId":        notificationID(sub, ev),
		"globalCloudID":         n.globalCloudID,
		"notificationEventType": ev.EventType,
		"objectRef":             n.serviceURI + "/o2ims-infrastructureMonitoring/v1/alarms/" + a.AlarmEventRecordID,
		"alarmEventRecordId":    a.AlarmEventRecordID,
		"resourceTypeID":        a.ResourceTypeID,
		"resourceID":            a.ResourceID,
		"alarmDefinitionID":     a.AlarmDefinitionID,
		"probableCauseID":       a.ProbableCauseID,
		"alarmRaisedTime":       a.AlarmRaisedTime,
		"alarmAcknowledged":     a.AlarmAcknowledged,
		"perceivedSeverity":     a.PerceivedSeverity,
	}
	if sub.ConsumerSubscriptionID != "" {
		body["consumerSubscriptionId"] = sub.ConsumerSubscriptionID
	}
	if a.AlarmChangedTime != "" {
		body["alarmChangedTime"] = a.AlarmChangedTime
	}
	if a.AlarmAcknowledgedTime != "" {
		body["alarmAcknowledgeTime"] = a.AlarmAcknowledgedTime
	}
	if len(a.Extensions) > 0 {
		body["extensions"] = a.Extensions
	}
	return json.Marshal(body)
}
