package subscription

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

const (
	testServiceURI = "https://ims.example/"
	testCloudID    = "0f1e2d3c-0000-4000-8000-000000000001"
)

func render(t *testing.T, n *Notifier, sub sqlstore.Subscription, ev sqlstore.Event) map[string]any {
	t.Helper()
	b, err := n.Render(sub, ev)
	if err != nil {
		t.Fatalf("render event %d: %v", ev.Seq, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, b)
	}
	return m
}

func TestRenderInventory(t *testing.T) {
	n := NewNotifier(NewMatchers(), nil, testServiceURI, testCloudID)
	sub := sqlstore.Subscription{ID: uuid.NewString(), Stream: sqlstore.StreamInventory, ConsumerSubscriptionID: "consumer-7"}
	other := sqlstore.Subscription{ID: uuid.NewString(), Stream: sqlstore.StreamInventory}
	const base = "https://ims.example/o2ims-infrastructureInventory/v1"

	pools := inventory.ResourcePoolSchema.Name
	resources := inventory.ResourceSchema.Name
	tests := []struct {
		name     string
		ev       sqlstore.Event
		typ      float64
		ref      string
		hasPrior bool
		hasPost  bool
	}{
		{"pool create", invEvent(11, pools, "p1", sqlstore.OpCreate, nil, poolDoc(t, "p1", "east")), 0, base + "/resourcePools/p1", false, true},
		{"pool modify", invEvent(12, pools, "p1", sqlstore.OpModify, poolDoc(t, "p1", "east"), poolDoc(t, "p1", "west")), 1, base + "/resourcePools/p1", true, true},
		{"pool delete", invEvent(13, pools, "p1", sqlstore.OpDelete, poolDoc(t, "p1", "west"), nil), 2, base + "/resourcePools/p1", true, false},
		{"resource create", invEvent(14, resources, "r1", sqlstore.OpCreate, nil, resourceDoc(t, "r1", "p9")), 0, base + "/resourcePools/p9/resources/r1", false, true},
		{"resource delete", invEvent(15, resources, "r1", sqlstore.OpDelete, resourceDoc(t, "r1", "p9"), nil), 2, base + "/resourcePools/p9/resources/r1", true, false},
		{"resource type", invEvent(16, inventory.ResourceTypeSchema.Name, "rt1", sqlstore.OpCreate, nil, mustJSON(t, ims.ResourceType{ResourceTypeID: "rt1"})), 0, base + "/resourceTypes/rt1", false, true},
		{"deployment manager", invEvent(17, inventory.DeploymentManagerSchema.Name, "dm1", sqlstore.OpModify,
			mustJSON(t, ims.DeploymentManager{DeploymentManagerID: "dm1", Name: "a"}), mustJSON(t, ims.DeploymentManager{DeploymentManagerID: "dm1", Name: "b"})),
			1, base + "/deploymentManagers/dm1", true, true},
		{"deployment", invEvent(18, deployment.Schema.Name, "d1", sqlstore.OpModify,
			[]byte(`{"deploymentId":"d1","name":"core","status":{"phase":"PENDING"}}`), []byte(`{"deploymentId":"d1","name":"core","status":{"phase":"ACTIVE"}}`)),
			1, "https://ims.example/o2ims/v1/deployments/d1", true, true},
	}
	ids := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, n, sub, tc.ev)
			id, _ := m["notificationId"].(string)
			if _, err := uuid.Parse(id); err != nil {
				t.Fatalf("notificationId %q is not a UUID", m["notificationId"])
			}
			if ids[id] {
				t.Fatalf("notificationId %s repeats for another event", id)
			}
			ids[id] = true
			// Stable for the same subscription and event (a redelivery
			// carries the same id), different for another subscription.
			if again := render(t, n, sub, tc.ev)["notificationId"]; again != id {
				t.Fatalf("notificationId changed between renders: %v then %v", id, again)
			}
			if o := render(t, n, other, tc.ev)["notificationId"]; o == id {
				t.Fatalf("two subscriptions got the same notificationId %v", id)
			}
			if m["notificationEventType"] != tc.typ {
				t.Fatalf("notificationEventType %v, want %v", m["notificationEventType"], tc.typ)
			}
			if m["objectRef"] != tc.ref {
				t.Fatalf("objectRef %v, want %v", m["objectRef"], tc.ref)
			}
			if m["consumerSubscriptionId"] != "consumer-7" {
				t.Fatalf("consumerSubscriptionId %v", m["consumerSubscriptionId"])
			}
			for key, want := range map[string]struct {
				has   bool
				state json.RawMessage
			}{"priorObjectState": {tc.hasPrior, tc.ev.Prior}, "postObjectState": {tc.hasPost, tc.ev.Post}} {
				v, ok := m[key]
				if ok != want.has {
					t.Fatalf("%s present=%v, want %v", key, ok, want.has)
				}
				if !ok {
					continue
				}
				obj, isObj := v.(map[string]any)
				if !isObj {
					t.Fatalf("%s is a %T, want a JSON object", key, v)
				}
				var state map[string]any
				_ = json.Unmarshal(want.state, &state)
				if !reflect.DeepEqual(obj, state) {
					t.Fatalf("%s = %v, want %v", key, obj, state)
				}
			}
		})
	}
	// Without a consumer id the member is absent.
	if m := render(t, n, other, tests[0].ev); m["consumerSubscriptionId"] != nil {
		t.Fatalf("consumerSubscriptionId %v on a subscription without one", m["consumerSubscriptionId"])
	}
}

func TestRenderAlarm(t *testing.T) {
	n := NewNotifier(NewMatchers(), nil, testServiceURI, testCloudID)
	sub := sqlstore.Subscription{ID: uuid.NewString(), Stream: sqlstore.StreamAlarm, ConsumerSubscriptionID: "smo-1"}

	prior := alarmRecord("a1", ims.SeverityMajor)
	acked := prior
	acked.AlarmAcknowledged = true
	acked.AlarmAcknowledgedTime = "2025-01-02T03:10:00.000Z"
	acked.AlarmChangedTime = "2025-01-02T03:10:00.000Z"
	acked.Extensions = ims.Extensions{"summary": "disk full"}
	m := render(t, n, sub, alarmEvent(t, 21, ims.AlarmAcknowledge, &prior, acked))

	want := map[string]any{
		"globalCloudID":          testCloudID,
		"consumerSubscriptionId": "smo-1",
		"notificationEventType":  float64(ims.AlarmAcknowledge),
		"objectRef":              "https://ims.example/o2ims-infrastructureMonitoring/v1/alarms/a1",
		"alarmEventRecordId":     "a1",
		"resourceTypeID":         "rt-1",
		"resourceID":             "res-1",
		"alarmDefinitionID":      "def-1",
		"probableCauseID":        "pc-1",
		"alarmRaisedTime":        "2025-01-02T03:04:05.000Z",
		"alarmChangedTime":       "2025-01-02T03:10:00.000Z",
		"alarmAcknowledgeTime":   "2025-01-02T03:10:00.000Z",
		"alarmAcknowledged":      true,
		"perceivedSeverity":      float64(ims.SeverityMajor),
		"extensions":             map[string]any{"summary": "disk full"},
	}
	id, _ := m["notificationId"].(string)
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("notificationId %v", m["notificationId"])
	}
	delete(m, "notificationId")
	for k, v := range want {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	for k := range m {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected member %s = %v (the spec spells alarmAcknowledgeTime, globalCloudID)", k, m[k])
		}
	}

	// A new alarm has neither change nor acknowledgement times.
	m = render(t, n, sub, alarmEvent(t, 22, ims.AlarmNew, nil, prior))
	for _, k := range []string{"alarmChangedTime", "alarmAcknowledgeTime", "alarmAcknowledgedTime", "extensions"} {
		if _, ok := m[k]; ok {
			t.Errorf("new alarm carries %s", k)
		}
	}
	if m["alarmAcknowledged"] != false || m["notificationEventType"] != float64(ims.AlarmNew) {
		t.Errorf("new alarm: %v", m)
	}
}

// Deliver renders and POSTs the body to the subscription's callback
// through the Poster, and passes the poster's verdict on.
func TestDeliver(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []map[string]any
		status = http.StatusNoContent
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		bodies = append(bodies, m)
		code := status
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer srv.Close()
	n := NewNotifier(NewMatchers(), notify.NewWebhook(notify.WebhookOptions{}), testServiceURI, testCloudID)
	sub := sqlstore.Subscription{ID: uuid.NewString(), Stream: sqlstore.StreamInventory, Callback: srv.URL + "/notify"}
	ev := invEvent(5, inventory.ResourcePoolSchema.Name, "p1", sqlstore.OpCreate, nil, poolDoc(t, "p1", "east"))
	if retry, err := n.Deliver(context.Background(), sub, ev); err != nil || retry {
		t.Fatalf("Deliver = %v, %v", retry, err)
	}
	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	if retry, err := n.Deliver(context.Background(), sub, ev); err == nil || !retry {
		t.Fatalf("Deliver to a 503 subscriber = %v, %v; want a retryable error", retry, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("subscriber got %d posts", len(bodies))
	}
	want := render(t, n, sub, ev)
	if !reflect.DeepEqual(bodies[0], want) || !reflect.DeepEqual(bodies[1], want) {
		t.Fatalf("posted %v, want %v", bodies, want)
	}
	// An alarm whose state cannot be decoded is not posted and not retried.
	bad := sqlstore.Event{Seq: 9, Stream: sqlstore.StreamAlarm, ObjectType: "alarms", ObjectID: "a", Post: json.RawMessage(`"oops"`)}
	if retry, err := n.Deliver(context.Background(), sub, bad); err == nil || retry {
		t.Fatalf("Deliver of an undecodable alarm = %v, %v", retry, err)
	}
}
