package o2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// postAlert sends one Alertmanager webhook message (payload version 4)
// with a single alert of fingerprint and status ("firing" or "resolved")
// to the IMS's receiver, as Alertmanager would.
func postAlert(t *testing.T, endpoint, fingerprint, status string) {
	t.Helper()
	alert := map[string]any{
		"status": status, "fingerprint": fingerprint,
		"labels":      map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": "node-1"},
		"annotations": map[string]string{"summary": "disk full"},
		"startsAt":    "2026-11-25T10:00:00Z",
	}
	if status == "resolved" {
		alert["endsAt"] = "2026-11-25T10:05:00Z"
	}
	body, _ := json.Marshal(map[string]any{"version": "4", "status": status, "receiver": "o2ims", "alerts": []any{alert}})
	res, err := http.Post(endpoint+"/internal/v1/alertmanager", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("alertmanager receiver: %s", res.Status)
	}
}

// eventually polls cond every 50 ms until it holds or d has passed.
func eventually(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// TestEndToEndMonitoring runs the real server without the local provider,
// so that the only alarms are the ones the test raises.
func TestEndToEndMonitoring(t *testing.T) {
	endpoint := "http://" + startServer(t, "--local-provider=false")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("inventory subscription lifecycle", func(t *testing.T) {
		req := o2.SubscriptionRequest{
			Callback:               "http://127.0.0.1:9/o2/inventory", // nothing listens: no event matches anyway
			ConsumerSubscriptionID: "smo-1",
			Filter:                 o2.And(o2.Eq("objectType", "ResourcePool"), o2.Eq("extensions/site", "east 1")),
		}
		sub, err := c.Subscriptions().Create(ctx, req)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if sub.SubscriptionID == "" || sub.Callback != req.Callback || sub.ConsumerSubscriptionID != "smo-1" ||
			sub.Filter != "(eq,objectType,ResourcePool);(eq,extensions/site,'east 1')" {
			t.Errorf("created %+v", sub)
		}
		got, err := c.Subscriptions().Get(ctx, sub.SubscriptionID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if ds := got.DeliveryStatus; ds == nil || ds.State != o2.DeliveryHealthy || ds.Delivered != 0 || ds.Expired != 0 ||
			!ds.RetryingSince.IsZero() || ds.LastError != "" {
			t.Errorf("delivery status %+v", got.DeliveryStatus)
		}

		// Lists leave extensions out unless selected.
		page, err := c.Subscriptions().List(ctx, o2.ListOptions{Filter: o2.Eq("consumerSubscriptionId", "smo-1")})
		if err != nil || len(page.Items) != 1 || page.Items[0].SubscriptionID != sub.SubscriptionID || page.Items[0].DeliveryStatus != nil {
			t.Fatalf("List: %+v, %v", page, err)
		}
		page, err = c.Subscriptions().List(ctx, o2.ListOptions{Fields: []string{"extensions/deliveryStatus"}})
		if err != nil || len(page.Items) != 1 || page.Items[0].DeliveryStatus == nil || page.Items[0].DeliveryStatus.State != o2.DeliveryHealthy {
			t.Fatalf("List with deliveryStatus: %+v, %v", page, err)
		}

		// The same callback and filter again is a conflict.
		if _, err := c.Subscriptions().Create(ctx, req); !o2.IsBadRequest(err) {
			t.Errorf("duplicate: %v", err)
		}
		if _, err := c.Subscriptions().Create(ctx, o2.SubscriptionRequest{Callback: "http://169.254.169.254/latest"}); !o2.IsBadRequest(err) {
			t.Errorf("metadata callback: %v", err)
		}
		if _, err := c.Subscriptions().Create(ctx, o2.SubscriptionRequest{Callback: "http://127.0.0.1:9/x", Filter: o2.Eq("colour", "red")}); !o2.IsBadRequest(err) {
			t.Errorf("bad filter: %v", err)
		}

		if err := c.Subscriptions().Delete(ctx, sub.SubscriptionID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := c.Subscriptions().Get(ctx, sub.SubscriptionID); !o2.IsNotFound(err) {
			t.Errorf("Get after Delete: %v", err)
		}
		if err := c.Subscriptions().Delete(ctx, sub.SubscriptionID); !o2.IsNotFound(err) {
			t.Errorf("second Delete: %v", err)
		}
	})

	t.Run("alarms, alarm subscription and notifications", func(t *testing.T) {
		// A consumer's callback, decoding notifications with the SDK types.
		notes := make(chan o2.AlarmEventNotification, 32)
		cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var n o2.AlarmEventNotification
			if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			notes <- n
			w.WriteHeader(http.StatusNoContent)
		}))
		defer cb.Close()
		areq := o2.SubscriptionRequest{
			Callback:               cb.URL + "/alarms",
			ConsumerSubscriptionID: "smo-alarms",
			Filter:                 o2.In("notificationEventType", o2.AlarmEventNew, o2.AlarmEventAcknowledge),
		}
		asub, err := c.AlarmSubscriptions().Create(ctx, areq)
		if err != nil {
			t.Fatalf("Create alarm subscription: %v", err)
		}
		if asub.AlarmSubscriptionID == "" || asub.Filter != "(in,notificationEventType,0,3)" || asub.DeliveryStatus == nil {
			t.Errorf("alarm subscription %+v", asub)
		}
		if _, err := c.AlarmSubscriptions().Create(ctx, areq); !o2.IsBadRequest(err) {
			t.Errorf("duplicate alarm subscription: %v", err)
		}

		postAlert(t, endpoint, "e2e-disk-full", "firing")
		critical, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.Eq("perceivedSeverity", 0)})
		if err != nil {
			t.Fatalf("List alarms: %v", err)
		}
		if len(critical.Items) != 1 {
			t.Fatalf("%d critical alarms, want 1: %+v", len(critical.Items), critical.Items)
		}
		alarm := critical.Items[0]
		if alarm.PerceivedSeverity != o2.SeverityCritical || alarm.AlarmAcknowledged || alarm.AlarmRaisedTime.IsZero() ||
			!alarm.AlarmClearedTime.IsZero() || alarm.ResourceID == "" || alarm.ResourceTypeID == "" || alarm.Extensions["alertName"] != "DiskFull" {
			t.Errorf("alarm %+v", alarm)
		}
		var none int
		for _, err := range c.Alarms().All(ctx, o2.ListOptions{Filter: o2.Eq("perceivedSeverity", o2.SeverityMajor)}) {
			if err != nil {
				t.Fatal(err)
			}
			none++
		}
		if none != 0 {
			t.Errorf("%d major alarms", none)
		}

		// The definition says how it clears; the probable cause names it.
		dicts, err := c.AlarmDictionaries().List(ctx, o2.ListOptions{})
		if err != nil || len(dicts.Items) == 0 {
			t.Fatalf("dictionaries: %+v, %v", dicts, err)
		}
		var def *o2.AlarmDefinition
		for _, d := range dicts.Items[0].AlarmDefinitions {
			if d.AlarmDefinitionID == alarm.AlarmDefinitionID {
				def = &d
			}
		}
		if def == nil || def.ClearingType != o2.ClearingAutomatic || def.AlarmName != "O2IMSExternalAlert" {
			t.Fatalf("definition %+v of alarm %s", def, alarm.AlarmDefinitionID)
		}
		cause, err := c.ProbableCauses().Get(ctx, alarm.ProbableCauseID)
		if err != nil || cause.Name == "" {
			t.Errorf("probable cause %+v, %v", cause, err)
		}

		if err := c.Alarms().Acknowledge(ctx, alarm.AlarmEventRecordID); err != nil {
			t.Fatalf("Acknowledge: %v", err)
		}
		acked, err := c.Alarms().Get(ctx, alarm.AlarmEventRecordID)
		if err != nil {
			t.Fatal(err)
		}
		if !acked.AlarmAcknowledged || acked.AlarmAcknowledgedTime.IsZero() || acked.AlarmChangedTime.Before(acked.AlarmRaisedTime) ||
			acked.Extensions["fingerprint"] != "e2e-disk-full" {
			t.Errorf("acknowledged alarm %+v", acked)
		}
		if err := c.Alarms().Acknowledge(ctx, alarm.AlarmEventRecordID); !o2.IsConflict(err) {
			t.Errorf("second Acknowledge: %v", err)
		}
		if err := c.Alarms().Clear(ctx, alarm.AlarmEventRecordID); !o2.IsConflict(err) {
			t.Errorf("Clear of an automatically clearing alarm: %v", err)
		}
		if err := c.Alarms().Acknowledge(ctx, "00000000-0000-0000-0000-000000000000"); !o2.IsNotFound(err) {
			t.Errorf("Acknowledge unknown: %v", err)
		}

		// NEW, then ACKNOWLEDGE, reach the callback.
		want := []o2.AlarmEventType{o2.AlarmEventNew, o2.AlarmEventAcknowledge}
		for _, typ := range want {
			select {
			case n := <-notes:
				if n.NotificationEventType != typ || n.AlarmEventRecordID != alarm.AlarmEventRecordID ||
					n.ConsumerSubscriptionID != "smo-alarms" || n.PerceivedSeverity != o2.SeverityCritical ||
					n.NotificationID == "" || n.AlarmRaisedTime.IsZero() {
					t.Errorf("notification %+v, want %s", n, typ)
				}
				if typ == o2.AlarmEventAcknowledge && (!n.AlarmAcknowledged || n.AlarmAcknowledgedTime.IsZero()) {
					t.Errorf("acknowledge notification %+v", n)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no %s notification within 30s", typ)
			}
		}
		var status *o2.DeliveryStatus
		if !eventually(10*time.Second, func() bool {
			s, err := c.AlarmSubscriptions().Get(ctx, asub.AlarmSubscriptionID)
			if err == nil {
				status = s.DeliveryStatus
			}
			return status != nil && status.Delivered >= 2
		}) || status.State != o2.DeliveryHealthy || status.LastDeliveredAt.IsZero() {
			t.Errorf("delivery status after two notifications: %+v", status)
		}

		// The alert resolves: the alarm clears by itself, and clearing it
		// by hand is still a conflict.
		postAlert(t, endpoint, "e2e-disk-full", "resolved")
		cleared, err := c.Alarms().Get(ctx, alarm.AlarmEventRecordID)
		if err != nil || cleared.PerceivedSeverity != o2.SeverityCleared || cleared.AlarmClearedTime.IsZero() {
			t.Errorf("resolved alarm %+v, %v", cleared, err)
		}
		if err := c.Alarms().Clear(ctx, alarm.AlarmEventRecordID); !o2.IsConflict(err) {
			t.Errorf("Clear of a cleared alarm: %v", err)
		}

		if err := c.AlarmSubscriptions().Delete(ctx, asub.AlarmSubscriptionID); err != nil {
			t.Fatalf("Delete alarm subscription: %v", err)
		}
		if _, err := c.AlarmSubscriptions().Get(ctx, asub.AlarmSubscriptionID); !o2.IsNotFound(err) {
			t.Errorf("Get after Delete: %v", err)
		}
	})

	t.Run("alarm service configuration", func(t *testing.T) {
		cfg, err := c.AlarmServiceConfiguration().Get(ctx)
		if err != nil || cfg.RetentionPeriod != 30 {
			t.Fatalf("default: %+v, %v", cfg, err)
		}
		if cfg, err = c.AlarmServiceConfiguration().Replace(ctx, o2.AlarmServiceConfiguration{RetentionPeriod: 7}); err != nil || cfg.RetentionPeriod != 7 {
			t.Fatalf("Replace: %+v, %v", cfg, err)
		}
		if cfg, err = c.AlarmServiceConfiguration().Get(ctx); err != nil || cfg.RetentionPeriod != 7 {
			t.Fatalf("Get after Replace: %+v, %v", cfg, err)
		}
		cfg, err = c.AlarmServiceConfiguration().Patch(ctx, o2.AlarmServiceConfigurationPatch{Extensions: map[string]any{"owner": "noc"}})
		if err != nil || cfg.RetentionPeriod != 7 || cfg.Extensions["owner"] != "noc" {
			t.Fatalf("Patch extensions: %+v, %v", cfg, err)
		}
		cfg, err = c.AlarmServiceConfiguration().Patch(ctx, o2.AlarmServiceConfigurationPatch{RetentionPeriod: new(14)})
		if err != nil || cfg.RetentionPeriod != 14 || cfg.Extensions["owner"] != "noc" {
			t.Fatalf("Patch retention: %+v, %v", cfg, err)
		}
		if _, err := c.AlarmServiceConfiguration().Replace(ctx, o2.AlarmServiceConfiguration{RetentionPeriod: 0}); !o2.IsBadRequest(err) {
			t.Errorf("zero retention: %v", err)
		}
	})

	t.Run("probable causes and dictionaries", func(t *testing.T) {
		var causes []o2.ProbableCause
		for pc, err := range c.ProbableCauses().All(ctx, o2.ListOptions{Limit: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			causes = append(causes, pc)
		}
		if len(causes) < 5 {
			t.Fatalf("%d probable causes", len(causes))
		}
		seen := map[string]bool{}
		for _, pc := range causes {
			if pc.ProbableCauseID == "" || pc.Name == "" || pc.Description == "" || seen[pc.ProbableCauseID] {
				t.Errorf("probable cause %+v", pc)
			}
			seen[pc.ProbableCauseID] = true
		}
		one, err := c.ProbableCauses().Get(ctx, causes[0].ProbableCauseID)
		if err != nil || *one != causes[0] {
			t.Errorf("Get %+v, %v", one, err)
		}
		const unknown = "00000000-0000-0000-0000-000000000000"
		if _, err := c.ProbableCauses().Get(ctx, unknown); !o2.IsNotFound(err) {
			t.Errorf("unknown probable cause: %v", err)
		}

		dicts, err := c.AlarmDictionaries().List(ctx, o2.ListOptions{})
		if err != nil || len(dicts.Items) != 1 {
			t.Fatalf("dictionaries %+v, %v", dicts, err)
		}
		d := dicts.Items[0]
		if d.AlarmDictionaryID == "" || d.Vendor == "" || len(d.AlarmDefinitions) < 5 || len(d.ManagementInterfaceIDs) == 0 {
			t.Errorf("dictionary %+v", d)
		}
		manual := 0
		for _, def := range d.AlarmDefinitions {
			if def.ClearingType == o2.ClearingManual {
				manual++
			}
		}
		if manual == 0 {
			t.Error("no manually clearing alarm definition")
		}
		got, err := c.AlarmDictionaries().Get(ctx, d.AlarmDictionaryID)
		if err != nil || got.AlarmDictionaryID != d.AlarmDictionaryID || len(got.AlarmDefinitions) != len(d.AlarmDefinitions) {
			t.Errorf("Get dictionary %+v, %v", got, err)
		}
		if _, err := c.AlarmDictionaries().Get(ctx, unknown); !o2.IsNotFound(err) {
			t.Errorf("unknown dictionary: %v", err)
		}
		if _, err := c.AlarmDictionaries().ForResourceType(ctx, unknown); !o2.IsNotFound(err) {
			t.Errorf("dictionary of an unknown resource type: %v", err)
		}
	})

	t.Run("alarms answer on the Nephoran alias too", func(t *testing.T) {
		res, err := http.Get(endpoint + o2.NephoranAPIPrefix + "/alarms")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var alias []o2.AlarmEventRecord
		if err := json.NewDecoder(res.Body).Decode(&alias); err != nil || len(alias) != 1 {
			t.Fatalf("alias: %v %+v", err, alias)
		}
		std, err := c.Alarms().List(ctx, o2.ListOptions{})
		if err != nil || fmt.Sprint(std.Items) != fmt.Sprint(alias) {
			t.Errorf("alias %+v\nstandard %+v, %v", alias, std, err)
		}
	})
}
