package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/dispatch"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/subscription"
)

const (
	serviceURI    = "http://ims.test"
	globalCloudID = "11111111-2222-4333-8444-555555555555"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), sub)
}

// harness wires a store to the real subscription service, matchers,
// notifier and webhook, as the server does.
type harness struct {
	t        testing.TB
	store    *sqlstore.Store
	matchers *subscription.Matchers
	svc      *subscription.Service
	notifier *subscription.Notifier
	logs     *syncBuffer
	logger   *slog.Logger
}

func newHarness(t testing.TB, store *sqlstore.Store) *harness {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := subscription.NewMatchers()
	h := &harness{t: t, store: store, matchers: m, logs: logs, logger: logger}
	h.svc = subscription.NewService(store, notify.Policy{}, m, logger)
	h.notifier = subscription.NewNotifier(m, notify.NewWebhook(notify.WebhookOptions{Timeout: 5 * time.Second}), serviceURI, globalCloudID)
	return h
}

// subscribe creates a subscription through the service, as the API does.
func (h *harness) subscribe(stream, callback, filter string) sqlstore.Subscription {
	h.t.Helper()
	doc, err := h.svc.Create(context.Background(), subscription.Kind{Stream: stream, Major: 1}, subscription.Input{Callback: callback, Filter: filter, ConsumerSubscriptionID: "consumer-" + filter})
	if err != nil {
		h.t.Fatalf("create subscription to %s with filter %q: %v", callback, filter, err)
	}
	idKey := "subscriptionId"
	if stream == sqlstore.StreamAlarm {
		idKey = "alarmSubscriptionId"
	}
	sub, err := h.store.GetSubscription(context.Background(), stream, doc[idKey].(string))
	if err != nil {
		h.t.Fatal(err)
	}
	return sub
}

// status returns the delivery status the API shows for sub.
func (h *harness) status(sub sqlstore.Subscription) map[string]any {
	h.t.Helper()
	doc, err := h.svc.Get(context.Background(), subscription.Kind{Stream: sub.Stream, Major: 1}, sub.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	ext, _ := doc["extensions"].(map[string]any)
	st, _ := ext["deliveryStatus"].(map[string]any)
	if st == nil {
		h.t.Fatalf("no deliveryStatus in %v", doc)
	}
	return st
}

func (h *harness) sub(s sqlstore.Subscription) sqlstore.Subscription {
	h.t.Helper()
	got, err := h.store.GetSubscription(context.Background(), s.Stream, s.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return got
}

// dispatcher returns a dispatcher over store with the harness's notifier.
func (h *harness) dispatcher(store dispatch.Store, opts dispatch.Options) *dispatch.Dispatcher {
	h.t.Helper()
	d, err := dispatch.New(store, h.notifier, opts, h.logger.With("owner", opts.Owner))
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// run runs d until the returned stop is called (or the test ends); stop
// fails the test unless Run returns promptly after its context ends.
func run(t testing.TB, d *dispatch.Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("Dispatcher.Run did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// noDispatcherGoroutines fails t if a worker or Run loop outlived Run.
func noDispatcherGoroutines(t testing.TB) {
	t.Helper()
	var stacks string
	waitFor(t, 5*time.Second, func() bool {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		return !strings.Contains(stacks, "internal/dispatch.(*Dispatcher)")
	}, func() string { return "dispatcher goroutines left after Run returned:\n" + stacks })
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, msg())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// note is one notification as a receiver got it.
type note struct {
	Path string
	ID   string
	Ref  string
	Body map[string]any
}

// receiver is a subscriber: a real HTTP server recording every POST and
// answering with the status respond chooses. Paths tell subscriptions
// apart.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     map[string][]note // every request, by path
	ok      map[string][]note // requests answered 2xx, by path
	respond func(n note, attempt int) int
}

func newReceiver(t testing.TB, respond func(n note, attempt int) int) *receiver {
	r := &receiver{got: map[string][]note{}, ok: map[string][]note{}, respond: respond}
	if r.respond == nil {
		r.respond = func(note, int) int { return http.StatusNoContent }
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var body map[string]any
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil {
		http.Error(w, "bad notification", http.StatusBadRequest)
		return
	}
	n := note{Path: req.URL.Path, Body: body}
	n.ID, _ = body["notificationId"].(string)
	n.Ref, _ = body["objectRef"].(string)
	r.mu.Lock()
	r.got[n.Path] = append(r.got[n.Path], n)
	attempt := len(r.got[n.Path])
	r.mu.Unlock()
	code := r.respond(n, attempt)
	if code >= 200 && code < 300 {
		r.mu.Lock()
		r.ok[n.Path] = append(r.ok[n.Path], n)
		r.mu.Unlock()
	}
	w.WriteHeader(code)
}

func (r *receiver) url(path string) string { return r.srv.URL + path }

func (r *receiver) accepted(path string) []note {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]note(nil), r.ok[path]...)
}

func (r *receiver) requests(path string) []note {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]note(nil), r.got[path]...)
}

// expected renders the notifications sub should get for events.
func (h *harness) expected(sub sqlstore.Subscription, events []sqlstore.Event) []note {
	h.t.Helper()
	out := make([]note, 0, len(events))
	for _, ev := range events {
		b, err := h.notifier.Render(sub, ev)
		if err != nil {
			h.t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			h.t.Fatal(err)
		}
		id, _ := body["notificationId"].(string)
		ref, _ := body["objectRef"].(string)
		out = append(out, note{ID: id, Ref: ref, Body: body})
	}
	return out
}

// sameNotes compares delivered notifications with the expected ones,
// body by body, in order.
func sameNotes(got, want []note) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d notifications, want %d: got %v, want %v", len(got), len(want), refs(got), refs(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i].Body, want[i].Body) {
			return fmt.Errorf("notification %d:\n got  %v\n want %v", i, got[i].Body, want[i].Body)
		}
	}
	return nil
}

func refs(ns []note) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		et, _ := n.Body["notificationEventType"].(float64)
		out[i] = fmt.Sprintf("%d:%s", int(et), strings.TrimPrefix(n.Ref, serviceURI+"/o2ims-infrastructureInventory/v1"))
	}
	return out
}

func events(t testing.TB, s *sqlstore.Store, stream string, after int64) []sqlstore.Event {
	t.Helper()
	evs, err := s.Events(context.Background(), stream, after, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func poolDoc(id, name string, ext ims.Extensions) sqlstore.Doc {
	b, _ := json.Marshal(ims.ResourcePool{ResourcePoolID: id, Name: name, Extensions: ext})
	return sqlstore.Doc{ID: id, JSON: b}
}

func resourceDoc(id, pool string) sqlstore.Doc {
	b, _ := json.Marshal(ims.Resource{ResourceID: id, ResourcePoolID: pool, ResourceTypeID: "rt"})
	return sqlstore.Doc{ID: id, JSON: b}
}

func pools(docs ...sqlstore.Doc) sqlstore.ObjectSet {
	return sqlstore.ObjectSet{Schema: inventory.ResourcePoolSchema, Docs: docs}
}

func resources(docs ...sqlstore.Doc) sqlstore.ObjectSet {
	return sqlstore.ObjectSet{Schema: inventory.ResourceSchema, Docs: docs}
}

func apply(t testing.TB, s *sqlstore.Store, source string, sets ...sqlstore.ObjectSet) []sqlstore.Change {
	t.Helper()
	ch, err := s.ApplySnapshot(context.Background(), source, sets)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// counter sums the series of a counter in a registry whose labels include
// labels (every stream's counters exist from the start).
func counter(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// newStrictNotifier is the harness's notifier under a policy that denies
// loopback, where the receivers listen.
func newStrictNotifier(h *harness) *subscription.Notifier {
	w := notify.NewWebhook(notify.WebhookOptions{Policy: notify.Policy{DenyLoopback: true}})
	return subscription.NewNotifier(h.matchers, w, serviceURI, globalCloudID)
}
