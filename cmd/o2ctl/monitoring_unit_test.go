package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// fakeIMS is an httptest server that records requests and answers each
// with the status and body its handler chooses.
type fakeIMS struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path?query content-type body"
}

func newFakeIMS(t *testing.T, answer func(r *http.Request) (int, string)) *fakeIMS {
	t.Helper()
	f := &fakeIMS{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		line := r.Method + " " + r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			line += "?" + r.URL.RawQuery
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			line += " " + ct + " " + string(body)
		}
		f.mu.Lock()
		f.seen = append(f.seen, line)
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body)) // the handler may read it too
		status, out := answer(r)
		ct := "application/json"
		if status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIMS) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// runAgainst runs o2ctl in-process against endpoint, with a private HOME.
func runAgainst(t *testing.T, endpoint string, args ...string) (string, string, int) {
	t.Helper()
	home := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"--endpoint", endpoint}, args...), &stdout, &stderr,
		func(k string) string {
			if k == "HOME" {
				return home
			}
			return ""
		})
	return stdout.String(), stderr.String(), code
}

const (
	mon = "/o2ims-infrastructureMonitoring/v1"
	inv = "/o2ims-infrastructureInventory/v1"
)

func TestAlarmAckAndClearRequests(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/a2") {
			return http.StatusConflict, `{"status":409,"title":"Conflict","detail":"alarm \"a2\" is acknowledged already"}`
		}
		return http.StatusOK, `{"alarmAcknowledged":true}`
	})
	out, errOut, code := runAgainst(t, ims.URL, "alarm", "ack", "a1")
	if code != exitOK || out != "alarm/a1 acknowledged\n" || errOut != "" {
		t.Errorf("ack: %d %q %q", code, out, errOut)
	}
	out, errOut, code = runAgainst(t, ims.URL, "alarm", "acknowledge", "a1", "a2", "a3")
	if code != exitConflict || out != "alarm/a1 acknowledged\n" ||
		errOut != "o2ctl: 409 Conflict: alarm \"a2\" is acknowledged already\n" {
		t.Errorf("ack of a conflicting alarm: %d %q %q", code, out, errOut)
	}
	out, _, code = runAgainst(t, ims.URL, "alarm", "clear", "a1")
	if code != exitOK || out != "alarm/a1 cleared\n" {
		t.Errorf("clear: %d %q", code, out)
	}
	_, errOut, code = runAgainst(t, ims.URL, "alarm", "ack")
	if code != exitError || !strings.HasPrefix(errOut, "o2ctl: expected one or more alarm IDs") {
		t.Errorf("ack without ID: %d %q", code, errOut)
	}
	const mp = " application/merge-patch+json "
	want := []string{
		"PATCH " + mon + "/alarms/a1" + mp + `{"alarmAcknowledged":true}`,
		"PATCH " + mon + "/alarms/a1" + mp + `{"alarmAcknowledged":true}`,
		"PATCH " + mon + "/alarms/a2" + mp + `{"alarmAcknowledged":true}`,
		"PATCH " + mon + "/alarms/a1" + mp + `{"perceivedSeverity":5}`,
	}
	if got := ims.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
}

func TestSubscribeAndUnsubscribeRequests(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/alarmSubscriptions"):
			return http.StatusCreated, `{"alarmSubscriptionId":"as1","callback":"http://cb","filter":""}`
		case r.Method == http.MethodPost:
			return http.StatusCreated, `{"subscriptionId":"s1","callback":"http://cb","filter":"(eq,objectType,Resource)",` +
				`"extensions":{"deliveryStatus":{"state":"healthy","delivered":0,"expired":0}}}`
		case strings.HasSuffix(r.URL.Path, "/gone"):
			return http.StatusNotFound, `{"status":404,"title":"Not Found","detail":"subscription \"gone\" not found"}`
		}
		return http.StatusOK, ``
	})
	out, errOut, code := runAgainst(t, ims.URL, "subscribe", "--callback", "http://cb", "--filter", "(eq,objectType,Resource)", "--consumer-id", "me")
	if code != exitOK || out != "s1\n" || errOut != "" {
		t.Errorf("subscribe: %d %q %q", code, out, errOut)
	}
	out, _, code = runAgainst(t, ims.URL, "subscribe", "--alarms", "--callback", "http://cb")
	if code != exitOK || out != "as1\n" {
		t.Errorf("subscribe --alarms: %d %q", code, out)
	}
	out, _, code = runAgainst(t, ims.URL, "subscribe", "--callback", "http://cb", "-o", "json")
	if code != exitOK || !strings.Contains(out, `"subscriptionId": "s1"`) || !strings.Contains(out, `"deliveryStatus"`) {
		t.Errorf("subscribe -o json: %d %q", code, out)
	}
	_, errOut, code = runAgainst(t, ims.URL, "subscribe", "--filter", "(eq,objectType,Resource)")
	if code != exitError || !strings.HasPrefix(errOut, "o2ctl: --callback is required") {
		t.Errorf("subscribe without callback: %d %q", code, errOut)
	}
	out, _, code = runAgainst(t, ims.URL, "unsubscribe", "s1", "s2")
	if code != exitOK || out != "subscription/s1 deleted\nsubscription/s2 deleted\n" {
		t.Errorf("unsubscribe: %d %q", code, out)
	}
	out, _, code = runAgainst(t, ims.URL, "unsubscribe", "--alarms", "as1")
	if code != exitOK || out != "alarmsubscription/as1 deleted\n" {
		t.Errorf("unsubscribe --alarms: %d %q", code, out)
	}
	_, errOut, code = runAgainst(t, ims.URL, "unsubscribe", "gone")
	if code != exitNotFound || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "o2ctl: 404") {
		t.Errorf("unsubscribe unknown: %d %q", code, errOut)
	}
	const js = " application/json "
	want := []string{
		"POST " + inv + "/subscriptions" + js + `{"consumerSubscriptionId":"me","filter":"(eq,objectType,Resource)","callback":"http://cb"}`,
		"POST " + mon + "/alarmSubscriptions" + js + `{"callback":"http://cb"}`,
		"POST " + inv + "/subscriptions" + js + `{"callback":"http://cb"}`,
		"DELETE " + inv + "/subscriptions/s1",
		"DELETE " + inv + "/subscriptions/s2",
		"DELETE " + mon + "/alarmSubscriptions/as1",
		"DELETE " + inv + "/subscriptions/gone",
	}
	if got := ims.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
}

func TestAlarmConfigRequests(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		if r.Method == http.MethodPatch {
			return http.StatusOK, `{"retentionPeriod":7,"extensions":{"owner":"noc"}}`
		}
		return http.StatusOK, `{"retentionPeriod":30}`
	})
	out, _, code := runAgainst(t, ims.URL, "alarm-config", "get")
	if code != exitOK || out != "Retention Period:  30 days\n" {
		t.Errorf("get: %d %q", code, out)
	}
	out, _, code = runAgainst(t, ims.URL, "alarm-config", "set", "--retention-days", "7", "-o", "json")
	if code != exitOK || !strings.Contains(out, `"retentionPeriod": 7`) {
		t.Errorf("set: %d %q", code, out)
	}
	_, errOut, code := runAgainst(t, ims.URL, "alarm-config", "set")
	if code != exitError || !strings.Contains(errOut, "--retention-days") {
		t.Errorf("set without a setting: %d %q", code, errOut)
	}
	want := []string{
		"GET " + mon + "/alarmServiceConfiguration",
		"PATCH " + mon + "/alarmServiceConfiguration application/merge-patch+json " + `{"retentionPeriod":7}`,
	}
	if got := ims.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
}

func TestGetSubscriptionsSelectsDeliveryStatus(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		return http.StatusOK, `[{"subscriptionId":"s1","callback":"http://cb","filter":"",` +
			`"extensions":{"deliveryStatus":{"state":"retrying","retryingSince":"2026-11-25T10:00:00Z","attempts":3,` +
			`"nextAttemptAt":"2026-11-25T10:00:08Z","lastError":"connection refused","delivered":4,"expired":0}}}]`
	})
	out, _, code := runAgainst(t, ims.URL, "get", "subscriptions")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "ID CALLBACK FILTER STATE" ||
		strings.Join(strings.Fields(lines[1]), " ") != "s1 http://cb <none> retrying" {
		t.Errorf("table:\n%s", out)
	}
	out, _, _ = runAgainst(t, ims.URL, "get", "subs", "-o", "wide")
	if !strings.Contains(out, "LAST ERROR") || !strings.Contains(out, "connection refused") || !strings.Contains(out, "2026-11-25T10:00:00Z") {
		t.Errorf("wide:\n%s", out)
	}
	runAgainst(t, ims.URL, "get", "asub", "--fields", "callback")
	runAgainst(t, ims.URL, "get", "sub", "--all-fields")
	runAgainst(t, ims.URL, "get", "sub", "--exclude-fields", "filter")
	runAgainst(t, ims.URL, "get", "alarms")
	want := []string{
		"GET " + inv + "/subscriptions?fields=extensions%2FdeliveryStatus",
		"GET " + inv + "/subscriptions?fields=extensions%2FdeliveryStatus",
		"GET " + mon + "/alarmSubscriptions?fields=callback%2Cextensions%2FdeliveryStatus",
		"GET " + inv + "/subscriptions?all_fields=",
		"GET " + inv + "/subscriptions?exclude_fields=filter",
		"GET " + mon + "/alarms",
	}
	if got := ims.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
}

func TestAlarmTableAndDescribe(t *testing.T) {
	const alarm = `{"alarmEventRecordId":"d6c22996-0cb4-42dd-85e9-c714807ea976","alarmDefinitionID":"230cfe75-2c5d-5aae-93f8-2c29733f00e4",
	 "probableCauseID":"b0342558-ca84-534d-992a-bea769b78556","alarmRaisedTime":"2026-11-25T20:05:14.640693Z",
	 "alarmAcknowledged":false,"resourceTypeID":"","resourceID":"r1","perceivedSeverity":1}`
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/alarms") {
			return http.StatusOK, "[" + alarm + "]"
		}
		return http.StatusOK, alarm
	})
	out, _, code := runAgainst(t, ims.URL, "get", "alarms")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != exitOK || len(lines) != 2 ||
		strings.Join(strings.Fields(lines[0]), " ") != "ID SEVERITY DEFINITION PROBABLE CAUSE RESOURCE RAISED ACKED" ||
		strings.Join(strings.Fields(lines[1]), " ") != "d6c22996-0cb4-42dd-85e9-c714807ea976 MAJOR 230cfe75 b0342558 r1 2026-11-25T20:05:14Z false" {
		t.Errorf("table (%d):\n%s", code, out)
	}
	out, _, _ = runAgainst(t, ims.URL, "describe", "alarm", "d6c22996-0cb4-42dd-85e9-c714807ea976")
	for _, want := range []string{
		"Alarm Event Record ID:  d6c22996-0cb4-42dd-85e9-c714807ea976\nPerceived Severity:     MAJOR (1)\n",
		"Alarm Definition ID:    230cfe75-2c5d-5aae-93f8-2c29733f00e4\n",
		"Alarm Raised Time:      2026-11-25T20:05:14.640693Z\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	// JSON keeps the O2ims spelling and the severity as a number.
	out, _, _ = runAgainst(t, ims.URL, "get", "alarm", "d6c22996-0cb4-42dd-85e9-c714807ea976", "-o", "json")
	if !strings.Contains(out, `"perceivedSeverity": 1`) || !strings.Contains(out, `"alarmDefinitionID": "230cfe75`) {
		t.Errorf("json:\n%s", out)
	}
}

func TestMonitoringKindNames(t *testing.T) {
	for name, want := range map[string]string{
		"alarms": "alarms", "alarm": "alarms", "al": "alarms",
		"subscriptions": "subscriptions", "sub": "subscriptions", "subs": "subscriptions",
		"alarmsubscriptions": "alarmsubscriptions", "AlarmSubscription": "alarmsubscriptions", "asub": "alarmsubscriptions",
		"probablecauses": "probablecauses", "pc": "probablecauses",
		"alarmdictionaries": "alarmdictionaries", "alarmdictionary": "alarmdictionaries", "ad": "alarmdictionaries", "dict": "alarmdictionaries",
	} {
		k, err := findKind(name)
		if err != nil || k.name != want {
			t.Errorf("findKind(%q) = %v, %v; want %s", name, k, err, want)
		}
	}
	// Every alias names one kind only.
	seen := map[string]string{}
	for _, k := range kinds() {
		for _, n := range append([]string{k.name, k.singular}, k.aliases...) {
			if other, dup := seen[n]; dup {
				t.Errorf("%q names %s and %s", n, other, k.name)
			}
			seen[n] = k.name
		}
	}
}

func TestShortIDAndTimeCell(t *testing.T) {
	if shortID("230cfe75-2c5d-5aae-93f8-2c29733f00e4") != "230cfe75" || shortID("abc") != "abc" {
		t.Error("shortID")
	}
	var a o2.AlarmEventRecord
	if timeCell(a.AlarmClearedTime) != "" {
		t.Error("zero time")
	}
}
