package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/a1"
)

// A1ReportOptions configure the resource report the IMS produces for
// RIC-side consumers as an A1 enrichment information producer: registered
// with the Non-RT RIC's Information Coordination Service (ICS), which
// hands it the information jobs of consumers, and delivered to static
// targets without ICS.
type A1ReportOptions struct {
	// ICSEndpoint is ICS's base URL (without /data-producer/v1); empty:
	// no registration and no callback listener.
	ICSEndpoint string
	// Interval is the report interval of jobs that do not ask for
	// another (the integration guide's report_interval; 30s);
	// MinInterval the shortest a job may ask for (5s).
	Interval, MinInterval time.Duration
	// InfoType and ProducerID are the ids registered with ICS
	// (o2ims-resource-report, nephoran-o2ims).
	InfoType, ProducerID string
	// CallbackListen is the TCP address ICS's callbacks are served on,
	// without the API's authentication (ICS carries no tokens); required
	// with ICSEndpoint.
	CallbackListen string
	// CallbackURL is the URL ICS reaches CallbackListen by; empty is
	// http://<the address bound>, which then must name a host.
	CallbackURL string
	// Targets receive the whole report every Interval, with or without
	// ICS.
	Targets []string
}

// a1Reporter is the producer and its callback listener.
type a1Reporter struct {
	producer *a1.Producer
	listener net.Listener // nil without ICS
	http     *http.Server
	logger   *slog.Logger
}

// newA1Reporter returns the producer of opts.A1.Reports, with its callback
// listener bound when ICS is configured; nil when neither ICS nor targets
// are.
func newA1Reporter(opts Options, reports a1.Reports, poster a1.Poster, healthy func(context.Context) error, reg prometheus.Registerer, logger *slog.Logger) (*a1Reporter, error) {
	o := opts.A1.Reports
	if o.ICSEndpoint == "" && len(o.Targets) == 0 {
		if o.CallbackListen != "" || o.CallbackURL != "" {
			return nil, errors.New("A1 reports: a callback listener needs an ICS endpoint (--a1-ics-endpoint)")
		}
		return nil, nil
	}
	logger = logger.With("component", "a1-reports")
	po := a1.ProducerOptions{
		ProducerID: o.ProducerID, InfoTypeID: o.InfoType,
		ReportInterval: o.Interval, MinReportInterval: o.MinInterval,
		Targets: o.Targets, Poster: poster, CheckTarget: opts.CallbackPolicy.CheckURL,
		Healthy: healthy, Registerer: reg,
	}
	r := &a1Reporter{logger: logger}
	if o.ICSEndpoint != "" {
		ics, err := a1.NewICSClient(o.ICSEndpoint, a1.Options{})
		if err != nil {
			return nil, fmt.Errorf("A1 reports: %w", err)
		}
		if o.CallbackListen == "" {
			return nil, errors.New("A1 reports: ICS needs a callback listener (--a1-callback-listen)")
		}
		ln, err := net.Listen("tcp", o.CallbackListen)
		if err != nil {
			return nil, fmt.Errorf("A1 callback listener on %s: %w", o.CallbackListen, err)
		}
		po.ICS, po.CallbackURL = ics, callbackURL(o.CallbackURL, ln.Addr())
		if po.CallbackURL == "" {
			ln.Close()
			return nil, fmt.Errorf("A1 reports: --a1-callback-listen %s names no host ICS could reach: set --a1-callback-url", o.CallbackListen)
		}
		r.listener = ln
	}
	p, err := a1.NewProducer(reports, po, logger)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("A1 reports: %w", err)
	}
	r.producer = p
	if r.listener != nil {
		r.http = &http.Server{
			Handler:           p.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		logger.Info("A1 callback listener bound", "addr", r.listener.Addr().String(), "callback_url", po.CallbackURL)
	}
	return r, nil
}

// callbackURL is the URL given, its port 0 replaced by the port bound,
// or else http://<addr>; "" when addr is an unspecified address, which
// ICS cannot reach.
func callbackURL(given string, addr net.Addr) string {
	if given != "" {
		return boundURI(given, addr)
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		return ""
	}
	return "http://" + tcp.String()
}

// Run serves ICS's callbacks and runs the producer until ctx ends.
func (r *a1Reporter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if r.http != nil {
		wg.Go(func() {
			if err := r.http.Serve(r.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				r.logger.Error("A1 callback listener stopped", "err", err)
			}
		})
	}
	r.producer.Run(ctx)
	if r.http != nil {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := r.http.Shutdown(shutdownCtx); err != nil {
			r.logger.Warn("A1 callback listener shutdown incomplete", "err", err)
		}
	}
	wg.Wait()
}

// close releases the listener of a reporter that never ran.
func (r *a1Reporter) close() {
	if r != nil && r.listener != nil {
		r.listener.Close()
	}
}

// A1CallbackAddr is the address of the A1 callback listener, "" when it
// is off.
func (a *App) A1CallbackAddr() string {
	if a.a1reports == nil || a.a1reports.listener == nil {
		return ""
	}
	return a.a1reports.listener.Addr().String()
}
