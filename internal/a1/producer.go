package a1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/report"
)

// Defaults of ProducerOptions.
const (
	DefaultProducerID           = "nephoran-o2ims"
	DefaultInfoTypeID           = "o2ims-resource-report"
	DefaultReportInterval       = 30 * time.Second
	DefaultMinReportInterval    = 5 * time.Second
	DefaultRegistrationInterval = time.Minute
)

// Reports builds the resource report (report.Builder).
type Reports interface {
	Build(ctx context.Context) (report.Report, error)
}

// Poster delivers a report to a job's target (notify.Webhook). Every
// failure waits for the job's next interval, so retry is only logged.
type Poster interface {
	Post(ctx context.Context, url string, body []byte) (retry bool, err error)
}

// ProducerOptions configure a Producer.
type ProducerOptions struct {
	// ICS is the Information Coordination Service the producer registers
	// with; nil runs the static Targets only.
	ICS *ICSClient
	// ProducerID and InfoTypeID are the ids registered with ICS
	// (DefaultProducerID, DefaultInfoTypeID).
	ProducerID, InfoTypeID string
	// CallbackURL is the base URL ICS reaches Handler by, required with
	// ICS: jobs are POSTed to {CallbackURL}/info-jobs and deleted at
	// {CallbackURL}/info-jobs/{infoJobId}, supervision is GET
	// {CallbackURL}/supervision.
	CallbackURL string
	// ReportInterval is a job's period unless its job data asks for
	// another (DefaultReportInterval).
	ReportInterval time.Duration
	// MinReportInterval is the shortest period job data may ask for
	// (DefaultMinReportInterval, or ReportInterval when that is shorter).
	MinReportInterval time.Duration
	// RegistrationInterval is how often the producer asks ICS whether it
	// is still registered (DefaultRegistrationInterval): a producer ICS
	// has forgotten registers again, and ICS then sends it its jobs
	// again; jobs ICS no longer holds are stopped.
	RegistrationInterval time.Duration
	// RetryDelay is the first wait after a failed registration or check,
	// doubled after each further failure up to RegistrationInterval (1s).
	RetryDelay time.Duration
	// Targets receive the whole report every ReportInterval, with or
	// without ICS: static jobs "static-1", "static-2", … in order.
	Targets []string
	// Poster delivers the reports; nil uses a notify.Webhook with the
	// default callback policy.
	Poster Poster
	// CheckTarget vets the target_uri of a job ICS sends before the job
	// is accepted (notify.Policy.CheckURL); nil accepts any absolute http
	// or https URL.
	CheckTarget func(ctx context.Context, rawURL string) error
	// Healthy, when set, decides the answer to ICS's supervision: an
	// error is 503 (logged, not shown).
	Healthy func(ctx context.Context) error
	// Registerer takes the metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Producer is the IMS as an A1 enrichment information producer: it keeps
// its information type and itself registered with ICS, takes the jobs ICS
// creates and deletes through Handler, and POSTs the resource report to
// every job's target every interval. Jobs live in memory: ICS sends all
// of them again whenever the producer registers, after an IMS restart
// too. A failed delivery is counted, logged, and tried again at the job's
// next interval.
type Producer struct {
	opts     ProducerOptions
	reports  Reports
	logger   *slog.Logger
	schema   *jsonschema.Schema
	typeInfo InfoType
	prefix   string // path of CallbackURL, without a trailing slash
	metrics  producerMetrics

	mu     sync.Mutex
	runCtx context.Context // of Run while it runs; nil before and after
	jobs   map[string]*job // from ICS, by id
	static []*job

	// The report being built, which jobs due meanwhile share.
	buildMu  sync.Mutex
	building *build
}

// build is one report being built.
type build struct {
	done chan struct{} // closed when r and err are set
	r    report.Report
	err  error
}

// job is one information job and its delivery loop.
type job struct {
	id, owner, target string
	data              JobData
	interval          time.Duration
	// spec identifies what the job asks, so that ICS sending the same
	// job again (on every registration) does not restart it.
	spec string
	seq  *atomic.Uint64
	// seen is when ICS last sent the job.
	seen time.Time

	cancel context.CancelFunc // nil while not running
	done   chan struct{}
	// failing is whether the last delivery failed (the loop's own).
	failing bool
}

type producerMetrics struct {
	delivered  prometheus.Counter
	failed     prometheus.Counter
	registered prometheus.Gauge
}

// NewProducer returns a producer of the reports; Run starts it.
func NewProducer(reports Reports, opts ProducerOptions, logger *slog.Logger) (*Producer, error) {
	if opts.ProducerID == "" {
		opts.ProducerID = DefaultProducerID
	}
	if opts.InfoTypeID == "" {
		opts.InfoTypeID = DefaultInfoTypeID
	}
	if err := checkID("info producer id", opts.ProducerID); err != nil {
		return nil, err
	}
	if err := checkID("info type id", opts.InfoTypeID); err != nil {
		return nil, err
	}
	if opts.ReportInterval <= 0 {
		opts.ReportInterval = DefaultReportInterval
	}
	if opts.MinReportInterval <= 0 {
		opts.MinReportInterval = DefaultMinReportInterval
	}
	opts.MinReportInterval = min(opts.MinReportInterval, opts.ReportInterval)
	if opts.RegistrationInterval <= 0 {
		opts.RegistrationInterval = DefaultRegistrationInterval
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = time.Second
	}
	if opts.Poster == nil {
		opts.Poster = notify.NewWebhook(notify.WebhookOptions{})
	}
	p := &Producer{opts: opts, reports: reports, logger: logger, jobs: map[string]*job{}}
	if opts.ICS != nil {
		u, err := url.Parse(opts.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
			u.EscapedPath() != u.Path || strings.ContainsAny(u.Path, "{}") {
			return nil, fmt.Errorf("A1 callback URL %q: want an absolute http or https URL without a query, and a plain path", opts.CallbackURL)
		}
		p.opts.CallbackURL = strings.TrimRight(opts.CallbackURL, "/")
		p.prefix = strings.TrimRight(u.Path, "/")
	}
	schema := jobDataSchema(opts.MinReportInterval.Seconds())
	compiled, err := compileSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("the job data schema: %w", err)
	}
	p.schema = compiled
	info, _ := json.Marshal(map[string]any{
		"description": "The O2 IMS resource report: per resource pool utilization, capacity and health; per deployment phase and replicas; " +
			"the IMS's API latency and notification delivery health. POSTed as JSON to the job's target_uri every reportInterval seconds.",
		"producer":              opts.ProducerID,
		"defaultReportInterval": opts.ReportInterval.Seconds(),
		"minReportInterval":     opts.MinReportInterval.Seconds(),
	})
	p.typeInfo = InfoType{InfoJobDataSchema: schema, InfoTypeInformation: info}
	for i, target := range opts.Targets {
		if err := checkTargetURL(target); err != nil {
			return nil, fmt.Errorf("A1 report target %q: %w", target, err)
		}
		j := &job{id: "static-" + strconv.Itoa(i+1), target: target, interval: opts.ReportInterval, seq: new(atomic.Uint64)}
		p.static = append(p.static, j)
	}
	if err := p.registerMetrics(opts.Registerer); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Producer) registerMetrics(reg prometheus.Registerer) error {
	p.metrics = producerMetrics{
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "o2ims_a1_reports_delivered_total", Help: "Resource reports an information job's target accepted with a 2xx.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "o2ims_a1_report_delivery_failures_total", Help: "Resource reports not delivered (target unreachable or refusing, or the report could not be built); the job tries again at its next interval.",
		}),
		registered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "o2ims_a1_ics_registered", Help: "1 when the last registration or registration check with the Information Coordination Service succeeded.",
		}),
	}
	if reg == nil {
		return nil
	}
	jobs := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "o2ims_a1_report_jobs", Help: "Information jobs the resource report is delivered to (from ICS and static).",
	}, func() float64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		return float64(len(p.jobs) + len(p.static))
	})
	cs := []prometheus.Collector{p.metrics.delivered, p.metrics.failed, jobs}
	if p.opts.ICS != nil {
		cs = append(cs, p.metrics.registered)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Run delivers the reports of every job and, with ICS, keeps the producer
// registered, until ctx ends; it returns once every delivery has stopped.
func (p *Producer) Run(ctx context.Context) {
	p.mu.Lock()
	p.runCtx = ctx
	for _, j := range p.static {
		p.start(j)
	}
	for _, j := range p.jobs {
		p.start(j)
	}
	p.mu.Unlock()
	if p.opts.ICS != nil {
		p.keepRegistered(ctx)
	} else {
		<-ctx.Done()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runCtx = nil
	for _, j := range p.static {
		p.stop(j)
	}
	for _, j := range p.jobs {
		p.stop(j)
	}
}

// keepRegistered registers with ICS, retrying with backoff, then checks
// the registration every RegistrationInterval.
func (p *Producer) keepRegistered(ctx context.Context) {
	registered := false
	failures := 0
	for {
		err := p.syncICS(ctx, &registered)
		wait := p.opts.RegistrationInterval
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.metrics.registered.Set(0)
			failures++
			wait = backoff(p.opts.RetryDelay, failures, p.opts.RegistrationInterval)
			p.logger.Warn("A1 ICS registration failed", "err", err, "retry_in", wait.String())
		} else {
			p.metrics.registered.Set(1)
			failures = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// syncICS registers the type and the producer unless ICS knows the
// producer already, and otherwise stops the jobs ICS no longer holds.
func (p *Producer) syncICS(ctx context.Context, registered *bool) error {
	id := p.opts.ProducerID
	jobsURL := p.opts.CallbackURL + "/info-jobs"
	if *registered {
		got, err := p.opts.ICS.InfoProducer(ctx, id)
		switch {
		case IsNotFound(err):
			p.logger.Warn("A1 ICS no longer knows the producer; registering again", "producer", id)
			*registered = false
		case err != nil:
			return err
		case got.InfoJobCallbackURL != jobsURL:
			p.logger.Warn("A1 ICS has the producer with another callback URL: does another IMS use the same producer id?",
				"producer", id, "callback_url", got.InfoJobCallbackURL, "ours", jobsURL)
		}
	}
	if !*registered {
		if err := p.opts.ICS.PutInfoType(ctx, p.opts.InfoTypeID, p.typeInfo); err != nil {
			return err
		}
		err := p.opts.ICS.PutInfoProducer(ctx, id, InfoProducer{
			InfoJobCallbackURL:                 jobsURL,
			InfoProducerSupervisionCallbackURL: p.opts.CallbackURL + "/supervision",
			SupportedInfoTypes:                 []string{p.opts.InfoTypeID},
		})
		if err != nil {
			return err
		}
		*registered = true
		p.logger.Info("A1 producer registered with ICS", "producer", id, "info_type", p.opts.InfoTypeID, "callback_url", p.opts.CallbackURL)
		// ICS now sends every job of the type; the next check compares.
		return nil
	}
	asked := time.Now()
	held, err := p.opts.ICS.InfoProducerJobs(ctx, id)
	if err != nil {
		return err
	}
	p.dropStale(held, asked)
	return nil
}

// dropStale stops the jobs ICS does not hold that it had not sent again
// since asked, when the list was asked for: their deletion never reached
// the producer.
func (p *Producer) dropStale(held []InfoJob, asked time.Time) {
	ids := map[string]bool{}
	for _, j := range held {
		ids[j.InfoJobIdentity] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, j := range p.jobs {
		if !ids[id] && j.seen.Before(asked) {
			p.stop(j)
			delete(p.jobs, id)
			p.logger.Info("A1 report job stopped: ICS no longer holds it", "job", id)
		}
	}
}

// backoff is the wait after the nth failure in a row: first doubled n-1
// times, at most limit, less up to half at random so that producers do
// not retry in step.
func backoff(first time.Duration, n int, limit time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d - rand.N(d/2+1)
}

// putJob takes a job ICS sent: a new one starts, a changed one restarts
// and keeps counting, an unchanged one keeps running.
func (p *Producer) putJob(j *job) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.jobs[j.id]
	if old != nil && old.spec == j.spec {
		old.seen = j.seen
		return
	}
	if old != nil {
		p.stop(old)
		j.seq = old.seq
	}
	p.jobs[j.id] = j
	p.start(j)
	verb := "started"
	if old != nil {
		verb = "changed"
	}
	p.logger.Info("A1 report job "+verb, "job", j.id, "owner", j.owner, "target", j.target, "interval", j.interval.String())
}

// deleteJob stops and forgets a job ICS deleted, if the producer has it.
// No report of the job starts after it returns.
func (p *Producer) deleteJob(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	j := p.jobs[id]
	if j == nil {
		return
	}
	p.stop(j)
	delete(p.jobs, id)
	p.logger.Info("A1 report job deleted", "job", id)
}

// start runs the job's delivery loop while Run runs. p.mu must be held.
func (p *Producer) start(j *job) {
	if p.runCtx == nil || j.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(p.runCtx)
	j.cancel, j.done = cancel, make(chan struct{})
	go func() {
		defer close(j.done)
		p.loop(ctx, j)
	}()
}

// stop ends the job's delivery loop and waits for it; a delivery in
// flight is abandoned. p.mu must be held (the loop never takes it).
func (p *Producer) stop(j *job) {
	if j.cancel == nil {
		return
	}
	j.cancel()
	<-j.done
	j.cancel = nil
}

// loop delivers a report at once and then every interval. A ticker drops
// the ticks a slow delivery misses, so a failing target is tried once an
// interval, never in a hurry.
func (p *Producer) loop(ctx context.Context, j *job) {
	t := time.NewTicker(j.interval)
	defer t.Stop()
	for {
		p.deliver(ctx, j)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliver sends the job its next report.
func (p *Producer) deliver(ctx context.Context, j *job) {
	seq := j.seq.Add(1)
	log := p.logger.With("job", j.id, "target", j.target, "sequence", seq)
	fail := func(msg string, err error) {
		if ctx.Err() != nil {
			return // the job stopped
		}
		p.metrics.failed.Inc()
		j.failing = true
		log.Warn(msg, "err", err, "next_attempt_in", j.interval.String())
	}
	r, err := p.snapshot(ctx)
	if err != nil {
		fail("A1 report not built", err)
		return
	}
	body, err := json.Marshal(Report{
		ProducerID: p.opts.ProducerID, InfoTypeID: p.opts.InfoTypeID, JobID: j.id, Sequence: seq,
		Timestamp: time.Now().UTC().Format(query.TimeLayout), ReportInterval: j.interval.Seconds(),
		Report: j.data.narrow(r),
	})
	if err != nil {
		fail("A1 report not encoded", err)
		return
	}
	if _, err := p.opts.Poster.Post(ctx, j.target, body); err != nil {
		fail("A1 report delivery failed", err)
		return
	}
	p.metrics.delivered.Inc()
	if j.failing {
		j.failing = false
		log.Info("A1 report delivered again")
	}
}

// snapshot builds a report, or waits for the one being built: jobs due
// together share a build, and no report is older than its request.
func (p *Producer) snapshot(ctx context.Context) (report.Report, error) {
	for {
		p.buildMu.Lock()
		b := p.building
		if b == nil {
			b = &build{done: make(chan struct{})}
			p.building = b
			p.buildMu.Unlock()
			b.r, b.err = p.reports.Build(ctx)
			p.buildMu.Lock()
			p.building = nil
			p.buildMu.Unlock()
			close(b.done)
			return b.r, b.err
		}
		p.buildMu.Unlock()
		select {
		case <-ctx.Done():
			return report.Report{}, ctx.Err()
		case <-b.done:
		}
		if !errors.Is(b.err, context.Canceled) {
			return b.r, b.err
		}
		// The job that was building stopped: build anew.
	}
}

// jobFrom checks a job ICS sent and returns it, not yet running.
func (p *Producer) jobFrom(ctx context.Context, in InfoJob) (*job, error) {
	switch {
	case in.InfoJobIdentity == "":
		return nil, errors.New("info_job_identity is required")
	case len(in.InfoJobIdentity) > 256:
		return nil, errors.New("info_job_identity is longer than 256 characters")
	case checkID("info job id", in.InfoJobIdentity) != nil:
		return nil, fmt.Errorf("info_job_identity %q is not a valid id", in.InfoJobIdentity)
	case in.InfoTypeIdentity != "" && in.InfoTypeIdentity != p.opts.InfoTypeID:
		return nil, fmt.Errorf("info_type_identity %q is not produced here (only %q)", clip(in.InfoTypeIdentity), p.opts.InfoTypeID)
	case in.TargetURI == "":
		return nil, errors.New("target_uri is required: it is where the reports go")
	}
	if err := checkTargetURL(in.TargetURI); err != nil {
		return nil, fmt.Errorf("target_uri: %w", err)
	}
	if p.opts.CheckTarget != nil {
		if err := p.opts.CheckTarget(ctx, in.TargetURI); err != nil {
			return nil, fmt.Errorf("target_uri is not allowed: %s", strings.TrimPrefix(ims.MessageOf(err), "callback: "))
		}
	}
	data, err := parseJobData(p.schema, in.InfoJobData)
	if err != nil {
		return nil, err
	}
	interval := p.opts.ReportInterval
	if data.ReportInterval > 0 {
		interval = time.Duration(data.ReportInterval * float64(time.Second))
	}
	spec, _ := json.Marshal([]any{in.TargetURI, in.Owner, data})
	return &job{id: in.InfoJobIdentity, owner: in.Owner, target: in.TargetURI, data: data, interval: interval,
		spec: string(spec), seq: new(atomic.Uint64), seen: time.Now()}, nil
}

// checkTargetURL accepts absolute http and https URLs without credentials.
func checkTargetURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an absolute http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not carry credentials")
	}
	return nil
}
