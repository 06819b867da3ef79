package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/a1/a1test"
)

// TestA1ResourceReports runs the real server as an A1 enrichment
// information producer: it registers with a (test) ICS, a job created
// there gets the report of the server's own pool at its target every
// interval, a static --a1-report-target gets the whole report, and a
// deleted job gets nothing more.
func TestA1ResourceReports(t *testing.T) {
	ics := a1test.NewICS(t)
	ric, static := a1test.NewReceiver(t), a1test.NewReceiver(t)
	s := start(t, "--a1-ics-endpoint", ics.URL, "--a1-callback-listen", "127.0.0.1:0",
		"--a1-report-interval", "1s", "--a1-min-report-interval", "500ms", "--a1-report-target", static.URL)

	var reg a1test.ICSProducer
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var ok bool
		if reg, ok = ics.Producer("nephoran-o2ims"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not register with ICS: requests %v", ics.Requests())
		}
	}
	if !slices.Equal(reg.SupportedInfoTypes, []string{"o2ims-resource-report"}) || !strings.HasSuffix(reg.InfoJobCallbackURL, "/info-jobs") {
		t.Fatalf("registration %+v", reg)
	}

	// The server's pools, as the API lists them.
	_, _, body := s.get(t, inv+"/v1/resourcePools")
	var pools []string
	for _, p := range decodeList(t, body) {
		pools = append(pools, p["resourcePoolId"].(string))
	}
	if len(pools) == 0 {
		t.Fatalf("no resource pools: %s", body)
	}

	type poolReport struct {
		ResourcePoolID string             `json:"resourcePoolId"`
		Utilization    map[string]float64 `json:"utilization"`
	}
	type report struct {
		ProducerID    string       `json:"producerId"`
		JobID         string       `json:"jobId"`
		Sequence      uint64       `json:"sequence"`
		Timestamp     string       `json:"timestamp"`
		ResourcePools []poolReport `json:"resourcePools"`
		API           struct {
			Requests float64 `json:"requests"`
		} `json:"api"`
	}
	decode := func(raw []json.RawMessage) []report {
		out := make([]report, len(raw))
		for i, b := range raw {
			if err := json.Unmarshal(b, &out[i]); err != nil {
				t.Fatalf("report %s: %v", b, err)
			}
		}
		return out
	}
	atLeast := func(n int) func([]json.RawMessage) bool { return func(r []json.RawMessage) bool { return len(r) >= n } }

	job := a1test.ICSJob{ID: "near-rt-ric-1", TypeID: "o2ims-resource-report", TargetURI: ric.URL, Owner: "ric-1",
		JobData: json.RawMessage(`{"resourcePoolIds":["` + pools[0] + `"],"reportInterval":0.5}`)}
	for _, a := range ics.CreateJob(job) {
		if a.Err != nil || a.Status != http.StatusOK {
			t.Fatalf("the server answered the job %d %s %v", a.Status, a.Body, a.Err)
		}
	}
	got := decode(ric.Wait(30*time.Second, atLeast(2)))
	for i, r := range got[:2] {
		if r.ProducerID != "nephoran-o2ims" || r.JobID != job.ID || r.Sequence != uint64(i+1) || r.Timestamp == "" ||
			len(r.ResourcePools) != 1 || r.ResourcePools[0].ResourcePoolID != pools[0] || r.ResourcePools[0].Utilization == nil {
			t.Errorf("report %d: %+v", i, r)
		}
	}
	if got[1].API.Requests < 1 {
		t.Errorf("the report's API figures do not count the request made: %+v", got[1].API)
	}

	// The static target's first report may predate the first discovery.
	st := decode(static.Wait(30*time.Second, func(r []json.RawMessage) bool {
		d := decode(r)
		return len(d) > 0 && len(d[len(d)-1].ResourcePools) == len(pools)
	}))
	if last := st[len(st)-1]; last.JobID != "static-1" || int(last.Sequence) != len(st) {
		t.Errorf("static target's report: job %s sequence %d after %d reports, want static-1", last.JobID, last.Sequence, len(st))
	}

	// A job data the schema refuses is ICS's 400.
	bad := a1test.ICSJob{ID: "too-often", TypeID: "o2ims-resource-report", TargetURI: ric.URL, JobData: json.RawMessage(`{"reportInterval":0.1}`)}
	if a := ics.CreateJob(bad); len(a) != 1 || a[0].Status != http.StatusBadRequest || !strings.Contains(string(a[0].Body), "reportInterval") {
		t.Errorf("a job asking for reports every 100ms: %+v", a)
	}
	ics.ForgetJob(bad.ID)

	// Deleted: nothing more while the static target gets three reports.
	for _, a := range ics.DeleteJob(job.ID) {
		if a.Status != http.StatusOK {
			t.Fatalf("the server answered the deletion %d %s %v", a.Status, a.Body, a.Err)
		}
	}
	n := len(ric.Reports())
	static.Wait(30*time.Second, atLeast(len(static.Reports())+3))
	if got := len(ric.Reports()); got != n {
		t.Errorf("%d reports after the job was deleted", got-n)
	}

	_, _, metrics := s.get(t, "/metrics")
	for _, m := range []string{"o2ims_a1_reports_delivered_total", "o2ims_a1_report_delivery_failures_total 0", "o2ims_a1_ics_registered 1", "o2ims_a1_report_jobs 1"} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	s.stop(t)
}
