package a1_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/a1"
	"github.com/nephoran/o2ims/internal/a1/a1test"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/report"
)

// The intervals of the producers under test: short, so that the tests
// wait little; every wait has a deadline of its own.
const (
	interval = 50 * time.Millisecond
	wait     = 15 * time.Second
)

const (
	poolC = "cccccccc-0000-4000-8000-000000000003"
	dep1  = "d1000000-0000-4000-8000-000000000001"
	dep2  = "d2000000-0000-4000-8000-000000000002"
	dep3  = "d3000000-0000-4000-8000-000000000003"
)

// reports is the report builder of the tests: a fixed report, or an error.
type reports struct {
	mu  sync.Mutex
	r   report.Report
	err error
}

func (f *reports) Build(context.Context) (report.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r, f.err
}

func (f *reports) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// sample has pool A (Kubernetes cluster "edge", eu-west-1), pool B (AWS,
// us-east-1) and pool C (AWS, eu-west-1); deployment 1 runs on A, 2 on B,
// 3 on A and C.
func sample() report.Report {
	pool := func(id, name, provider, providerName, region string) report.Pool {
		return report.Pool{ResourcePoolID: id, Name: name, Provider: provider, ProviderName: providerName, Region: region,
			PerformanceProfile: "standard", Healthy: true, NodeCount: 2, Resources: 3, Utilization: map[string]float64{"cpu": 0.25}}
	}
	return report.Report{
		GeneratedAt: "2026-12-08T10:00:00.000000Z",
		ResourcePools: []report.Pool{
			pool(poolA, "edge-a", "kubernetes", "edge", "eu-west-1"),
			pool(poolB, "aws-b", "aws", "aws-east", "us-east-1"),
			pool(poolC, "aws-c", "aws", "aws-west", "eu-west-1"),
		},
		Deployments: []report.Deployment{
			{DeploymentID: dep1, Name: "amf", Phase: "ACTIVE", Replicas: 2, ReadyReplicas: 2, ResourcePools: []string{poolA}},
			{DeploymentID: dep2, Name: "smf", Phase: "ACTIVE", Replicas: 1, ReadyReplicas: 1, ResourcePools: []string{poolB}},
			{DeploymentID: dep3, Name: "upf", Phase: "DEGRADED", Replicas: 3, ReadyReplicas: 1, ResourcePools: []string{poolA, poolC}},
		},
		API:           report.API{Requests: 42, ServerErrors: 1, MeanLatencySeconds: 0.004},
		Notifications: report.Notifications{Delivered: 7, FailedAttempts: 2, MeanLatencySeconds: 0.03},
	}
}

// producer is a running producer, its callback server and metrics.
type producer struct {
	*a1.Producer
	callbackURL string
	reg         *prometheus.Registry
	stop        func()
}

// startProducer runs a producer of sample (or rep) registering with ics
// (nil: none) and serving its callbacks on a server of its own, until the
// test ends or stop is called.
func startProducer(t *testing.T, ics *a1test.ICS, opts a1.ProducerOptions, rep *reports) *producer {
	t.Helper()
	if rep == nil {
		rep = &reports{r: sample()}
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if ics != nil {
		c, err := a1.NewICSClient(ics.URL, a1.Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		opts.ICS = c
		opts.CallbackURL = srv.URL + "/o2ims/a1-ei"
	}
	if opts.ReportInterval == 0 {
		opts.ReportInterval = interval
	}
	if opts.MinReportInterval == 0 {
		opts.MinReportInterval = 20 * time.Millisecond
	}
	if opts.RegistrationInterval == 0 {
		opts.RegistrationInterval = interval
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 20 * time.Millisecond
	}
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	p, err := a1.NewProducer(rep, opts, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", p.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return &producer{Producer: p, callbackURL: opts.CallbackURL, reg: reg, stop: stop}
}

// metric is the value of a metric without labels.
func (p *producer) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := p.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// eventually polls cond until it holds, failing the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(wait); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, wait)
		}
	}
}

// registered waits until ics knows the producer.
func registered(t *testing.T, ics *a1test.ICS) a1test.ICSProducer {
	t.Helper()
	var p a1test.ICSProducer
	eventually(t, "producer registration", func() bool {
		var ok bool
		p, ok = ics.Producer(a1.DefaultProducerID)
		return ok
	})
	return p
}

// received is a report as a target gets it.
type received struct {
	ProducerID     string  `json:"producerId"`
	InfoTypeID     string  `json:"infoTypeId"`
	JobID          string  `json:"jobId"`
	Sequence       uint64  `json:"sequence"`
	Timestamp      string  `json:"timestamp"`
	ReportInterval float64 `json:"reportInterval"`
	report.Report
}

func decode(t *testing.T, raw []json.RawMessage) []received {
	t.Helper()
	out := make([]received, len(raw))
	for i, b := range raw {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatalf("report %s: %v", b, err)
		}
	}
	return out
}

// atLeast is a Receiver.Wait condition: n reports.
func atLeast(n int) func([]json.RawMessage) bool {
	return func(r []json.RawMessage) bool { return len(r) >= n }
}

func poolIDs(r received) []string {
	var ids []string
	for _, p := range r.ResourcePools {
		ids = append(ids, p.ResourcePoolID)
	}
	return ids
}

func deploymentIDs(r received) []string {
	var ids []string
	for _, d := range r.Deployments {
		ids = append(ids, d.DeploymentID)
	}
	return ids
}

// wantOK fails unless every callback answer is 200.
func wantOK(t *testing.T, what string, answers []a1test.Answer) {
	t.Helper()
	if len(answers) == 0 {
		t.Fatalf("%s: no producer was called", what)
	}
	for _, a := range answers {
		if a.Err != nil || a.Status != http.StatusOK {
			t.Fatalf("%s: producer %s answered %d %s %v", what, a.Producer, a.Status, a.Body, a.Err)
		}
	}
}

// TestProducerRegisters: the type, then the producer, with the bodies ICS
// expects; supervision is answered.
func TestProducerRegisters(t *testing.T) {
	ics := a1test.NewICS(t)
	p := startProducer(t, ics, a1.ProducerOptions{}, nil)
	reg := registered(t, ics)

	if reg.InfoJobCallbackURL != p.callbackURL+"/info-jobs" || reg.InfoProducerSupervisionCallbackURL != p.callbackURL+"/supervision" ||
		!slices.Equal(reg.SupportedInfoTypes, []string{a1.DefaultInfoTypeID}) {
		t.Errorf("producer registration %+v", reg)
	}
	regs := ics.Registrations()
	if len(regs) < 2 || regs[0].Kind != "type" || regs[0].ID != a1.DefaultInfoTypeID || regs[0].Status != http.StatusCreated ||
		regs[1].Kind != "producer" || regs[1].ID != a1.DefaultProducerID || regs[1].Status != http.StatusCreated {
		t.Fatalf("registrations %+v, want the type then the producer, both created", regs)
	}
	// The bodies as ICS reads them: snake_case keys, a JSON schema.
	var typ map[string]json.RawMessage
	if err := json.Unmarshal(regs[0].Body, &typ); err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Schema     string                     `json:"$schema"`
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Additional *bool                      `json:"additionalProperties"`
	}
	if err := json.Unmarshal(typ["info_job_data_schema"], &schema); err != nil {
		t.Fatalf("info_job_data_schema %s: %v", typ["info_job_data_schema"], err)
	}
	for _, k := range []string{"resourcePoolIds", "deploymentIds", "regions", "providers", "reportInterval"} {
		if _, ok := schema.Properties[k]; !ok {
			t.Errorf("the job data schema has no property %s: %s", k, typ["info_job_data_schema"])
		}
	}
	if !strings.Contains(schema.Schema, "json-schema.org") || schema.Type != "object" || schema.Additional == nil || *schema.Additional {
		t.Errorf("job data schema %s", typ["info_job_data_schema"])
	}
	var info map[string]any
	if err := json.Unmarshal(typ["info_type_information"], &info); err != nil || info["description"] == "" || info["defaultReportInterval"] != interval.Seconds() {
		t.Errorf("info_type_information %s", typ["info_type_information"])
	}
	var prod map[string]any
	if err := json.Unmarshal(regs[1].Body, &prod); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"info_job_callback_url", "info_producer_supervision_callback_url", "supported_info_types"} {
		if _, ok := prod[k]; !ok {
			t.Errorf("producer registration %s lacks %s", regs[1].Body, k)
		}
	}

	for _, a := range ics.Supervise() {
		if a.Err != nil || a.Status != http.StatusOK || !json.Valid(a.Body) {
			t.Errorf("supervision answered %d %s %v", a.Status, a.Body, a.Err)
		}
	}
	eventually(t, "registered metric", func() bool { return p.metric(t, "o2ims_a1_ics_registered") == 1 })
	// Later checks find the producer registered and do not register again.
	n := len(ics.Requests())
	eventually(t, "registration checks", func() bool { return len(ics.Requests()) >= n+4 })
	if got := len(ics.Registrations()); got != 2 {
		t.Errorf("%d registrations while ICS kept the producer, want 2", got)
	}
}

// TestJobReports: a job's target gets the report, narrowed by its job
// data, with its envelope and an increasing sequence; the API and
// notification figures stay whole.
func TestJobReports(t *testing.T) {
	ics := a1test.NewICS(t)
	startProducer(t, ics, a1.ProducerOptions{}, nil)
	registered(t, ics)
	all := []string{poolA, poolB, poolC}
	deps := []string{dep1, dep2, dep3}
	tests := []struct {
		name     string
		data     string
		pools    []string
		deps     []string
		interval float64
	}{
		{"no data", ``, all, deps, interval.Seconds()},
		{"empty", `{}`, all, deps, interval.Seconds()},
		{"pools", `{"resourcePoolIds":["` + poolA + `"]}`, []string{poolA}, []string{dep1, dep3}, interval.Seconds()},
		{"region", `{"regions":["eu-west-1"]}`, []string{poolA, poolC}, []string{dep1, dep3}, interval.Seconds()},
		{"provider type", `{"providers":["aws"]}`, []string{poolB, poolC}, []string{dep2, dep3}, interval.Seconds()},
		{"provider name", `{"providers":["edge"]}`, []string{poolA}, []string{dep1, dep3}, interval.Seconds()},
		{"region and provider", `{"regions":["eu-west-1"],"providers":["aws"]}`, []string{poolC}, []string{dep3}, interval.Seconds()},
		{"deployments", `{"deploymentIds":["` + dep2 + `","` + dep3 + `"]}`, all, []string{dep2, dep3}, interval.Seconds()},
		{"nothing matches", `{"regions":["mars-1"]}`, nil, nil, interval.Seconds()},
		{"own interval", `{"reportInterval":0.03,"deploymentIds":["` + dep1 + `"]}`, all, []string{dep1}, 0.03},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := a1test.NewReceiver(t)
			job := a1test.ICSJob{ID: "job-" + strings.ReplaceAll(tt.name, " ", "-"), TypeID: a1.DefaultInfoTypeID, TargetURI: rc.URL, Owner: "near-rt-ric-1"}
			if tt.data != "" {
				job.JobData = json.RawMessage(tt.data)
			}
			wantOK(t, "create job", ics.CreateJob(job))
			got := decode(t, rc.Wait(wait, atLeast(3)))
			for i, r := range got {
				if r.Sequence != uint64(i+1) {
					t.Errorf("report %d has sequence %d", i, r.Sequence)
				}
				if r.ProducerID != a1.DefaultProducerID || r.InfoTypeID != a1.DefaultInfoTypeID || r.JobID != job.ID || r.ReportInterval != tt.interval {
					t.Errorf("report envelope %+v", r)
				}
				if _, err := time.Parse(query.TimeLayout, r.Timestamp); err != nil {
					t.Errorf("timestamp %q: %v", r.Timestamp, err)
				}
				if !slices.Equal(poolIDs(r), tt.pools) || !slices.Equal(deploymentIDs(r), tt.deps) {
					t.Errorf("report %d: pools %v deployments %v, want %v %v", i, poolIDs(r), deploymentIDs(r), tt.pools, tt.deps)
				}
				if r.API != sample().API || r.Notifications != sample().Notifications || r.GeneratedAt != sample().GeneratedAt {
					t.Errorf("report %d: api %+v notifications %+v generatedAt %s, want them whole", i, r.API, r.Notifications, r.GeneratedAt)
				}
			}
			// Empty lists are lists, never null, for consumers.
			if raw := string(rc.Reports()[0]); !strings.Contains(raw, `"resourcePools":[`) || !strings.Contains(raw, `"deployments":[`) {
				t.Errorf("report %s", raw)
			}
			wantOK(t, "delete job", ics.DeleteJob(job.ID))
		})
	}
}

// TestJobDeleted: after ICS deletes a job its target gets nothing more,
// while another job goes on; deleting it again, or a job the producer
// never ran, is fine.
func TestJobDeleted(t *testing.T) {
	ics := a1test.NewICS(t)
	p := startProducer(t, ics, a1.ProducerOptions{}, nil)
	registered(t, ics)
	gone, clock := a1test.NewReceiver(t), a1test.NewReceiver(t)
	wantOK(t, "create job", ics.CreateJob(a1test.ICSJob{ID: "gone", TypeID: a1.DefaultInfoTypeID, TargetURI: gone.URL}))
	wantOK(t, "create job", ics.CreateJob(a1test.ICSJob{ID: "clock", TypeID: a1.DefaultInfoTypeID, TargetURI: clock.URL}))
	gone.Wait(wait, atLeast(2))

	wantOK(t, "delete job", ics.DeleteJob("gone"))
	n := len(gone.Reports())
	// Three more intervals of the other job.
	m := len(clock.Reports())
	clock.Wait(wait, atLeast(m+3))
	if got := len(gone.Reports()); got != n {
		t.Errorf("%d reports after the job was deleted", got-n)
	}

	for _, id := range []string{"gone", "never-ran"} {
		resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodDelete, p.callbackURL+"/info-jobs/"+id, ""))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("DELETE of job %s: %d, want 200", id, resp.StatusCode)
		}
	}
}

// TestJobChanged: ICS sending a job again with other data narrows its
// reports from then on, and its sequence goes on; the same job sent again
// keeps running as it was.
func TestJobChanged(t *testing.T) {
	ics := a1test.NewICS(t)
	startProducer(t, ics, a1.ProducerOptions{}, nil)
	registered(t, ics)
	rc := a1test.NewReceiver(t)
	job := a1test.ICSJob{ID: "j", TypeID: a1.DefaultInfoTypeID, TargetURI: rc.URL, JobData: json.RawMessage(`{"regions":["us-east-1"]}`)}
	wantOK(t, "create job", ics.CreateJob(job))
	rc.Wait(wait, atLeast(2))
	wantOK(t, "same job again", ics.CreateJob(job))
	job.JobData = json.RawMessage(`{"regions":["eu-west-1"]}`)
	wantOK(t, "changed job", ics.CreateJob(job))
	got := decode(t, rc.Wait(wait, func(r []json.RawMessage) bool {
		d := decode(t, r)
		return slices.Equal(poolIDs(d[len(d)-1]), []string{poolA, poolC})
	}))
	for i, r := range got {
		if r.Sequence != uint64(i+1) {
			t.Fatalf("sequences %v, want 1, 2, 3, … across the change", sequences(got))
		}
	}
}

func sequences(rs []received) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Sequence)
	}
	return out
}

// TestICSDownAtStart: the producer retries its registration until ICS
// answers, and then gets the job that waited there.
func TestICSDownAtStart(t *testing.T) {
	ics := a1test.NewICS(t)
	ics.SetDown(true)
	rc := a1test.NewReceiver(t)
	ics.CreateJob(a1test.ICSJob{ID: "waiting", TypeID: a1.DefaultInfoTypeID, TargetURI: rc.URL})
	p := startProducer(t, ics, a1.ProducerOptions{}, nil)
	eventually(t, "retried registration", func() bool { return len(ics.Requests()) >= 3 })
	if got := p.metric(t, "o2ims_a1_ics_registered"); got != 0 {
		t.Errorf("registered metric %v while ICS is down", got)
	}
	ics.SetDown(false)
	registered(t, ics)
	if got := decode(t, rc.Wait(wait, atLeast(1))); got[0].JobID != "waiting" {
		t.Errorf("report %+v", got[0])
	}
	eventually(t, "registered metric", func() bool { return p.metric(t, "o2ims_a1_ics_registered") == 1 })
}

// TestICSRestarted: an ICS that forgot the producer (and its type) gets
// both registered again and sends its jobs again; their reports go on
// without starting over.
func TestICSRestarted(t *testing.T) {
	ics := a1test.NewICS(t)
	startProducer(t, ics, a1.ProducerOptions{}, nil)
	registered(t, ics)
	rc := a1test.NewReceiver(t)
	wantOK(t, "create job", ics.CreateJob(a1test.ICSJob{ID: "kept", TypeID: a1.DefaultInfoTypeID, TargetURI: rc.URL}))
	rc.Wait(wait, atLeast(2))

	ics.Restart()
	registered(t, ics)
	if _, ok := ics.Type(a1.DefaultInfoTypeID); !ok {
		t.Fatal("the type was not registered again")
	}
	var kinds []string
	for _, r := range ics.Registrations() {
		kinds = append(kinds, r.Kind)
	}
	if !slices.Equal(kinds, []string{"type", "producer", "type", "producer"}) {
		t.Errorf("registrations %v", kinds)
	}
	n := len(rc.Reports())
	got := decode(t, rc.Wait(wait, atLeast(n+3)))
	for i, r := range got {
		if r.Sequence != uint64(i+1) {
			t.Fatalf("sequences %v, want 1, 2, 3, … across the ICS restart", sequences(got))
		}
	}
}

// TestJobICSForgot: a job ICS no longer holds (its DELETE never reached
// the producer) stops at the next registration check.
func TestJobICSForgot(t *testing.T) {
	ics := a1test.NewICS(t)
	startProducer(t, ics, a1.ProducerOptions{}, nil)
	registered(t, ics)
	lost, clock := a1test.NewReceiver(t), a1test.NewReceiver(t)
	wantOK(t, "create job", ics.CreateJob(a1test.ICSJob{ID: "lost", TypeID: a1.DefaultInfoTypeID, TargetURI: lost.URL}))
	wantOK(t, "create job", ics.CreateJob(a1test.ICSJob{ID: "clock", TypeID: a1.DefaultInfoTypeID, TargetURI: clock.URL}))
	lost.Wait(wait, atLeast(1))
	ics.ForgetJob("lost")
	// Stopped within a few checks; then silent for several intervals.
	var n int
	eventually(t, "the forgotten job to stop", func() bool {
		n = len(lost.Reports())
		m := len(clock.Reports())
		clock.Wait(wait, atLeast(m+4))
		return len(lost.Reports()) == n
	})
	m := len(clock.Reports())
	clock.Wait(wait, atLeast(m+3))
	if got := len(lost.Reports()); got != n {
		t.Errorf("%d reports of the forgotten job after it stopped", got-n)
	}
}

// TestIMSRestarted: a new producer (the IMS restarted, its jobs gone from
// memory) registers and gets the jobs from ICS again.
func TestIMSRestarted(t *testing.T) {
	ics := a1test.NewICS(t)
	first := startProducer(t, ics, a1.ProducerOptions{}, nil)
	registered(t, ics)
	rc := a1test.NewReceiver(t)
	wantOK(t, "create job", ics.CreateJob(a1test.ICSJob{ID: "durable", TypeID: a1.DefaultInfoTypeID, TargetURI: rc.URL}))
	rc.Wait(wait, atLeast(2))
	first.stop()
	n := len(rc.Reports())

	second := startProducer(t, ics, a1.ProducerOptions{}, nil)
	eventually(t, "the new registration", func() bool {
		p, ok := ics.Producer(a1.DefaultProducerID)
		return ok && p.InfoJobCallbackURL == second.callbackURL+"/info-jobs"
	})
	got := decode(t, rc.Wait(wait, atLeast(n+1)))
	if r := got[n]; r.JobID != "durable" || r.Sequence != 1 {
		t.Errorf("first report after the restart: job %s sequence %d, want durable 1", r.JobID, r.Sequence)
	}
}

// TestReceiverDown: reports a target refuses are counted and tried again
// at the next interval, not sooner; once it is back it gets the next one,
// and the sequence shows the gap.
func TestReceiverDown(t *testing.T) {
	ics := a1test.NewICS(t)
	p := startProducer(t, ics, a1.ProducerOptions{}, nil)
	registered(t, ics)
	rc := a1test.NewReceiver(t)
	wantOK(t, "create job", ics.CreateJob(a1test.ICSJob{ID: "j", TypeID: a1.DefaultInfoTypeID, TargetURI: rc.URL}))
	rc.Wait(wait, atLeast(1))

	rc.SetDown(true)
	downAt := time.Now()
	eventually(t, "refused reports", func() bool { return rc.Refused() >= 3 })
	rc.SetDown(false)
	downFor := time.Since(downAt)
	refused := rc.Refused()
	if limit := int(downFor/interval) + 2; refused > limit {
		t.Errorf("%d attempts in %v with an interval of %v: retried faster than the interval", refused, downFor, interval)
	}
	eventually(t, "failures metric", func() bool { return p.metric(t, "o2ims_a1_report_delivery_failures_total") >= 3 })
	n := len(rc.Reports())
	got := decode(t, rc.Wait(wait, atLeast(n+1)))
	if gap := got[n].Sequence - got[n-1].Sequence; gap < 4 {
		t.Errorf("sequence %d after %d with %d reports refused between", got[n].Sequence, got[n-1].Sequence, refused)
	}
	// Counted once the answer is in, just after the receiver has it.
	eventually(t, "delivered metric", func() bool { return int(p.metric(t, "o2ims_a1_reports_delivered_total")) >= n+1 })
}

// TestReportNotBuilt: a report that cannot be built is a failure counted
// like an undelivered one, and the next interval tries again.
func TestReportNotBuilt(t *testing.T) {
	rep := &reports{r: sample(), err: errors.New("database unreachable")}
	rc := a1test.NewReceiver(t)
	p := startProducer(t, nil, a1.ProducerOptions{Targets: []string{rc.URL}}, rep)
	eventually(t, "failures", func() bool { return p.metric(t, "o2ims_a1_report_delivery_failures_total") >= 2 })
	rep.fail(nil)
	if got := decode(t, rc.Wait(wait, atLeast(1))); got[0].Sequence < 3 {
		t.Errorf("first report delivered has sequence %d, want the failed ones counted", got[0].Sequence)
	}
}

// TestInvalidJob: ICS gets a 400 problem for a job the producer cannot
// take, and the producer holds no job for it.
func TestInvalidJob(t *testing.T) {
	ics := a1test.NewICS(t)
	policy := notify.Policy{DenyLoopback: true}
	p := startProducer(t, ics, a1.ProducerOptions{MinReportInterval: time.Second, ReportInterval: 30 * time.Second, CheckTarget: policy.CheckURL}, nil)
	registered(t, ics)
	const target = "http://192.0.2.10:9000/ei" // allowed by the policy, never reached
	tests := []struct {
		name   string
		job    a1test.ICSJob
		detail string
	}{
		{"interval below the minimum", a1test.ICSJob{JobData: json.RawMessage(`{"reportInterval":0.5}`)}, "/reportInterval"},
		{"unknown key", a1test.ICSJob{JobData: json.RawMessage(`{"resourcePoolID":["x"]}`)}, "resourcePoolID"},
		{"not a list", a1test.ICSJob{JobData: json.RawMessage(`{"regions":"eu-west-1"}`)}, "/regions"},
		{"empty list", a1test.ICSJob{JobData: json.RawMessage(`{"deploymentIds":[]}`)}, "/deploymentIds"},
		{"not an object", a1test.ICSJob{JobData: json.RawMessage(`[1]`)}, "info_job_data"},
		{"no target", a1test.ICSJob{TargetURI: "-"}, "target_uri is required"},
		{"target not http", a1test.ICSJob{TargetURI: "ftp://reports.example/ei"}, "target_uri"},
		{"target refused by the callback policy", a1test.ICSJob{TargetURI: "http://127.0.0.1:9/ei"}, "loopback"},
		{"another type", a1test.ICSJob{TypeID: "other-type"}, "other-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := tt.job
			j.ID = "bad-" + strings.ReplaceAll(tt.name, " ", "-")
			switch j.TargetURI {
			case "":
				j.TargetURI = target
			case "-":
				j.TargetURI = ""
			}
			var resp *http.Response
			if j.TypeID == "" {
				j.TypeID = a1.DefaultInfoTypeID
				answers := ics.CreateJob(j)
				ics.ForgetJob(j.ID)
				if len(answers) != 1 || answers[0].Err != nil {
					t.Fatalf("answers %+v", answers)
				}
				a := answers[0]
				resp = &http.Response{StatusCode: a.Status, Header: http.Header{"Content-Type": {"application/problem+json"}}, Body: io.NopCloser(strings.NewReader(string(a.Body)))}
			} else {
				// ICS hands a producer jobs of its types only: this one
				// goes to the callback straight.
				body, _ := json.Marshal(map[string]any{"info_job_identity": j.ID, "info_type_identity": j.TypeID, "target_uri": j.TargetURI, "info_job_data": map[string]any{}})
				var err error
				if resp, err = http.DefaultClient.Do(mustRequest(t, http.MethodPost, p.callbackURL+"/info-jobs", string(body))); err != nil {
					t.Fatal(err)
				}
			}
			problem := readProblem(t, resp, http.StatusBadRequest)
			if d, _ := problem["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q, want it to name %q", d, tt.detail)
			}
		})
	}
	// The callback itself: not JSON, not one value, too large, wrong
	// media type, wrong method, unknown path.
	raw := []struct {
		method, path, ctype, body string
		status                    int
	}{
		{http.MethodPost, "/info-jobs", "application/json", `{"info_job_identity":`, http.StatusBadRequest},
		{http.MethodPost, "/info-jobs", "application/json", `{} {}`, http.StatusBadRequest},
		{http.MethodPost, "/info-jobs", "application/json", `{"owner":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
		{http.MethodPost, "/info-jobs", "text/plain", `{}`, http.StatusUnsupportedMediaType},
		{http.MethodPut, "/info-jobs", "application/json", `{}`, http.StatusMethodNotAllowed},
		{http.MethodGet, "/elsewhere", "", ``, http.StatusNotFound},
	}
	for _, c := range raw {
		req := mustRequest(t, c.method, p.callbackURL+c.path, c.body)
		req.Header.Set("Content-Type", c.ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readProblem(t, resp, c.status)
	}
	for _, a := range ics.Supervise() {
		var s struct{ InfoJobs int }
		if err := json.Unmarshal(a.Body, &s); err != nil || s.InfoJobs != 0 {
			t.Errorf("supervision %s: the producer holds jobs after refusing them all", a.Body)
		}
	}
}

// TestStaticTargets: without ICS, every --a1-report-target gets the whole
// report every interval.
func TestStaticTargets(t *testing.T) {
	r1, r2 := a1test.NewReceiver(t), a1test.NewReceiver(t)
	p := startProducer(t, nil, a1.ProducerOptions{Targets: []string{r1.URL, r2.URL + "/reports"}}, nil)
	for i, rc := range []*a1test.Receiver{r1, r2} {
		got := decode(t, rc.Wait(wait, atLeast(2)))
		want := "static-" + string(rune('1'+i))
		if got[0].JobID != want || got[1].Sequence != 2 || len(got[0].ResourcePools) != 3 || len(got[0].Deployments) != 3 {
			t.Errorf("target %d: job %s sequence %d, %d pools, %d deployments", i+1, got[0].JobID, got[1].Sequence, len(got[0].ResourcePools), len(got[0].Deployments))
		}
	}
	if got := p.metric(t, "o2ims_a1_report_jobs"); got != 2 {
		t.Errorf("jobs metric %v, want 2", got)
	}
}

// TestSupervisionUnhealthy: supervision is 503 while the producer cannot
// build reports.
func TestSupervisionUnhealthy(t *testing.T) {
	ics := a1test.NewICS(t)
	var mu sync.Mutex
	var down error
	startProducer(t, ics, a1.ProducerOptions{Healthy: func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return down
	}}, nil)
	registered(t, ics)
	if a := ics.Supervise()[0]; a.Status != http.StatusOK {
		t.Fatalf("supervision while healthy: %d %s", a.Status, a.Body)
	}
	mu.Lock()
	down = errors.New("database unreachable")
	mu.Unlock()
	a := ics.Supervise()[0]
	if a.Status != http.StatusServiceUnavailable || strings.Contains(string(a.Body), "database") {
		t.Fatalf("supervision while unhealthy: %d %s, want 503 without the cause", a.Status, a.Body)
	}
}

// TestNewProducer refuses what cannot work.
func TestNewProducer(t *testing.T) {
	c, err := a1.NewICSClient("http://ics:8083", a1.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, o := range []a1.ProducerOptions{
		{ICS: c},
		{ICS: c, CallbackURL: "ims:9090"},
		{ICS: c, CallbackURL: "http://ims:9090/cb?x=1"},
		{ICS: c, CallbackURL: "http://ims:9090/{id}"},
		{Targets: []string{"reports.example/ei"}},
		{Targets: []string{"http://user:pw@reports.example/ei"}},
		{ProducerID: ".."},
	} {
		if _, err := a1.NewProducer(&reports{}, o, logger); err == nil {
			t.Errorf("NewProducer(%+v) accepted", o)
		}
	}
	if _, err := a1.NewICSClient("informationservice:8083", a1.Options{}); err == nil {
		t.Error("NewICSClient accepted a URL without a scheme")
	}
}

// TestICSClientErrors: ICS's refusals come back as *a1.Error.
func TestICSClientErrors(t *testing.T) {
	ics := a1test.NewICS(t)
	c, err := a1.NewICSClient(ics.URL+"/", a1.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.InfoProducer(ctx, "nobody"); !a1.IsNotFound(err) {
		t.Errorf("unknown producer: %v, want not found", err)
	}
	err = c.PutInfoProducer(ctx, "p", a1.InfoProducer{InfoJobCallbackURL: "http://p/jobs", InfoProducerSupervisionCallbackURL: "http://p/sup", SupportedInfoTypes: []string{"unknown"}})
	if e := asError(t, err); e.Status != http.StatusNotFound || !strings.Contains(e.Detail, "unknown") {
		t.Errorf("producer of an unknown type: %v", err)
	}
	if e := asError(t, c.PutInfoType(ctx, "t", a1.InfoType{})); e.Status != http.StatusBadRequest {
		t.Errorf("type without a schema: %v", e)
	}
	ics.SetDown(true)
	if err := c.PutInfoType(ctx, "t", a1.InfoType{InfoJobDataSchema: json.RawMessage(`{}`)}); !a1.Retryable(err) {
		t.Errorf("ICS down: %v, want retryable", err)
	}
}

func mustRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// readProblem checks that resp is an RFC 7807 problem of status and
// returns it.
func readProblem(t *testing.T, resp *http.Response, status int) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p map[string]any
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(b, &p) != nil ||
		p["status"] != float64(status) || p["title"] != http.StatusText(status) {
		t.Fatalf("answer %d %s %s, want a %d problem", resp.StatusCode, resp.Header.Get("Content-Type"), b, status)
	}
	return p
}

// posts is a Poster that records what it is given.
type posts struct {
	mu   sync.Mutex
	byTo map[string][]received
}

func (p *posts) Post(_ context.Context, url string, body []byte) (bool, error) {
	var r received
	if err := json.Unmarshal(body, &r); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byTo[url] = append(p.byTo[url], r)
	return false, nil
}

func (p *posts) count(url string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byTo[url])
}

// blockingReports counts its builds, each of which waits for release.
type blockingReports struct {
	mu      sync.Mutex
	builds  int
	release chan struct{}
}

func (b *blockingReports) Build(ctx context.Context) (report.Report, error) {
	b.mu.Lock()
	b.builds++
	b.mu.Unlock()
	select {
	case <-b.release:
		return sample(), nil
	case <-ctx.Done():
		return report.Report{}, ctx.Err()
	}
}

// TestIntervalsAndSharedBuilds, in a bubble of fake time: jobs due
// together share one build of the report, and each job gets exactly one
// report at its start and one per interval after.
func TestIntervalsAndSharedBuilds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const a, b = "http://ric-a.example/ei", "http://ric-b.example/ei"
		rep := &blockingReports{release: make(chan struct{})}
		sent := &posts{byTo: map[string][]received{}}
		p, err := a1.NewProducer(rep, a1.ProducerOptions{ReportInterval: 30 * time.Second, Targets: []string{a, b}, Poster: sent},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.Run(ctx)
		}()
		synctest.Wait() // both jobs wait for the one build
		rep.mu.Lock()
		builds := rep.builds
		rep.mu.Unlock()
		if builds != 1 {
			t.Errorf("%d builds for two jobs due together, want 1", builds)
		}
		close(rep.release)
		synctest.Wait()
		time.Sleep(10 * 30 * time.Second)
		synctest.Wait()
		for _, url := range []string{a, b} {
			if n := sent.count(url); n != 11 {
				t.Errorf("%s got %d reports in 10 intervals, want 11", url, n)
			}
		}
		cancel()
		<-done
	})
}
