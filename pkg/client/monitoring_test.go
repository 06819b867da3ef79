package o2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// request is what a recording test server saw of one request.
type request struct {
	Method, Path, Query, ContentType, Body string
}

// recorder is a test server that records each request and answers it
// with the body answer returns for it (200, or 201 to a POST).
type recorder struct {
	mu     sync.Mutex
	seen   []request
	answer func(r *http.Request) string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := readAll(r)
	rec.mu.Lock()
	rec.seen = append(rec.seen, request{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), body})
	rec.mu.Unlock()
	out := "{}"
	if rec.answer != nil {
		out = rec.answer(r)
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodPost {
		w.WriteHeader(http.StatusCreated)
	}
	_, _ = w.Write([]byte(out))
}

func (rec *recorder) requests() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.seen...)
}

func TestMonitoringAndSubscriptionRequests(t *testing.T) {
	rec := &recorder{answer: func(r *http.Request) string {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "s") { // a collection
			return "[]"
		}
		return "{}"
	}}
	srv := newTestServer(t, rec)
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	sev := Eq("perceivedSeverity", SeverityCritical)
	calls := []func() error{
		func() error {
			_, err := c.Subscriptions().Create(ctx, SubscriptionRequest{
				Callback: "http://smo/cb", ConsumerSubscriptionID: "smo-1",
				Filter: And(Eq("objectType", "ResourcePool"), Eq("extensions/site", "east 1")),
			})
			return err
		},
		func() error { _, err := c.Subscriptions().List(ctx, ListOptions{Limit: 5}); return err },
		func() error { _, err := c.Subscriptions().Get(ctx, "s1"); return err },
		func() error { return c.Subscriptions().Delete(ctx, "s1") },
		func() error {
			_, err := c.AlarmSubscriptions().Create(ctx, SubscriptionRequest{Callback: "http://smo/alarms"})
			return err
		},
		func() error { _, err := c.AlarmSubscriptions().List(ctx, ListOptions{}); return err },
		func() error { _, err := c.AlarmSubscriptions().Get(ctx, "a1"); return err },
		func() error { return c.AlarmSubscriptions().Delete(ctx, "a1") },
		func() error { _, err := c.Alarms().List(ctx, ListOptions{Filter: sev}); return err },
		func() error { _, err := c.Alarms().Get(ctx, "al/1"); return err },
		func() error { return c.Alarms().Acknowledge(ctx, "al1") },
		func() error { return c.Alarms().Clear(ctx, "al1") },
		func() error { _, err := c.AlarmServiceConfiguration().Get(ctx); return err },
		func() error {
			_, err := c.AlarmServiceConfiguration().Replace(ctx, AlarmServiceConfiguration{RetentionPeriod: 7})
			return err
		},
		func() error {
			_, err := c.AlarmServiceConfiguration().Patch(ctx, AlarmServiceConfigurationPatch{RetentionPeriod: new(14)})
			return err
		},
		func() error {
			_, err := c.AlarmServiceConfiguration().Patch(ctx, AlarmServiceConfigurationPatch{Extensions: map[string]any{"gone": nil}})
			return err
		},
		func() error { _, err := c.ProbableCauses().List(ctx, ListOptions{}); return err },
		func() error { _, err := c.ProbableCauses().Get(ctx, "pc1"); return err },
		func() error { _, err := c.AlarmDictionaries().List(ctx, ListOptions{}); return err },
		func() error { _, err := c.AlarmDictionaries().Get(ctx, "d1"); return err },
		func() error { _, err := c.AlarmDictionaries().ForResourceType(ctx, "rt 1"); return err },
	}
	for i, f := range calls {
		if err := f(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	const (
		inv = "/o2ims-infrastructureInventory/v1"
		mon = "/o2ims-infrastructureMonitoring/v1"
		mp  = "application/merge-patch+json"
		js  = "application/json"
	)
	want := []request{
		{"POST", inv + "/subscriptions", "", js,
			`{"consumerSubscriptionId":"smo-1","filter":"(eq,objectType,ResourcePool);(eq,extensions/site,'east 1')","callback":"http://smo/cb"}`},
		{"GET", inv + "/subscriptions", "limit=5", "", ""},
		{"GET", inv + "/subscriptions/s1", "", "", ""},
		{"DELETE", inv + "/subscriptions/s1", "", "", ""},
		{"POST", mon + "/alarmSubscriptions", "", js, `{"callback":"http://smo/alarms"}`},
		{"GET", mon + "/alarmSubscriptions", "", "", ""},
		{"GET", mon + "/alarmSubscriptions/a1", "", "", ""},
		{"DELETE", mon + "/alarmSubscriptions/a1", "", "", ""},
		{"GET", mon + "/alarms", "filter=%28eq%2CperceivedSeverity%2C0%29", "", ""},
		{"GET", mon + "/alarms/al%2F1", "", "", ""},
		{"PATCH", mon + "/alarms/al1", "", mp, `{"alarmAcknowledged":true}`},
		{"PATCH", mon + "/alarms/al1", "", mp, `{"perceivedSeverity":5}`},
		{"GET", mon + "/alarmServiceConfiguration", "", "", ""},
		{"PUT", mon + "/alarmServiceConfiguration", "", js, `{"retentionPeriod":7}`},
		{"PATCH", mon + "/alarmServiceConfiguration", "", mp, `{"retentionPeriod":14}`},
		{"PATCH", mon + "/alarmServiceConfiguration", "", mp, `{"extensions":{"gone":null}}`},
		{"GET", mon + "/alarmProbableCauses", "", "", ""},
		{"GET", mon + "/alarmProbableCauses/pc1", "", "", ""},
		{"GET", inv + "/alarmDictionaries", "", "", ""},
		{"GET", inv + "/alarmDictionaries/d1", "", "", ""},
		{"GET", inv + "/resourceTypes/rt%201/alarmDictionary", "", "", ""},
	}
	got := rec.requests()
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestAlarmPatchesHoldExactlyOneAttribute(t *testing.T) {
	rec := &recorder{}
	srv := newTestServer(t, rec)
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	if err := c.Alarms().Acknowledge(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Alarms().Clear(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	wants := []map[string]any{{"alarmAcknowledged": true}, {"perceivedSeverity": float64(5)}}
	for i, r := range rec.requests() {
		if r.Method != http.MethodPatch || r.ContentType != "application/merge-patch+json" {
			t.Errorf("request %d: %s with Content-Type %q", i, r.Method, r.ContentType)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatalf("request %d: body %q: %v", i, r.Body, err)
		}
		if len(body) != 1 || fmt.Sprint(body) != fmt.Sprint(wants[i]) {
			t.Errorf("request %d: body %v, want exactly %v", i, body, wants[i])
		}
	}
}

func TestWritesAreNeverRetried(t *testing.T) {
	ctx := context.Background()
	writes := map[string]func(c *Client) error{
		"create subscription": func(c *Client) error {
			_, err := c.Subscriptions().Create(ctx, SubscriptionRequest{Callback: "http://cb"})
			return err
		},
		"create alarm subscription": func(c *Client) error {
			_, err := c.AlarmSubscriptions().Create(ctx, SubscriptionRequest{Callback: "http://cb"})
			return err
		},
		"acknowledge": func(c *Client) error { return c.Alarms().Acknowledge(ctx, "a1") },
		"clear":       func(c *Client) error { return c.Alarms().Clear(ctx, "a1") },
		"patch configuration": func(c *Client) error {
			_, err := c.AlarmServiceConfiguration().Patch(ctx, AlarmServiceConfigurationPatch{RetentionPeriod: new(3)})
			return err
		},
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
				var attempts atomic.Int32
				srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					attempts.Add(1)
					writeProblem(w, status, "busy")
				}))
				c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 5})
				if err := write(c); StatusCode(err) != status {
					t.Fatalf("err = %v", err)
				}
				if n := attempts.Load(); n != 1 {
					t.Errorf("sent %d times after %d", n, status)
				}
			}
			// Nor after a connection lost before the answer.
			var attempts atomic.Int32
			srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
			}))
			c := newTestClient(t, Config{Endpoint: srv.URL, MaxRetries: 5})
			if err := write(c); err == nil || StatusCode(err) != 0 {
				t.Fatalf("err = %v", err)
			}
			if n := attempts.Load(); n != 1 {
				t.Errorf("sent %d times after a lost connection", n)
			}
		})
	}
}

func TestIdempotentMonitoringCallsAreRetried(t *testing.T) {
	var attempts atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1)%2 == 1 {
			writeProblem(w, http.StatusServiceUnavailable, "busy")
			return
		}
		writeJSON(w, `{"retentionPeriod":7}`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	if err := c.Subscriptions().Delete(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := c.AlarmSubscriptions().Delete(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.AlarmServiceConfiguration().Replace(ctx, AlarmServiceConfiguration{RetentionPeriod: 7})
	if err != nil || cfg.RetentionPeriod != 7 {
		t.Fatalf("Replace: %+v %v", cfg, err)
	}
	if _, err := c.Alarms().Get(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if n := attempts.Load(); n != 8 {
		t.Errorf("%d attempts, want 8 (each call once refused)", n)
	}
}

func TestConflictsAreProblemErrors(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusConflict, "already so")
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	_, err1 := c.Subscriptions().Create(ctx, SubscriptionRequest{Callback: "http://cb"})
	_, err2 := c.AlarmSubscriptions().Create(ctx, SubscriptionRequest{Callback: "http://cb"})
	err3 := c.Alarms().Acknowledge(ctx, "a1")
	err4 := c.Alarms().Clear(ctx, "a1")
	for i, err := range []error{err1, err2, err3, err4} {
		var pe *ProblemError
		if !errors.As(err, &pe) || !IsConflict(err) || pe.Detail != "already so" || IsNotFound(err) {
			t.Errorf("call %d: err %T %v", i, err, err)
		}
	}
}

func TestSubscriptionDecodesDeliveryStatus(t *testing.T) {
	body := `[
	 {"subscriptionId":"s1","callback":"http://cb","filter":"","consumerSubscriptionId":"c1",
	  "extensions":{"site":"east","deliveryStatus":{"state":"retrying","retryingSince":"2026-11-25T10:00:00Z",
	   "attempts":4,"nextAttemptAt":"2026-11-25T10:00:16Z","lastError":"503 Service Unavailable",
	   "lastDeliveredAt":"2026-11-25T09:59:00Z","delivered":12,"expired":1}}},
	 {"subscriptionId":"s2","callback":"http://cb2","filter":"(eq,objectType,Resource)"}
	]`
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/alarmSubscriptions") {
			writeJSON(w, strings.ReplaceAll(body, `"subscriptionId"`, `"alarmSubscriptionId"`))
			return
		}
		writeJSON(w, body)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	page, err := c.Subscriptions().List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, plain := page.Items[0], page.Items[1]
	ds := s.DeliveryStatus
	want := DeliveryStatus{
		State: DeliveryRetrying, RetryingSince: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Attempts: 4,
		NextAttemptAt: time.Date(2026, 11, 25, 10, 0, 16, 0, time.UTC), LastError: "503 Service Unavailable",
		LastDeliveredAt: time.Date(2026, 11, 25, 9, 59, 0, 0, time.UTC), Delivered: 12, Expired: 1,
	}
	if ds == nil || !ds.RetryingSince.Equal(want.RetryingSince) || !ds.NextAttemptAt.Equal(want.NextAttemptAt) ||
		!ds.LastDeliveredAt.Equal(want.LastDeliveredAt) || ds.State != want.State || ds.Attempts != want.Attempts ||
		ds.LastError != want.LastError || ds.Delivered != 12 || ds.Expired != 1 {
		t.Errorf("delivery status %+v", ds)
	}
	if s.SubscriptionID != "s1" || s.ConsumerSubscriptionID != "c1" || s.Extensions["site"] != "east" || s.Extensions["deliveryStatus"] == nil {
		t.Errorf("subscription %+v", s)
	}
	if plain.DeliveryStatus != nil || plain.Filter != "(eq,objectType,Resource)" {
		t.Errorf("without extensions: %+v", plain)
	}
	// Re-encoding keeps the server's representation: the decoded status
	// is not added beside extensions.
	out, _ := json.Marshal(s)
	if strings.Contains(string(out), "DeliveryStatus") || !strings.Contains(string(out), `"deliveryStatus":{`) {
		t.Errorf("re-encoded %s", out)
	}

	apage, err := c.AlarmSubscriptions().List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a := apage.Items[0]; a.AlarmSubscriptionID != "s1" || a.DeliveryStatus == nil || a.DeliveryStatus.Attempts != 4 {
		t.Errorf("alarm subscription %+v", a)
	}
}

func TestMalformedDeliveryStatusIsADecodeError(t *testing.T) {
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, `{"subscriptionId":"s1","callback":"http://cb","extensions":{"deliveryStatus":{"attempts":"many"}}}`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	if _, err := c.Subscriptions().Get(context.Background(), "s1"); err == nil || !strings.Contains(err.Error(), "deliveryStatus") {
		t.Fatalf("err = %v", err)
	}
}

func TestAlarmEventRecordDecoding(t *testing.T) {
	// As the IMS answers, with microsecond times and no cleared time.
	const body = `{"alarmEventRecordId":"d6c22996-0cb4-42dd-85e9-c714807ea976","alarmDefinitionID":"230cfe75-2c5d-5aae-93f8-2c29733f00e4",
	 "probableCauseID":"b0342558-ca84-534d-992a-bea769b78556","alarmRaisedTime":"2026-11-25T20:05:14.640693Z",
	 "alarmChangedTime":"2026-11-25T20:05:19.428500Z","alarmAcknowledgedTime":"2026-11-25T20:05:19.428500Z",
	 "alarmAcknowledged":true,"resourceTypeID":"","resourceID":"b7643fa3","perceivedSeverity":1,
	 "extensions":{"alertName":"A"}}`
	var a AlarmEventRecord
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if a.AlarmRaisedTime != time.Date(2026, 11, 25, 20, 5, 14, 640693000, time.UTC) || !a.AlarmClearedTime.IsZero() ||
		!a.AlarmAcknowledged || a.PerceivedSeverity != SeverityMajor || a.ResourceID != "b7643fa3" ||
		a.AlarmDefinitionID != "230cfe75-2c5d-5aae-93f8-2c29733f00e4" || a.Extensions["alertName"] != "A" {
		t.Errorf("decoded %+v", a)
	}
	out, _ := json.Marshal(a)
	for _, want := range []string{`"alarmDefinitionID":`, `"probableCauseID":`, `"resourceTypeID":""`, `"perceivedSeverity":1`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("re-encoded lacks %s: %s", want, out)
		}
	}
	if strings.Contains(string(out), "alarmClearedTime") {
		t.Errorf("zero cleared time encoded: %s", out)
	}
}

func TestSubscriptionRequestBody(t *testing.T) {
	cases := []struct {
		req  SubscriptionRequest
		want string
	}{
		{SubscriptionRequest{Callback: "http://cb"}, `{"callback":"http://cb"}`},
		{SubscriptionRequest{Callback: "http://cb", ConsumerSubscriptionID: "x", Filter: Eq("notificationEventType", AlarmEventNew)},
			`{"consumerSubscriptionId":"x","filter":"(eq,notificationEventType,0)","callback":"http://cb"}`},
		{SubscriptionRequest{Callback: "http://cb", Filter: RawFilter("(eq,objectType,Resource)")},
			`{"filter":"(eq,objectType,Resource)","callback":"http://cb"}`},
	}
	for _, tc := range cases {
		out, err := json.Marshal(tc.req)
		if err != nil || string(out) != tc.want {
			t.Errorf("%+v: %s %v, want %s", tc.req, out, err, tc.want)
		}
	}
}

func TestMonitoringLocalValidation(t *testing.T) {
	var hits atomic.Int32
	srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeJSON(w, `{}`)
	}))
	c := newTestClient(t, Config{Endpoint: srv.URL})
	ctx := context.Background()
	_, err1 := c.Subscriptions().Create(ctx, SubscriptionRequest{Filter: Eq("objectType", "Resource")})
	_, err2 := c.AlarmSubscriptions().Create(ctx, SubscriptionRequest{})
	err3 := c.Alarms().Acknowledge(ctx, "")
	err4 := c.Alarms().Clear(ctx, "")
	err5 := c.Subscriptions().Delete(ctx, "")
	_, err6 := c.AlarmDictionaries().ForResourceType(ctx, "")
	_, err7 := c.ProbableCauses().Get(ctx, "")
	for i, err := range []error{err1, err2, err3, err4, err5, err6, err7} {
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("call %d: err = %v", i, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent", hits.Load())
	}
}

func TestEnumNames(t *testing.T) {
	cases := []struct {
		got  fmt.Stringer
		want string
	}{
		{SeverityCritical, "CRITICAL"}, {SeverityMajor, "MAJOR"}, {SeverityMinor, "MINOR"},
		{SeverityWarning, "WARNING"}, {SeverityIndeterminate, "INDETERMINATE"}, {SeverityCleared, "CLEARED"},
		{PerceivedSeverity(9), "PerceivedSeverity(9)"}, {PerceivedSeverity(-1), "PerceivedSeverity(-1)"},
		{AlarmEventNew, "NEW"}, {AlarmEventChange, "CHANGE"}, {AlarmEventClear, "CLEAR"},
		{AlarmEventAcknowledge, "ACKNOWLEDGE"}, {AlarmEventType(4), "AlarmEventType(4)"},
		{InventoryEventCreate, "CREATE"}, {InventoryEventModify, "MODIFY"}, {InventoryEventDelete, "DELETE"},
		{InventoryEventType(3), "InventoryEventType(3)"},
	}
	for i, tc := range cases {
		if s := tc.got.String(); s != tc.want {
			t.Errorf("case %d: %q, want %q", i, s, tc.want)
		}
	}
	// In filters and JSON they are numbers.
	if f := And(Lte("perceivedSeverity", SeverityMajor), Eq("notificationEventType", AlarmEventAcknowledge)).String(); f != "(lte,perceivedSeverity,1);(eq,notificationEventType,3)" {
		t.Errorf("filter %s", f)
	}
	if out, _ := json.Marshal(AlarmEventNotification{PerceivedSeverity: SeverityWarning, NotificationEventType: AlarmEventClear}); !strings.Contains(string(out), `"perceivedSeverity":3`) ||
		!strings.Contains(string(out), `"notificationEventType":2`) {
		t.Errorf("notification %s", out)
	}
}
