package alarms

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

func loadMessage(t *testing.T, name string) WebhookMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	var m WebhookMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

type receiverFixture struct {
	*raiserFixture
	rcv *Receiver
}

// newReceiverFixture seeds the inventory: resource 1 runs node worker-1,
// resource 2 is named by resource_id labels.
func newReceiverFixture(t *testing.T, b sqlstoretest.Backend) *receiverFixture {
	f := newRaiserFixture(t, b)
	f.p.set(site(nil, nil, map[int]ims.Extensions{1: {"nodeName": "worker-1"}, 2: {"nodeName": "worker-2"}}), nil)
	f.sync(t, false)
	f.newEvents(t)
	return &receiverFixture{raiserFixture: f, rcv: NewReceiver(f.svc, f.store)}
}

func (f *receiverFixture) receive(t *testing.T, m WebhookMessage) Result {
	t.Helper()
	res, err := f.rcv.Receive(context.Background(), m)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return res
}

// byAlertName returns the alarms raised for an alert name.
func (f *receiverFixture) byAlertName(t *testing.T, name string) []ims.AlarmEventRecord {
	t.Helper()
	return f.list(t, "(eq,extensions/alertName,"+name+")")
}

func TestReceiverFiringAndResolved(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newReceiverFixture(t, b)
		firing := loadMessage(t, "firing_resource.json")
		if res := f.receive(t, firing); res.Raised != 1 || res.Resolved != 0 {
			t.Errorf("result %+v", res)
		}
		got := f.byAlertName(t, "NodeFilesystemAlmostOutOfSpace")
		if len(got) != 1 {
			t.Fatalf("want one alarm, got %+v", got)
		}
		a := got[0]
		ext := Definition(ExternalAlert)
		if a.AlarmDefinitionID != ext.AlarmDefinitionID || a.ProbableCauseID != ext.ProbableCauseID {
			t.Errorf("definition %s cause %s", a.AlarmDefinitionID, a.ProbableCauseID)
		}
		if a.ResourceID != rRes(2) || a.ResourceTypeID != rType || a.PerceivedSeverity != ims.SeverityCritical {
			t.Errorf("alarm %+v", a)
		}
		x := a.Extensions
		labels, _ := x["labels"].(map[string]any)
		annotations, _ := x["annotations"].(map[string]any)
		if x["source"] != "alertmanager" || x["fingerprint"] != "3f2a8c0d9b1e4a57" || x["resourcePoolId"] != rPool ||
			labels["mountpoint"] != "/" || !strings.Contains(annotations["summary"].(string), "3%") ||
			x["startsAt"] != "2025-03-14T09:21:53Z" || !strings.HasPrefix(x["generatorURL"].(string), "http://prometheus-k8s-0:9090/") {
			t.Errorf("extensions %v", x)
		}
		f.expectEvent(t, ims.AlarmNew, a.AlarmEventRecordID)

		// Alertmanager repeats firing alerts (repeat_interval, group
		// changes); the repeat is the same alarm and no notification.
		f.receive(t, firing)
		if got := f.byAlertName(t, "NodeFilesystemAlmostOutOfSpace"); len(got) != 1 {
			t.Errorf("repeat opened another alarm: %+v", got)
		}
		f.expectNoEvent(t, "a repeated firing alert")

		// A changed severity under the same fingerprint is a CHANGE.
		firing.Alerts[0].Labels["severity"] = "warning"
		f.receive(t, firing)
		post := f.expectEvent(t, ims.AlarmChange, a.AlarmEventRecordID)
		if post.PerceivedSeverity != ims.SeverityWarning {
			t.Errorf("changed severity %d", post.PerceivedSeverity)
		}

		if res := f.receive(t, loadMessage(t, "resolved_resource.json")); res.Resolved != 1 || res.Raised != 0 {
			t.Errorf("resolved result %+v", res)
		}
		post = f.expectEvent(t, ims.AlarmClear, a.AlarmEventRecordID)
		if post.PerceivedSeverity != ims.SeverityCleared || post.AlarmClearedTime == "" {
			t.Errorf("resolved alarm %+v", post)
		}
		// Resolving again changes nothing.
		f.receive(t, loadMessage(t, "resolved_resource.json"))
		f.expectNoEvent(t, "a repeated resolved alert")
		// Firing again after resolution is a new alarm.
		f.receive(t, loadMessage(t, "firing_resource.json"))
		if got := f.list(t, "(eq,extensions/alertName,NodeFilesystemAlmostOutOfSpace);(neq,perceivedSeverity,5)"); len(got) != 1 || got[0].AlarmEventRecordID == a.AlarmEventRecordID {
			t.Errorf("refire: %+v", got)
		}
	})
}

func TestReceiverLinking(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newReceiverFixture(t, b)
		f.receive(t, loadMessage(t, "firing_node.json"))
		node := f.byAlertName(t, "KubeNodeNotReady")
		if len(node) != 1 || node[0].ResourceID != rRes(1) || node[0].ResourceTypeID != rType || node[0].PerceivedSeverity != ims.SeverityWarning {
			t.Errorf("node alert: %+v", node)
		}

		if res := f.receive(t, loadMessage(t, "firing_pool_and_unmatched.json")); res.Raised != 2 {
			t.Errorf("result %+v", res)
		}
		pool := f.byAlertName(t, "SitePowerOnBattery")
		if len(pool) != 1 || pool[0].ResourceID != f.oCloudID || pool[0].Extensions["resourcePoolId"] != rPool ||
			pool[0].Extensions["provider"] != "edge" || pool[0].PerceivedSeverity != ims.SeverityMajor {
			t.Errorf("pool alert: %+v", pool)
		}
		wd := f.byAlertName(t, "Watchdog")
		if len(wd) != 1 || wd[0].ResourceID != f.oCloudID || wd[0].ResourceTypeID != ims.OCloudResourceTypeID || wd[0].PerceivedSeverity != ims.SeverityIndeterminate {
			t.Errorf("unmatched alert: %+v", wd)
		}
		if _, ok := wd[0].Extensions["resourcePoolId"]; ok {
			t.Errorf("unmatched alert linked to a pool: %v", wd[0].Extensions)
		}

		// Labels naming objects that do not exist fall through to the O-Cloud.
		m := loadMessage(t, "firing_resource.json")
		m.Alerts[0].Fingerprint = "0000000000000001"
		m.Alerts[0].Labels = map[string]string{"alertname": "Dangling", "resource_id": "70000000-0000-4000-8000-000000000099",
			"node": "worker-9", "pool_id": "not-a-pool"}
		f.receive(t, m)
		d := f.byAlertName(t, "Dangling")
		if len(d) != 1 || d[0].ResourceID != f.oCloudID {
			t.Errorf("dangling alert: %+v", d)
		}
		if _, ok := d[0].Extensions["resourcePoolId"]; ok {
			t.Errorf("dangling alert linked to a pool: %v", d[0].Extensions)
		}
	})
}

func TestReceiverFingerprintFromLabels(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newReceiverFixture(t, b)
		mk := func(labels map[string]string) WebhookMessage {
			return WebhookMessage{Version: "4", Status: "firing", Alerts: []WebhookAlert{{Status: "firing", Labels: labels}}}
		}
		f.receive(t, mk(map[string]string{"alertname": "NoFP", "instance": "a", "severity": "minor"}))
		f.receive(t, mk(map[string]string{"severity": "minor", "instance": "a", "alertname": "NoFP"}))
		if got := f.byAlertName(t, "NoFP"); len(got) != 1 {
			t.Errorf("same labels without fingerprint: %d alarms", len(got))
		}
		f.receive(t, mk(map[string]string{"alertname": "NoFP", "instance": "b", "severity": "minor"}))
		if got := f.byAlertName(t, "NoFP"); len(got) != 2 {
			t.Errorf("different labels without fingerprint: %d alarms", len(got))
		}
	})
}

func TestReceiverRejects(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newReceiverFixture(t, b)
		ctx := context.Background()
		cases := map[string]func(m *WebhookMessage){
			"version 3":      func(m *WebhookMessage) { m.Version = "3" },
			"no version":     func(m *WebhookMessage) { m.Version = "" },
			"pending status": func(m *WebhookMessage) { m.Alerts[0].Status = "pending" },
			"no identity": func(m *WebhookMessage) {
				m.Alerts[0].Fingerprint = ""
				delete(m.Alerts[0].Labels, "alertname")
			},
			"a bad alert after a good one": func(m *WebhookMessage) {
				bad := m.Alerts[0]
				bad.Status = ""
				m.Alerts = append(m.Alerts, bad)
			},
			"1001 alerts": func(m *WebhookMessage) {
				for len(m.Alerts) <= MaxAlertsPerMessage {
					m.Alerts = append(m.Alerts, m.Alerts[0])
				}
			},
		}
		for name, mutate := range cases {
			m := loadMessage(t, "firing_resource.json")
			mutate(&m)
			_, err := f.rcv.Receive(ctx, m)
			wantCode(t, err, ims.EINVALID, name)
		}
		// A refused message is refused whole.
		if got := f.list(t, ""); len(got) != 0 {
			t.Errorf("refused messages raised %d alarms", len(got))
		}
		f.expectNoEvent(t, "refused messages")

		// Exactly the limit is accepted.
		m := loadMessage(t, "firing_resource.json")
		for len(m.Alerts) < MaxAlertsPerMessage {
			m.Alerts = append(m.Alerts, m.Alerts[0])
		}
		if res := f.receive(t, m); res.Raised != MaxAlertsPerMessage {
			t.Errorf("at the limit: %+v", res)
		}
		if got := f.list(t, ""); len(got) != 1 {
			t.Errorf("1000 copies of one alert: %d alarms", len(got))
		}
	})
}

func TestSeverityMapping(t *testing.T) {
	cases := map[string]ims.PerceivedSeverity{
		"critical": ims.SeverityCritical, "CRITICAL": ims.SeverityCritical, "page": ims.SeverityCritical,
		"emergency": ims.SeverityCritical, "fatal": ims.SeverityCritical,
		"major": ims.SeverityMajor, "high": ims.SeverityMajor, "error": ims.SeverityMajor, "Error": ims.SeverityMajor,
		"minor": ims.SeverityMinor, "medium": ims.SeverityMinor,
		"warning": ims.SeverityWarning, "warn": ims.SeverityWarning, "low": ims.SeverityWarning,
		"info": ims.SeverityIndeterminate, "none": ims.SeverityIndeterminate, "": ims.SeverityIndeterminate,
		"cleared": ims.SeverityIndeterminate, "5": ims.SeverityIndeterminate,
	}
	for label, want := range cases {
		if got := severityOf(label); got != want {
			t.Errorf("severityOf(%q) = %d, want %d", label, got, want)
		}
	}
	// Through the receiver: no label may clear an alarm by itself.
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newReceiverFixture(t, b)
		for label, want := range cases {
			m := WebhookMessage{Version: "4", Alerts: []WebhookAlert{{Status: "firing", Labels: map[string]string{"alertname": "Sev", "severity": label, "x": label}}}}
			f.receive(t, m)
			got := f.list(t, "(eq,extensions/alertName,Sev);(eq,extensions/labels/x,'"+label+"')")
			if label == "" {
				got = f.list(t, "(eq,extensions/alertName,Sev);(eq,extensions/labels/severity,'')")
			}
			if len(got) != 1 || got[0].PerceivedSeverity != want {
				t.Errorf("label %q: %+v, want severity %d", label, got, want)
			}
		}
	})
}
