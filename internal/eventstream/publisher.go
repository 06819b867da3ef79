// Package eventstream publishes the outbox to NATS JetStream, so that
// consumers can read the server's changes asynchronously. Every event of
// the chosen outbox streams becomes one message, in seq order, exactly
// once, on the subject
//
//	<prefix>.<outbox stream>.<object type>.<event>
//
// where the event is created, modified or deleted for inventory changes
// and new, changed, cleared or acknowledged for alarms.
//
// The publisher keeps no cursor of its own: the JetStream stream is the
// record of what was published. At start, and after every reconnect, it
// reads the last message of each outbox stream's subjects back from the
// stream and continues after that message's outbox seq. Each message
// carries a Nats-Msg-Id of "<outbox stream>-<seq>", so JetStream drops a
// repeat within the duplicate window, and each publish expects the
// stream's last sequence to be the one this publisher last saw, so that a
// second publisher on the same outbox (another server on the same
// database) cannot interleave with it: the loser of a race reads the
// stream back and goes on from there. Nothing is published twice, even
// past the duplicate window, and a publish counts only once JetStream
// acknowledged it.
//
// The publisher never gives up on the NATS server: while it is down, at
// start or later, the publisher reconnects forever with backoff and,
// once connected, catches up with everything still in the outbox. The
// outbox must therefore keep the events the publisher has not published
// yet (see Status.LastSeq).
package eventstream

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Defaults of Options.
const (
	DefaultStreamName    = "O2IMS"
	DefaultSubjectPrefix = "o2ims"
	DefaultPoll          = time.Second
	DefaultBatch         = 256
	DefaultMaxAge        = 7 * 24 * time.Hour
	DefaultReplicas      = 1
)

// DuplicateWindow is the JetStream stream's de-duplication window; MaxAge
// may not be shorter.
const DuplicateWindow = 2 * time.Minute

// Message headers besides Nats-Msg-Id ("<outbox stream>-<seq>").
const (
	HeaderOutboxSeq = "O2ims-Outbox-Seq" // the event's outbox seq
	HeaderObjectID  = "O2ims-Object-Id"  // the changed object's id
	HeaderEventType = "O2ims-Event-Type" // 0 created, 1 modified, 2 deleted
)

// Source is the outbox: the events of stream with seq > after, in seq
// order, at most limit of them.
type Source interface {
	Events(ctx context.Context, stream string, after int64, limit int) ([]sqlstore.Event, error)
}

// Renderer makes the message body of an event. A failure stops the
// event's outbox stream at that event (retried with backoff and reported
// in Status) rather than skip it.
type Renderer func(ev sqlstore.Event) ([]byte, error)

// Options configure the publisher; zero values pick the defaults.
type Options struct {
	// URL of the NATS server, or several separated by commas (required).
	URL string
	// CredsFile is a NATS credentials file (user JWT and nkey seed).
	CredsFile string
	// TLS configures TLS to the server; nil uses TLS only for tls:// URLs.
	TLS *tls.Config
	// StreamName is the JetStream stream ("O2IMS").
	StreamName string
	// SubjectPrefix is the first token(s) of every subject ("o2ims"); the
	// stream takes "<prefix>.>" and nothing else may publish there.
	SubjectPrefix string
	// Streams are the outbox streams to publish (inventory and alarm).
	Streams []string
	// Poll bounds how late events committed by another process are
	// published (1s); this process's commits call Wake.
	Poll time.Duration
	// Batch is the number of events read from the outbox at a time (256).
	Batch int
	// MaxAge is how long the stream keeps a message (7 days). It should
	// exceed how long the outbox keeps an event: a restart after a quiet
	// spell longer than MaxAge finds no message to resume from and
	// publishes again whatever the outbox still holds.
	MaxAge time.Duration
	// Replicas of the stream (1).
	Replicas int
	// Registerer takes the metrics; nil registers none.
	Registerer prometheus.Registerer
	// ObjectType, when set, names an event's object type in its subject
	// (such as ResourcePool for the table resource_pools); nil uses the
	// outbox's object type as it is.
	ObjectType func(ev sqlstore.Event) string
}

// Status is a snapshot of the publisher.
type Status struct {
	// Connected tells whether the NATS connection is up.
	Connected bool
	// Published counts, per outbox stream, the events this publisher
	// stored in the stream since it started (not counting duplicates).
	Published map[string]int64
	// LastSeq is, per outbox stream, the outbox seq known to be in the
	// stream: events up to it are published. A stream is absent until
	// the publisher has read it back from JetStream. Events after it must
	// stay in the outbox.
	LastSeq map[string]int64
	// LastError is the latest failure, empty once the publisher has
	// caught up since then.
	LastError string
}

// Publisher publishes the outbox to JetStream.
type Publisher struct {
	src     Source
	render  Renderer
	opts    Options
	logger  *slog.Logger
	metrics *metrics
	wake    chan struct{}
	running atomic.Bool
	conn    atomic.Pointer[nats.Conn]

	mu        sync.Mutex
	published map[string]int64
	lastSeq   map[string]int64
	lastError string
}

// New returns a publisher of src's events; a nil render publishes
// RenderDefault's document.
func New(src Source, render Renderer, opts Options, logger *slog.Logger) (*Publisher, error) {
	if src == nil {
		return nil, errors.New("eventstream: no event source")
	}
	if render == nil {
		render = RenderDefault
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Publisher{
		src: src, render: render, opts: opts, logger: logger,
		wake:      make(chan struct{}, 1),
		published: make(map[string]int64, len(opts.Streams)),
		lastSeq:   make(map[string]int64, len(opts.Streams)),
	}
	for _, s := range opts.Streams {
		p.published[s] = 0
	}
	m, err := newMetrics(opts.Registerer, p)
	if err != nil {
		return nil, fmt.Errorf("eventstream: register metrics: %w", err)
	}
	p.metrics = m
	return p, nil
}

// withDefaults fills in the defaults and reports every invalid option.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("eventstream: "+format, args...))
	}
	if strings.TrimSpace(o.URL) == "" {
		bad("URL is required (e.g. nats://127.0.0.1:4222)")
	} else if err := checkURLs(o.URL); err != nil {
		bad("URL %w", err)
	}
	if o.CredsFile != "" {
		if f, err := os.Open(o.CredsFile); err != nil {
			bad("credentials file: %w", err)
		} else {
			f.Close()
		}
	}
	if o.StreamName == "" {
		o.StreamName = DefaultStreamName
	}
	if err := checkStreamName(o.StreamName); err != nil {
		bad("stream name %q %w", o.StreamName, err)
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if err := checkPrefix(o.SubjectPrefix); err != nil {
		bad("subject prefix %q %w", o.SubjectPrefix, err)
	}
	if o.Streams == nil {
		o.Streams = []string{sqlstore.StreamInventory, sqlstore.StreamAlarm}
	} else {
		o.Streams = append([]string(nil), o.Streams...)
	}
	if len(o.Streams) == 0 {
		bad("no outbox streams to publish")
	}
	seen := map[string]bool{}
	for _, s := range o.Streams {
		if seen[s] {
			bad("outbox stream %q listed twice", s)
		}
		seen[s] = true
		if err := checkToken(s); err != nil {
			bad("outbox stream %q %w", s, err)
		}
	}
	switch {
	case o.Poll < 0:
		bad("Poll %v is negative", o.Poll)
	case o.Poll == 0:
		o.Poll = DefaultPoll
	}
	switch {
	case o.Batch < 0:
		bad("Batch %d is negative", o.Batch)
	case o.Batch == 0:
		o.Batch = DefaultBatch
	}
	switch {
	case o.MaxAge < 0:
		bad("MaxAge %v is negative", o.MaxAge)
	case o.MaxAge == 0:
		o.MaxAge = DefaultMaxAge
	case o.MaxAge < DuplicateWindow:
		bad("MaxAge %v is shorter than the duplicate window %v", o.MaxAge, DuplicateWindow)
	}
	switch {
	case o.Replicas < 0 || o.Replicas > 5:
		bad("Replicas %d is out of range 1..5", o.Replicas)
	case o.Replicas == 0:
		o.Replicas = DefaultReplicas
	}
	return o, errors.Join(errs...)
}

func checkURLs(list string) error {
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		s := raw
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("%q is invalid: %w", raw, err)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("%q has scheme %q; want nats, tls, ws or wss", u.Redacted(), u.Scheme)
		}
		if u.Hostname() == "" {
			return fmt.Errorf("%q has no host", u.Redacted())
		}
	}
	return nil
}

func checkStreamName(s string) error {
	if len(s) > 255 {
		return errors.New("is longer than 255 characters")
	}
	if i := strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune(".*>/\\", r)
	}); i >= 0 {
		return fmt.Errorf("contains %q; a stream name may not contain whitespace, '.', '*', '>', '/' or '\\'", s[i])
	}
	return nil
}

// checkPrefix accepts one or more dot-separated subject tokens.
func checkPrefix(s string) error {
	for _, t := range strings.Split(s, ".") {
		if err := checkToken(t); err != nil {
			return err
		}
	}
	return nil
}

func checkToken(t string) error {
	if t == "" {
		return errors.New("has an empty subject token")
	}
	if i := strings.IndexFunc(t, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '.' || r == '*' || r == '>'
	}); i >= 0 {
		return fmt.Errorf("contains %q, which a subject token may not", t[i])
	}
	return nil
}

// Wake makes the publisher look for new events now (after a local commit).
// It never blocks.
func (p *Publisher) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Status reports the publisher's state.
func (p *Publisher) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Status{
		Connected: p.connected(),
		Published: maps.Clone(p.published),
		LastSeq:   maps.Clone(p.lastSeq),
		LastError: p.lastError,
	}
}

func (p *Publisher) connected() bool {
	nc := p.conn.Load()
	return nc != nil && nc.IsConnected()
}

func (p *Publisher) setError(err error) {
	p.mu.Lock()
	p.lastError = err.Error()
	p.mu.Unlock()
}

func (p *Publisher) clearError() {
	p.mu.Lock()
	p.lastError = ""
	p.mu.Unlock()
}

// Run publishes until ctx ends, then returns nil. It returns an error only
// when it cannot be started: it is running already, or the connection
// options are refused by the NATS client.
func (p *Publisher) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("eventstream: Run is already running")
	}
	defer p.running.Store(false)
	for failures := 0; ; failures++ {
		began := time.Now()
		err := p.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(began) > time.Minute {
			failures = 0
		}
		var cerr *connectError
		if errors.As(err, &cerr) {
			return err
		}
		// The client closed the connection for good (it reconnects
		// forever otherwise); start a new one.
		p.setError(err)
		p.metrics.errors.Inc()
		delay := backoff(failures, time.Second, 30*time.Second)
		p.logger.Warn("NATS connection closed; connecting again", "retryIn", delay.Round(time.Millisecond), "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}

type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// syncState is what one connection knows of the stream.
type syncState struct {
	synced    bool             // stream ensured and cursors read back
	streamSeq uint64           // the stream's last sequence as last seen
	cursor    map[string]int64 // per outbox stream, the last seq in the stream
}

// session runs one NATS connection until ctx ends or the client closes it.
func (p *Publisher) session(ctx context.Context) error {
	up := make(chan struct{}, 1) // connected, reconnected or closed
	signal := func() {
		select {
		case up <- struct{}{}:
		default:
		}
	}
	closed := make(chan struct{})
	var reconnects atomic.Uint64
	nc, err := nats.Connect(p.opts.URL, p.natsOptions(signal, closed, &reconnects)...)
	if err != nil {
		return &connectError{fmt.Errorf("eventstream: connect to NATS: %w", err)}
	}
	p.conn.Store(nc)
	defer func() {
		nc.Close()
		// The closed handler is the connection's last callback: once it
		// ran, none of them logs any more.
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
		p.conn.Store(nil)
	}()
	js, err := jetstream.New(nc)
	if err != nil {
		return &connectError{fmt.Errorf("eventstream: JetStream: %w", err)}
	}

	st := &syncState{}
	held := map[string]*hold{}
	gen := reconnects.Load()
	poll := time.NewTicker(p.opts.Poll)
	defer poll.Stop()
	failures := 0 // JetStream failures in a row
	failing := false
	for {
		if nc.IsClosed() {
			return errors.New("NATS connection closed")
		}
		if nc.IsConnected() {
			if g := reconnects.Load(); g != gen {
				// The server may have lost or changed the stream while
				// the connection was down: read it back.
				gen, st.synced = g, false
			}
			holding, err := p.cycle(ctx, js, st, held)
			if ctx.Err() != nil {
				return nil
			}
			switch {
			case err != nil:
				p.setError(err)
				p.metrics.errors.Inc()
				failing = true
			case !holding:
				if failing {
					p.logger.Info("event stream publishing recovered")
				}
				p.clearError()
				failing = false
			}
			var jerr *jsError
			if errors.As(err, &jerr) {
				delay := backoff(failures, 500*time.Millisecond, 30*time.Second)
				failures++
				p.logger.Warn("publishing events failed; will retry", "retryIn", delay.Round(time.Millisecond), "err", err)
				t := time.NewTimer(delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-up:
				case <-t.C:
				}
				t.Stop()
				continue
			}
			failures = 0
		}
		// A held stream is retried when its hold ends, even if the poll
		// is slower.
		var retry <-chan time.Time
		var t *time.Timer
		if next := nextRetry(held); !next.IsZero() {
			t = time.NewTimer(time.Until(next))
			retry = t.C
		}
		select {
		case <-ctx.Done():
		case <-up:
		case <-p.wake:
		case <-poll.C:
		case <-retry:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

func nextRetry(held map[string]*hold) time.Time {
	var next time.Time
	for _, h := range held {
		if next.IsZero() || h.until.Before(next) {
			next = h.until
		}
	}
	return next
}

// hold keeps an outbox stream whose event failed from being retried before
// its backoff passed, without holding the others up.
type hold struct {
	failures int
	until    time.Time
}

func (p *Publisher) natsOptions(signal func(), closed chan struct{}, reconnects *atomic.Uint64) []nats.Option {
	var once sync.Once
	o := []nats.Option{
		nats.Name("o2ims-eventstream"),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.IgnoreAuthErrorAbort(),
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			return backoff(attempts-1, 200*time.Millisecond, 5*time.Second)
		}),
		// Fail publishes at once while disconnected rather than buffer
		// them; the publisher retries after reconnecting.
		nats.ReconnectBufSize(-1),
		nats.PingInterval(20 * time.Second),
		nats.ConnectHandler(func(nc *nats.Conn) {
			p.logger.Info("connected to NATS", "server", nc.ConnectedUrlRedacted())
			p.metrics.connected.Set(1)
			signal()
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			reconnects.Add(1)
			p.logger.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted())
			p.metrics.connected.Set(1)
			signal()
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			p.metrics.connected.Set(0)
			if err == nil {
				return // closed on purpose
			}
			p.metrics.errors.Inc()
			p.setError(fmt.Errorf("disconnected from NATS: %w", err))
			p.logger.Warn("disconnected from NATS; reconnecting", "err", err)
		}),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			p.setError(fmt.Errorf("connect to NATS: %w", err))
			p.logger.Debug("connecting to NATS failed; retrying", "err", err)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			p.metrics.errors.Inc()
			p.logger.Warn("NATS error", "err", err)
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			p.metrics.connected.Set(0)
			once.Do(func() { close(closed) })
			signal()
		}),
	}
	if p.opts.CredsFile != "" {
		o = append(o, nats.UserCredentials(p.opts.CredsFile))
	}
	if p.opts.TLS != nil {
		o = append(o, nats.Secure(p.opts.TLS.Clone()))
	}
	return o
}

// maxConflicts bounds how often one cycle reads the stream back after
// another publisher got in first.
const maxConflicts = 16

// cycle publishes everything pending in the outbox streams. It returns a
// *jsError if JetStream failed (all streams wait for the retry), or the
// failures of single streams (from the outbox or the rendering), which
// hold those streams only; holding tells whether a stream is held.
func (p *Publisher) cycle(ctx context.Context, js jetstream.JetStream, st *syncState, held map[string]*hold) (holding bool, err error) {
	for conflicts := 0; ; conflicts++ {
		if !st.synced {
			if err := p.sync(ctx, js, st); err != nil {
				return false, &jsError{err: err}
			}
		}
		var errs []error
		holding = false
		for _, name := range p.opts.Streams {
			h := held[name]
			if h != nil && time.Now().Before(h.until) {
				holding = true
				continue
			}
			err := p.drain(ctx, js, st, name)
			if err == nil {
				delete(held, name)
				continue
			}
			if ctx.Err() != nil {
				return false, err
			}
			var jerr *jsError
			if errors.As(err, &jerr) {
				// What the stream holds is uncertain now.
				st.synced = false
				if jerr.conflict && conflicts < maxConflicts {
					p.logger.Debug("another publisher wrote to the stream; reading it back", "stream", name)
					errs = nil
					break
				}
				return false, err
			}
			if h == nil {
				h = &hold{}
				held[name] = h
			}
			delay := backoff(h.failures, 500*time.Millisecond, 30*time.Second)
			h.failures++
			h.until = time.Now().Add(delay)
			p.logger.Warn("publishing outbox stream failed; will retry", "stream", name, "retryIn", delay.Round(time.Millisecond), "err", err)
			errs = append(errs, err)
			holding = true
		}
		if st.synced {
			return holding, errors.Join(errs...)
		}
	}
}

// sync ensures the stream and reads back what it holds.
func (p *Publisher) sync(ctx context.Context, js jetstream.JetStream, st *syncState) error {
	cfg := jetstream.StreamConfig{
		Name:        p.opts.StreamName,
		Description: "O2 IMS changes, published from the server's outbox",
		Subjects:    []string{p.opts.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      p.opts.MaxAge,
		Replicas:    p.opts.Replicas,
		Duplicates:  DuplicateWindow,
	}
	stream, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("create or update JetStream stream %s: %w", cfg.Name, err)
	}
	// The stream's last sequence is read before the outbox cursors: a
	// message another publisher adds after this read makes the first
	// publish fail its expected sequence, however stale the cursors.
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("read JetStream stream %s: %w", cfg.Name, err)
	}
	cursor := make(map[string]int64, len(p.opts.Streams))
	for _, name := range p.opts.Streams {
		seq, err := p.lastPublished(ctx, stream, name)
		if err != nil {
			return err
		}
		cursor[name] = seq
	}
	*st = syncState{synced: true, streamSeq: info.State.LastSeq, cursor: cursor}
	p.mu.Lock()
	maps.Copy(p.lastSeq, cursor)
	p.mu.Unlock()
	p.logger.Info("event stream ready", "stream", cfg.Name, "subjects", cfg.Subjects, "resumeAfter", cursor)
	return nil
}

// lastPublished is the outbox seq of the last message of outbox stream name
// in the JetStream stream, 0 if there is none.
func (p *Publisher) lastPublished(ctx context.Context, stream jetstream.Stream, name string) (int64, error) {
	subject := p.opts.SubjectPrefix + "." + name + ".>"
	msg, err := stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read last message of %s: %w", subject, err)
	}
	v := msg.Header.Get(HeaderOutboxSeq)
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seq <= 0 {
		return 0, fmt.Errorf("last message of %s (stream sequence %d) has no valid %s header (%q); was it published by someone else?", subject, msg.Sequence, HeaderOutboxSeq, v)
	}
	return seq, nil
}

// jsError is a failure of JetStream: what the stream holds is uncertain.
type jsError struct {
	err      error
	conflict bool // a publish found the stream moved on: another publisher
}

func (e *jsError) Error() string { return e.err.Error() }
func (e *jsError) Unwrap() error { return e.err }

// drain publishes outbox stream name's pending events.
func (p *Publisher) drain(ctx context.Context, js jetstream.JetStream, st *syncState, name string) error {
	for {
		events, err := p.src.Events(ctx, name, st.cursor[name], p.opts.Batch)
		if err != nil {
			return fmt.Errorf("read outbox %s after %d: %w", name, st.cursor[name], err)
		}
		for _, ev := range events {
			if ev.Seq <= st.cursor[name] {
				continue // already in the stream
			}
			if err := p.publish(ctx, js, st, name, ev); err != nil {
				return err
			}
		}
		if len(events) < p.opts.Batch {
			return nil
		}
	}
}

// publish stores one event in the stream and advances the cursor.
func (p *Publisher) publish(ctx context.Context, js jetstream.JetStream, st *syncState, name string, ev sqlstore.Event) error {
	if ev.Stream == "" {
		ev.Stream = name
	}
	named := ev
	if p.opts.ObjectType != nil {
		named.ObjectType = p.opts.ObjectType(ev)
	}
	subject, err := Subject(p.opts.SubjectPrefix, name, named)
	if err != nil {
		return fmt.Errorf("event %d: %w", ev.Seq, err)
	}
	body, err := p.render(ev)
	if err != nil {
		return fmt.Errorf("render event %d (%s %s): %w", ev.Seq, ev.ObjectType, ev.ObjectID, err)
	}
	seq := strconv.FormatInt(ev.Seq, 10)
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set(HeaderOutboxSeq, seq)
	msg.Header.Set(HeaderObjectID, ev.ObjectID)
	msg.Header.Set(HeaderEventType, strconv.Itoa(ev.EventType))
	ack, err := js.PublishMsg(ctx, msg,
		jetstream.WithMsgID(name+"-"+seq),
		jetstream.WithExpectStream(p.opts.StreamName),
		jetstream.WithExpectLastSequence(st.streamSeq))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &jsError{err: fmt.Errorf("publish event %d to %s: %w", ev.Seq, subject, err), conflict: isConflict(err)}
	}
	if ack.Duplicate {
		// Stored before, by this publisher (an ack that was lost) or
		// another one.
		p.logger.Debug("event already in the stream", "stream", name, "seq", ev.Seq, "streamSeq", ack.Sequence)
	} else {
		p.metrics.published.WithLabelValues(name).Inc()
	}
	st.streamSeq = max(st.streamSeq, ack.Sequence)
	st.cursor[name] = ev.Seq
	p.mu.Lock()
	if !ack.Duplicate {
		p.published[name]++
	}
	p.lastSeq[name] = ev.Seq
	p.mu.Unlock()
	return nil
}

// isConflict tells a publish refused for a wrong expected last sequence.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// eventTypes name EventType values in subjects, per outbox stream: the
// O2ims inventory notificationEventType, and the alarm one (NEW, CHANGE,
// CLEAR, ACKNOWLEDGE).
var eventTypes = map[string][]string{
	sqlstore.StreamInventory: {"created", "modified", "deleted"},
	sqlstore.StreamAlarm:     {"new", "changed", "cleared", "acknowledged"},
}

// Subject is the subject of ev, of outbox stream stream, under prefix:
// <prefix>.<stream>.<objectType>.<event> (see the package doc). Characters of
// the object type other than ASCII letters, digits, '_' and '-' become '_'.
func Subject(prefix, stream string, ev sqlstore.Event) (string, error) {
	name, err := EventName(stream, ev.EventType)
	if err != nil {
		return "", err
	}
	return prefix + "." + stream + "." + Token(ev.ObjectType) + "." + name, nil
}

// EventName names an event type of an outbox stream as subjects do.
func EventName(stream string, eventType int) (string, error) {
	names, ok := eventTypes[stream]
	if !ok {
		names = eventTypes[sqlstore.StreamInventory]
	}
	if eventType < 0 || eventType >= len(names) {
		return "", fmt.Errorf("unknown event type %d of stream %s", eventType, stream)
	}
	return names[eventType], nil
}

// Token makes s a safe subject token: characters other than ASCII letters,
// digits, '_' and '-' become '_', and an empty s becomes "_".
func Token(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// document is RenderDefault's message body.
type document struct {
	Seq              int64           `json:"seq"`
	Stream           string          `json:"stream"`
	ObjectType       string          `json:"objectType"`
	ObjectID         string          `json:"objectId"`
	EventType        int             `json:"eventType"`
	PriorObjectState json.RawMessage `json:"priorObjectState"`
	PostObjectState  json.RawMessage `json:"postObjectState"`
	CreatedAt        time.Time       `json:"createdAt"`
}

// RenderDefault is the Renderer used when none is given: a JSON document
// {seq, stream, objectType, objectId, eventType, priorObjectState,
// postObjectState, createdAt}, absent states being null.
func RenderDefault(ev sqlstore.Event) ([]byte, error) {
	return json.Marshal(document{
		Seq: ev.Seq, Stream: ev.Stream, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID, EventType: ev.EventType,
		PriorObjectState: rawOrNull(ev.Prior), PostObjectState: rawOrNull(ev.Post), CreatedAt: ev.CreatedAt,
	})
}

func rawOrNull(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return m
}

// backoff is exponential from base, capped, with jitter in [d/2, d].
func backoff(attempt int, base, limit time.Duration) time.Duration {
	d := base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}
