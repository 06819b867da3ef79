// Package dispatch delivers the outbox to subscribers: each subscription
// consumes its event stream in commit order, at least once, with
// exponential backoff and jitter while its subscriber fails, giving up on
// events only once they are older than the maximum age. Subscriptions are
// leased, so several servers on one database share the work without
// delivering to one subscriber twice, and a dead server's leases expire.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
)

// Store is the outbox and subscription state.
type Store interface {
	ClaimSubscriptions(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]sqlstore.Subscription, error)
	Events(ctx context.Context, stream string, after int64, limit int) ([]sqlstore.Event, error)
	ReportProgress(ctx context.Context, id, owner string, p sqlstore.Progress) error
	QueueDepths(ctx context.Context) (map[string]int64, error)
	PruneEvents(ctx context.Context, maxAge time.Duration) (int64, error)
}

// Handler matches and delivers events.
type Handler interface {
	Match(sub sqlstore.Subscription, ev sqlstore.Event) bool
	Deliver(ctx context.Context, sub sqlstore.Subscription, ev sqlstore.Event) (retry bool, err error)
}

// Options tune the dispatcher; zero values pick the defaults.
type Options struct {
	// Owner identifies this process in leases; default a random id.
	Owner string
	// MaxAge is how long an event is retried before it expires (24h).
	MaxAge time.Duration
	// Lease is how long a claimed subscription stays with this process
	// without progress reports (30s).
	Lease time.Duration
	// PollInterval bounds how late events committed by another process
	// are noticed (200ms); this process's own commits call Wake.
	PollInterval time.Duration
	// MaxWorkers bounds subscriptions delivered to at once (256).
	MaxWorkers int
	// BatchSize is the number of events read at a time (256).
	BatchSize int
	// BackoffBase and BackoffMax bound the retry delay (1s, 5m).
	BackoffBase, BackoffMax time.Duration
	// PruneInterval is how often delivered and long-expired events are
	// deleted (1m).
	PruneInterval time.Duration
	Registerer    prometheus.Registerer
}

// Dispatcher runs delivery workers.
type Dispatcher struct {
	store   Store
	handler Handler
	opts    Options
	logger  *slog.Logger
	metrics *metrics
	wake    chan struct{}
	// wakes counts Wake calls, so a worker can tell whether a commit
	// was announced while it held its subscription's lease.
	wakes atomic.Uint64

	mu sync.Mutex
	// active maps the subscriptions with a running worker to that
	// worker's number, so a finishing worker cannot unmark its successor.
	active  map[string]uint64
	workers uint64
}

// New returns a dispatcher.
func New(store Store, handler Handler, opts Options, logger *slog.Logger) (*Dispatcher, error) {
	if opts.Owner == "" {
		opts.Owner = uuid.NewString()
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.MaxWorkers <= 0 {
		opts.MaxWorkers = 256
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 5 * time.Minute
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = time.Minute
	}
	d := &Dispatcher{store: store, handler: handler, opts: opts, logger: logger, wake: make(chan struct{}, 1), active: map[string]uint64{}}
	m, err := newMetrics(opts.Registerer, d)
	if err != nil {
		return nil, err
	}
	d.metrics = m
	return d, nil
}

// Wake makes the dispatcher look for work now (after a local commit).
func (d *Dispatcher) Wake() {
	d.wakes.Add(1)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for workers to report.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	poll := time.NewTicker(d.opts.PollInterval)
	defer poll.Stop()
	prune := time.NewTicker(d.opts.PruneInterval)
	defer prune.Stop()
	for {
		d.claim(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-poll.C:
		case <-prune.C:
			if n, err := d.store.PruneEvents(ctx, d.pruneAge()); err != nil {
				d.logger.Warn("pruning events failed", "err", err)
			} else if n > 0 {
				d.logger.Debug("pruned delivered events", "count", n)
			}
		}
	}
}

// pruneAge is the age past which events are deleted even if a
// subscription has not processed them. It exceeds MaxAge by the longest a
// subscription can go without an attempt (a backoff, plus a lease left by
// a dead server), so that a worker finds such events and counts them as
// expired before they disappear; pruning at MaxAge would drop them
// silently, uncounted and unlogged.
func (d *Dispatcher) pruneAge() time.Duration {
	return d.opts.MaxAge + d.opts.BackoffMax + 2*d.opts.Lease + d.opts.PollInterval + d.opts.PruneInterval
}

func (d *Dispatcher) claim(ctx context.Context, wg *sync.WaitGroup) {
	// The claim and the check of running workers happen under one lock: a
	// worker that finishes in between would otherwise leave this claim
	// holding a cursor older than the one the worker just reported, and a
	// new worker would deliver those events again.
	d.mu.Lock()
	defer d.mu.Unlock()
	free := d.opts.MaxWorkers - len(d.active)
	if free <= 0 {
		return
	}
	if ctx.Err() != nil {
		return
	}
	// The claim is not cancelled with ctx: a cancellation can arrive after
	// the UPDATE committed but before its rows were read, which would leave
	// the subscriptions leased to this process, with no worker, until the
	// leases expire. Claimed during shutdown, they are released at once by
	// their workers, which see ctx done.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	subs, err := d.store.ClaimSubscriptions(cctx, d.opts.Owner, time.Now(), d.opts.Lease, free)
	if err != nil {
		d.logger.Warn("claiming subscriptions failed", "err", err)
		return
	}
	for _, sub := range subs {
		if _, ok := d.active[sub.ID]; ok {
			// Its worker outlived its lease; the claim renewed it.
			continue
		}
		d.workers++
		w := d.workers
		d.active[sub.ID] = w
		wg.Go(func() {
			defer d.done(sub.ID, w)
			d.work(ctx, sub, w)
		})
	}
}

// done marks worker w of subscription id finished.
func (d *Dispatcher) done(id string, w uint64) {
	d.mu.Lock()
	if d.active[id] == w {
		delete(d.active, id)
	}
	d.mu.Unlock()
}

// work delivers sub's pending events in order until it is caught up, its
// subscriber fails, or ctx ends.
func (d *Dispatcher) work(ctx context.Context, sub sqlstore.Subscription, w uint64) {
	logger := d.logger.With("subscription", sub.ID, "stream", sub.Stream)
	p := sqlstore.Progress{Cursor: sub.Cursor}
	attempts := sub.Attempts // failed attempts in a row before this one
	lastReport := time.Now()
	// report writes progress; a background context lets the final report
	// land during shutdown.
	report := func(release bool) bool {
		p.LeaseUntil = time.Now().Add(d.opts.Lease)
		if release {
			p.LeaseUntil = time.Time{}
			// Finish before releasing: once released, the subscription
			// may be claimed again at once, and a claim must not find it
			// still active here (it would be skipped, and stay leased
			// with no worker until the lease expired).
			d.done(sub.ID, w)
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err := d.store.ReportProgress(rctx, sub.ID, d.opts.Owner, p)
		p.Delivered, p.Expired, p.Dropped = 0, 0, ""
		lastReport = time.Now()
		if errors.Is(err, sqlstore.ErrLeaseLost) {
			logger.Debug("subscription lease lost or subscription deleted")
			return false
		}
		if err != nil {
			logger.Warn("recording delivery progress failed", "err", err)
			return false
		}
		return true
	}
	for {
		if ctx.Err() != nil {
			report(true)
			return
		}
		wakes := d.wakes.Load()
		events, err := d.store.Events(ctx, sub.Stream, p.Cursor, d.opts.BatchSize)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("reading events failed", "err", err)
			}
			report(true)
			return
		}
		if len(events) == 0 {
			report(true)
			// A commit announced after the read above found the
			// subscription still leased; look again now it is released.
			// (Another server's commits are noticed by the next poll.)
			if d.wakes.Load() != wakes {
				d.Wake()
			}
			return
		}
		for _, ev := range events {
			if ctx.Err() != nil {
				report(true)
				return
			}
			if !d.handler.Match(sub, ev) {
				p.Cursor = ev.Seq
				continue
			}
			if age := time.Since(ev.CreatedAt); age > d.opts.MaxAge {
				p.Cursor = ev.Seq
				p.Expired++
				d.metrics.expired.WithLabelValues(sub.Stream).Inc()
				logger.Warn("notification expired undelivered", "event", ev.Seq, "age", age.Round(time.Second), "objectType", ev.ObjectType, "objectId", ev.ObjectID)
				continue
			}
			dctx, span := tracing.Start(ctx, "notification.deliver",
				attribute.String("o2ims.subscription", sub.ID), attribute.String("o2ims.stream", sub.Stream),
				attribute.Int64("o2ims.event.seq", ev.Seq), attribute.String("o2ims.object.type", ev.ObjectType))
			retry, err := d.handler.Deliver(dctx, sub, ev)
			tracing.End(span, err)
			switch {
			case err == nil:
				p.Cursor = ev.Seq
				p.Delivered++
				attempts = 0
				d.metrics.delivered.WithLabelValues(sub.Stream).Inc()
				d.metrics.latency.WithLabelValues(sub.Stream).Observe(time.Since(ev.CreatedAt).Seconds())
			case ctx.Err() != nil:
				report(true)
				return
			case !retry:
				p.Cursor = ev.Seq
				p.Dropped = fmt.Sprintf("event %d rejected: %v", ev.Seq, err)
				d.metrics.failed.WithLabelValues(sub.Stream, "rejected").Inc()
				logger.Warn("subscriber rejected a notification; not retrying", "event", ev.Seq, "err", err)
			default:
				d.metrics.failed.WithLabelValues(sub.Stream, "retry").Inc()
				now := time.Now()
				delay := d.backoff(attempts + 1)
				p.Failure = &sqlstore.Failure{Error: err.Error(), At: now, NextAttemptAt: now.Add(delay)}
				logger.Info("delivery failed; will retry", "event", ev.Seq, "attempt", attempts+1, "retryIn", delay.Round(time.Millisecond), "err", err)
				report(true)
				return
			}
			if p.Delivered+p.Expired >= 64 || time.Since(lastReport) > time.Second {
				if !report(false) {
					return
				}
				attempts = 0 // the report cleared the retry state
			}
		}
	}
}

// backoff is exponential with full jitter in [d/2, d], capped.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	delay := d.opts.BackoffBase
	for i := 1; i < attempt && delay < d.opts.BackoffMax; i++ {
		delay *= 2
	}
	delay = min(delay, d.opts.BackoffMax)
	half := delay / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}
