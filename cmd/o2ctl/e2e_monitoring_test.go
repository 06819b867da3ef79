package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// raiseAlert POSTs a firing Alertmanager alert with fingerprint to the
// test server's receiver, which raises an O2IMSExternalAlert alarm.
func raiseAlert(t *testing.T, fingerprint string) {
	t.Helper()
	body := `{"version":"4","status":"firing","receiver":"o2ims","alerts":[{"status":"firing","fingerprint":"` + fingerprint +
		`","labels":{"alertname":"O2ctlTest","severity":"critical"},"annotations":{"summary":"o2ctl test"},` +
		`"startsAt":"2026-11-25T10:00:00Z"}]}`
	res, err := http.Post(serverURL+"/internal/v1/alertmanager", "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("alertmanager receiver: %s", res.Status)
	}
}

// alarmByFingerprint returns the ID of the alarm raised for the alert
// with fingerprint, found with "o2ctl get alarms -o json".
func alarmByFingerprint(t *testing.T, fingerprint string) string {
	t.Helper()
	out, _ := o2ctl(t, 0, "get", "alarms", "--filter", "(eq,extensions/fingerprint,"+fingerprint+")",
		"--fields", "extensions/fingerprint", "-o", "json")
	var alarms []map[string]any
	if err := json.Unmarshal([]byte(out), &alarms); err != nil {
		t.Fatalf("get alarms -o json: %v\n%s", err, out)
	}
	if len(alarms) != 1 {
		t.Fatalf("%d alarms for %s:\n%s", len(alarms), fingerprint, out)
	}
	id, _ := alarms[0]["alarmEventRecordId"].(string)
	return id
}

var uuidLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$`)

func TestAlarmAckTwiceIsAConflict(t *testing.T) {
	// The server outlives one run of the test (-count): a fresh alert.
	fp := "o2ctl-e2e-ack-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	raiseAlert(t, fp)
	id := alarmByFingerprint(t, fp)

	// The plain list holds it too, with the spec's attribute names.
	out, errOut := o2ctl(t, 0, "get", "alarms", "-o", "json")
	var all []map[string]any
	if err := json.Unmarshal([]byte(out), &all); err != nil || errOut != "" {
		t.Fatalf("get alarms -o json: %v %q\n%s", err, errOut, out)
	}
	found := false
	for _, a := range all {
		if a["alarmEventRecordId"] == id {
			found = true
			if a["perceivedSeverity"] != float64(0) || a["alarmAcknowledged"] != false || a["alarmDefinitionID"] == nil ||
				a["probableCauseID"] == nil || a["resourceID"] == nil || a["alarmRaisedTime"] == nil {
				t.Errorf("alarm %v", a)
			}
		}
	}
	if !found {
		t.Fatalf("alarm %s not listed:\n%s", id, out)
	}
	out, _ = o2ctl(t, 0, "get", "alarms", "--filter", "(eq,perceivedSeverity,0)")
	if header := strings.Fields(strings.SplitN(out, "\n", 2)[0]); strings.Join(header, " ") != "ID SEVERITY DEFINITION PROBABLE CAUSE RESOURCE RAISED ACKED" {
		t.Errorf("table header %q", header)
	}
	if !regexp.MustCompile(`(?m)^` + id + `\s+CRITICAL\s+[0-9a-f]{8}\s+[0-9a-f]{8}\s+\S+\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+false$`).MatchString(out) {
		t.Errorf("no row for %s:\n%s", id, out)
	}

	out, errOut = o2ctl(t, 0, "alarm", "ack", id)
	if out != "alarm/"+id+" acknowledged\n" || errOut != "" {
		t.Errorf("ack: %q %q", out, errOut)
	}
	out, errOut = o2ctl(t, exitConflict, "alarm", "ack", id)
	if out != "" || !strings.HasPrefix(errOut, "o2ctl: 409 Conflict: ") || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, "acknowledged already") {
		t.Errorf("second ack: stdout %q, stderr %q", out, errOut)
	}
	// It clears when the alert resolves, not by hand.
	_, errOut = o2ctl(t, exitConflict, "alarm", "clear", id)
	if !strings.HasPrefix(errOut, "o2ctl: 409 Conflict: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("clear: stderr %q", errOut)
	}

	out, _ = o2ctl(t, 0, "get", "alarm", id, "-o", "json")
	var one map[string]any
	if err := json.Unmarshal([]byte(out), &one); err != nil || one["alarmAcknowledged"] != true || one["alarmAcknowledgedTime"] == nil {
		t.Errorf("after ack: %v %s", err, out)
	}
	out, _ = o2ctl(t, 0, "describe", "alarm", id)
	for _, want := range []string{"Alarm Event Record ID:", "Perceived Severity:       CRITICAL (0)", "Alarm Acknowledged:       true",
		"Alarm Definition ID:", "Alarm Acknowledged Time:", "  fingerprint:  " + fp} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	_, errOut = o2ctl(t, exitNotFound, "alarm", "ack", "00000000-0000-0000-0000-000000000000")
	if !strings.HasPrefix(errOut, "o2ctl: 404") {
		t.Errorf("ack unknown: %q", errOut)
	}
}

func TestSubscribeGetUnsubscribe(t *testing.T) {
	for _, tc := range []struct {
		name, kind, filter string
		flags              []string
	}{
		// Filters no event matches, so that the state stays healthy
		// although nothing listens on the callback.
		{"inventory", "subscriptions", "(eq,objectType,ResourcePool);(eq,extensions/site,'no such site')", nil},
		{"alarms", "alarmsubscriptions", "(eq,notificationEventType,NEW);(eq,resourceID,no-such-resource)", []string{"--alarms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			callback := "http://127.0.0.1:9/o2ctl-e2e-" + tc.name
			args := append([]string{"subscribe", "--callback", callback, "--filter", tc.filter, "--consumer-id", "e2e"}, tc.flags...)
			out, errOut := o2ctl(t, 0, args...)
			if !uuidLine.MatchString(out) || errOut != "" {
				t.Fatalf("subscribe printed %q, stderr %q", out, errOut)
			}
			id := strings.TrimSpace(out)

			out, _ = o2ctl(t, 0, "get", tc.kind)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if strings.Join(strings.Fields(lines[0]), " ") != "ID CALLBACK FILTER STATE" {
				t.Errorf("header %q", lines[0])
			}
			row := ""
			for _, l := range lines[1:] {
				if strings.HasPrefix(l, id) {
					row = strings.Join(strings.Fields(l), " ")
				}
			}
			if row != id+" "+callback+" "+tc.filter+" healthy" {
				t.Errorf("row %q in\n%s", row, out)
			}
			out, _ = o2ctl(t, 0, "get", tc.kind, id, "-o", "json")
			var sub map[string]any
			if err := json.Unmarshal([]byte(out), &sub); err != nil || sub["callback"] != callback || sub["consumerSubscriptionId"] != "e2e" {
				t.Fatalf("get by ID: %v %s", err, out)
			}
			if ds, _ := sub["extensions"].(map[string]any)["deliveryStatus"].(map[string]any); ds["state"] != "healthy" {
				t.Errorf("delivery status %v", sub["extensions"])
			}
			out, _ = o2ctl(t, 0, "describe", tc.kind, id)
			if !strings.Contains(out, "Callback:") || !strings.Contains(out, "  deliveryStatus:") {
				t.Errorf("describe:\n%s", out)
			}

			// The same callback and filter again is refused (400, as the
			// O-RAN SC compliance suite expects), naming the first.
			_, errOut = o2ctl(t, exitError, args...)
			if !strings.HasPrefix(errOut, "o2ctl: 400 Bad Request: ") || !strings.Contains(errOut, id) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("duplicate: %q", errOut)
			}

			singular := strings.TrimSuffix(tc.kind, "s")
			out, _ = o2ctl(t, 0, append([]string{"unsubscribe", id}, tc.flags...)...)
			if out != singular+"/"+id+" deleted\n" {
				t.Errorf("unsubscribe: %q", out)
			}
			o2ctl(t, exitNotFound, "get", tc.kind, id)
			o2ctl(t, exitNotFound, append([]string{"unsubscribe", id}, tc.flags...)...)
		})
	}
	_, errOut := o2ctl(t, exitError, "subscribe", "--callback", "http://169.254.169.254/latest")
	if !strings.HasPrefix(errOut, "o2ctl: 400 Bad Request: callback") {
		t.Errorf("metadata callback: %q", errOut)
	}
}

func TestProbableCausesDictionariesAndAlarmConfig(t *testing.T) {
	out, _ := o2ctl(t, 0, "get", "probablecauses", "-o", "name")
	if n := strings.Count(out, "probablecause/"); n < 5 {
		t.Errorf("%d probable causes:\n%s", n, out)
	}
	dict := firstID(t, "alarmdictionaries")
	out, _ = o2ctl(t, 0, "describe", "ad", dict)
	for _, want := range []string{"Alarm Dictionary ID:", "Alarm Definition:", "  Alarm Name:", "  Clearing Type:            MANUAL"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe dictionary lacks %q:\n%s", want, out)
		}
	}
	out, _ = o2ctl(t, 0, "alarm-config", "set", "--retention-days", "7")
	if out != "Retention Period:  7 days\n" {
		t.Errorf("set: %q", out)
	}
	out, _ = o2ctl(t, 0, "alarm-config", "get", "-o", "json")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(out), &cfg); err != nil || cfg["retentionPeriod"] != float64(7) {
		t.Errorf("get: %v %s", err, out)
	}
	_, errOut := o2ctl(t, exitError, "alarm-config", "set", "--retention-days", "0")
	if !strings.HasPrefix(errOut, "o2ctl: 400 Bad Request: retentionPeriod") {
		t.Errorf("zero days: %q", errOut)
	}
}
