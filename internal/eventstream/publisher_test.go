package eventstream

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/nephoran/o2ims/internal/sqlstore"
)

// The tests run against a real NATS server with JetStream.
const (
	defaultTestURL = "nats://127.0.0.1:4222"
	startNATS      = "start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
	waitTimeout    = 20 * time.Second
)

// testURL is the NATS server of the tests; O2IMS_TEST_NATS_URL overrides it.
func testURL() string {
	if u := os.Getenv("O2IMS_TEST_NATS_URL"); u != "" {
		return u
	}
	return defaultTestURL
}

// outbox is the test's event source: a slice of events guarded by a
// mutex. It records the reads made of it.
type outbox struct {
	mu     sync.Mutex
	seq    int64
	events []sqlstore.Event
	reads  []outboxRead
	fail   map[string]error // per stream, the error Events returns
}

type outboxRead struct {
	stream string
	after  int64
}

func (o *outbox) add(stream, objectType, id string, eventType int) sqlstore.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	ev := sqlstore.Event{
		Seq: o.seq, Stream: stream, ObjectType: objectType, ObjectID: id, EventType: eventType,
		CreatedAt: time.UnixMilli(1_700_000_000_000 + o.seq).UTC(),
	}
	if eventType != 0 {
		ev.Prior = json.RawMessage(fmt.Sprintf(`{"id":%q,"version":%d}`, id, o.seq-1))
	}
	if eventType != 2 {
		ev.Post = json.RawMessage(fmt.Sprintf(`{"id":%q,"version":%d}`, id, o.seq))
	}
	o.events = append(o.events, ev)
	return ev
}

// addMany adds n events to each stream, alternating.
func (o *outbox) addMany(n int, streams ...string) {
	for i := range n {
		for _, s := range streams {
			o.add(s, "resources", fmt.Sprintf("%s-%d", s, i), i%3)
		}
	}
}

func (o *outbox) Events(ctx context.Context, stream string, after int64, limit int) ([]sqlstore.Event, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads = append(o.reads, outboxRead{stream, after})
	if err := o.fail[stream]; err != nil {
		return nil, err
	}
	var out []sqlstore.Event
	for _, ev := range o.events {
		if ev.Stream == stream && ev.Seq > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (o *outbox) of(stream string) []sqlstore.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []sqlstore.Event
	for _, ev := range o.events {
		if ev.Stream == stream {
			out = append(out, ev)
		}
	}
	return out
}

func (o *outbox) last(stream string) int64 {
	evs := o.of(stream)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

// firstRead is the cursor of the first read of stream since resetReads.
func (o *outbox) firstRead(stream string) (int64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.reads {
		if r.stream == stream {
			return r.after, true
		}
	}
	return 0, false
}

func (o *outbox) resetReads() {
	o.mu.Lock()
	o.reads = nil
	o.mu.Unlock()
}

func (o *outbox) setFail(stream string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail == nil {
		o.fail = map[string]error{}
	}
	o.fail[stream] = err
}

// testLogger logs to t.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// connectJS connects the test's own client to url, failing the test when
// NATS is not there.
func connectJS(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(3*time.Second))
	if err != nil {
		t.Fatalf("NATS is not reachable at %s (%v); %s", url, err, startNATS)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("JetStream is not available at %s (%v); the server needs -js; %s", url, err, startNATS)
	}
	return js
}

// testOptions are options with a stream and a subject prefix of the test's
// own, the stream deleted at the end of the test.
func testOptions(t testing.TB, js jetstream.JetStream, url string) Options {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := Token(strings.NewReplacer("/", "_").Replace(t.Name())) + "_" + hex.EncodeToString(b[:])
	opts := Options{
		URL:           url,
		StreamName:    name,
		SubjectPrefix: "t_" + strings.ToLower(name),
		Poll:          50 * time.Millisecond,
		MaxAge:        time.Hour,
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Logf("delete stream %s: %v", name, err)
		}
	})
	return opts
}

// start runs p until the returned stop is called (or the test ends).
func start(t testing.TB, p *Publisher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(waitTimeout):
				t.Errorf("Run did not return within %v of its context ending", waitTimeout)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds, failing the test at the deadline with
// cond's last explanation.
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", waitTimeout, what, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCaughtUp waits until p reports every event of src published.
func waitCaughtUp(t testing.TB, p *Publisher, src *outbox, streams ...string) {
	t.Helper()
	waitFor(t, "the publisher to catch up", func() (bool, string) {
		st := p.Status()
		for _, s := range streams {
			if got, want := st.LastSeq[s], src.last(s); got != want {
				return false, fmt.Sprintf("stream %s at %d of %d; status %+v", s, got, want, st)
			}
		}
		return true, ""
	})
}

// streamMsgs reads the whole stream back with an ordered consumer.
func streamMsgs(t testing.TB, js jetstream.JetStream, name string) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := int(info.State.Msgs)
	if want == 0 {
		return nil
	}
	cons, err := js.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	var msgs []jetstream.Msg
	for len(msgs) < want && ctx.Err() == nil {
		batch, err := cons.Fetch(want-len(msgs), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("fetch: %v", err)
		}
	}
	if len(msgs) != want {
		t.Fatalf("read %d of the stream's %d messages", len(msgs), want)
	}
	return msgs
}

// outboxSeqs are the O2ims-Outbox-Seq headers of msgs of outbox stream s,
// in stream order.
func outboxSeqs(t testing.TB, msgs []jetstream.Msg, prefix, s string) []int64 {
	t.Helper()
	var out []int64
	for _, m := range msgs {
		if !strings.HasPrefix(m.Subject(), prefix+"."+s+".") {
			continue
		}
		seq, err := strconv.ParseInt(m.Headers().Get(HeaderOutboxSeq), 10, 64)
		if err != nil {
			t.Fatalf("message on %s: bad %s: %v", m.Subject(), HeaderOutboxSeq, err)
		}
		out = append(out, seq)
	}
	return out
}

func seqsOf(evs []sqlstore.Event) []int64 {
	out := make([]int64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

// checkExactlyOnce checks that the stream holds every event of src's
// streams once, in order.
func checkExactlyOnce(t testing.TB, js jetstream.JetStream, opts Options, src *outbox, streams ...string) {
	t.Helper()
	msgs := streamMsgs(t, js, opts.StreamName)
	total := 0
	for _, s := range streams {
		got, want := outboxSeqs(t, msgs, opts.SubjectPrefix, s), seqsOf(src.of(s))
		if !slices.Equal(got, want) {
			t.Errorf("stream %s: outbox seqs in JetStream %v, want %v", s, got, want)
		}
		total += len(want)
	}
	if len(msgs) != total {
		t.Errorf("JetStream stream holds %d messages, want %d", len(msgs), total)
	}
}

func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !labelsMatch(m, labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func labelsMatch(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func TestPublishesOutboxStreams(t *testing.T) {
	url := testURL()
	js := connectJS(t, url)
	custom := func(ev sqlstore.Event) ([]byte, error) {
		return fmt.Appendf(nil, "custom %s %d %s", ev.Stream, ev.Seq, ev.ObjectID), nil
	}
	for _, tc := range []struct {
		name   string
		render Renderer
		// check tells what is wrong with body as the rendering of ev.
		check func(ev sqlstore.Event, body []byte) string
	}{{
		name:   "custom renderer",
		render: custom,
		check: func(ev sqlstore.Event, body []byte) string {
			want, _ := custom(ev)
			if !bytes.Equal(body, want) {
				return fmt.Sprintf("body %q, want %q", body, want)
			}
			return ""
		},
	}, {
		name: "default renderer",
		check: func(ev sqlstore.Event, body []byte) string {
			var doc struct {
				Seq              int64           `json:"seq"`
				Stream           string          `json:"stream"`
				ObjectType       string          `json:"objectType"`
				ObjectID         string          `json:"objectId"`
				EventType        *int            `json:"eventType"`
				PriorObjectState json.RawMessage `json:"priorObjectState"`
				PostObjectState  json.RawMessage `json:"postObjectState"`
				CreatedAt        time.Time       `json:"createdAt"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				return fmt.Sprintf("body %s: %v", body, err)
			}
			state := func(m json.RawMessage) string {
				if m == nil {
					return "null"
				}
				return string(m)
			}
			switch {
			case doc.Seq != ev.Seq || doc.Stream != ev.Stream || doc.ObjectType != ev.ObjectType || doc.ObjectID != ev.ObjectID:
			case doc.EventType == nil || *doc.EventType != ev.EventType:
			case string(doc.PriorObjectState) != state(ev.Prior) || string(doc.PostObjectState) != state(ev.Post):
			case !doc.CreatedAt.Equal(ev.CreatedAt):
			default:
				return ""
			}
			return fmt.Sprintf("body %s does not render %+v", body, ev)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t, js, url)
			opts.Poll = time.Hour // only Wake (and the start) makes it look
			reg := prometheus.NewPedanticRegistry()
			opts.Registerer = reg
			src := &outbox{}
			src.add(sqlstore.StreamInventory, "resource_pools", "pool-1", 0)
			src.add(sqlstore.StreamAlarm, "alarm_event_records", "alarm-1", 0)
			src.add(sqlstore.StreamInventory, "resources", "res-1", 0)
			p, err := New(src, tc.render, opts, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			start(t, p)
			waitCaughtUp(t, p, src, sqlstore.StreamInventory, sqlstore.StreamAlarm)

			// Events committed later are published on Wake.
			src.add(sqlstore.StreamInventory, "resources", "res-1", 1)
			src.add(sqlstore.StreamAlarm, "alarm_event_records", "alarm-1", 1)
			src.add(sqlstore.StreamInventory, "odd.type *>x", "odd-1", 0)
			src.add(sqlstore.StreamAlarm, "alarm_event_records", "alarm-1", 2)
			src.add(sqlstore.StreamInventory, "resource_pools", "pool-1", 2)
			p.Wake()
			waitCaughtUp(t, p, src, sqlstore.StreamInventory, sqlstore.StreamAlarm)

			msgs := streamMsgs(t, js, opts.StreamName)
			wantSubjects := map[int64]string{
				1: ".inventory.resource_pools.created",
				2: ".alarm.alarm_event_records.new",
				3: ".inventory.resources.created",
				4: ".inventory.resources.modified",
				5: ".alarm.alarm_event_records.changed",
				6: ".inventory.odd_type___x.created",
				7: ".alarm.alarm_event_records.cleared",
				8: ".inventory.resource_pools.deleted",
			}
			total := 0
			for _, stream := range []string{sqlstore.StreamInventory, sqlstore.StreamAlarm} {
				evs := src.of(stream)
				total += len(evs)
				var got []jetstream.Msg
				for _, m := range msgs {
					if strings.HasPrefix(m.Subject(), opts.SubjectPrefix+"."+stream+".") {
						got = append(got, m)
					}
				}
				if len(got) != len(evs) {
					t.Fatalf("stream %s: %d messages, want %d", stream, len(got), len(evs))
				}
				for i, ev := range evs {
					m := got[i]
					if want := opts.SubjectPrefix + wantSubjects[ev.Seq]; m.Subject() != want {
						t.Errorf("event %d on subject %q, want %q", ev.Seq, m.Subject(), want)
					}
					h := m.Headers()
					for _, kv := range [][2]string{
						{"Nats-Msg-Id", fmt.Sprintf("%s-%d", stream, ev.Seq)},
						{HeaderOutboxSeq, strconv.FormatInt(ev.Seq, 10)},
						{HeaderObjectID, ev.ObjectID},
						{HeaderEventType, strconv.Itoa(ev.EventType)},
					} {
						if got := h.Get(kv[0]); got != kv[1] {
							t.Errorf("event %d: header %s %q, want %q", ev.Seq, kv[0], got, kv[1])
						}
					}
					if why := tc.check(ev, m.Data()); why != "" {
						t.Errorf("event %d: %s", ev.Seq, why)
					}
				}
			}
			if len(msgs) != total {
				t.Errorf("stream holds %d messages, want %d", len(msgs), total)
			}

			st := p.Status()
			if !st.Connected || st.LastError != "" {
				t.Errorf("status %+v, want connected without error", st)
			}
			if want := map[string]int64{"inventory": 5, "alarm": 3}; !mapsEqual(st.Published, want) {
				t.Errorf("published %v, want %v", st.Published, want)
			}
			if got := metricValue(t, reg, "o2ims_eventstream_published_total", "stream", "inventory"); got != 5 {
				t.Errorf("o2ims_eventstream_published_total{stream=inventory} = %v, want 5", got)
			}
			if got := metricValue(t, reg, "o2ims_eventstream_published_total", "stream", "alarm"); got != 3 {
				t.Errorf("o2ims_eventstream_published_total{stream=alarm} = %v, want 3", got)
			}
			if got := metricValue(t, reg, "o2ims_eventstream_connected"); got != 1 {
				t.Errorf("o2ims_eventstream_connected = %v, want 1", got)
			}
			if got := metricValue(t, reg, "o2ims_eventstream_errors_total"); got != 0 {
				t.Errorf("o2ims_eventstream_errors_total = %v, want 0", got)
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRestartResumesFromStream(t *testing.T) {
	url := testURL()
	js := connectJS(t, url)
	opts := testOptions(t, js, url)
	opts.Batch = 2 // several reads per catch-up
	streams := []string{sqlstore.StreamInventory, sqlstore.StreamAlarm}
	src := &outbox{}

	for _, round := range []struct {
		name string
		add  int // events added to each stream before the round
	}{
		{"first start", 3},
		{"restart with new events", 2},
		{"restart with nothing new", 0},
		{"restart with more new events", 5},
	} {
		// What the stream holds when this round's publisher starts.
		inStream := map[string]int64{}
		for _, s := range streams {
			inStream[s] = src.last(s)
		}
		src.addMany(round.add, streams...)
		src.resetReads()
		p, err := New(src, nil, opts, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, p)
		waitCaughtUp(t, p, src, streams...)
		stop()
		for _, s := range streams {
			if after, ok := src.firstRead(s); !ok || after != inStream[s] {
				t.Errorf("%s: first read of %s after %d (read: %v), want after %d, the last seq in the stream", round.name, s, after, ok, inStream[s])
			}
		}
		want := map[string]int64{}
		for _, s := range streams {
			want[s] = int64(round.add)
		}
		if got := p.Status().Published; !mapsEqual(got, want) {
			t.Errorf("%s: published %v, want %v", round.name, got, want)
		}
		checkExactlyOnce(t, js, opts, src, streams...)
	}
}

func TestDuplicatesAreDropped(t *testing.T) {
	url := testURL()
	js := connectJS(t, url)

	t.Run("same seq published twice", func(t *testing.T) {
		// As after an ack that was lost: the publisher does not know the
		// first publish succeeded, and publishes the event again.
		opts := testOptions(t, js, url)
		src := &outbox{}
		ev := src.add(sqlstore.StreamInventory, "resources", "res-1", 0)
		p, err := New(src, nil, opts, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		st := &syncState{}
		if err := p.sync(ctx, js, st); err != nil {
			t.Fatal(err)
		}
		stale := *st
		stale.cursor = map[string]int64{sqlstore.StreamInventory: 0}
		if err := p.publish(ctx, js, st, sqlstore.StreamInventory, ev); err != nil {
			t.Fatal(err)
		}
		// Again, expecting the stream as it was before: JetStream drops it
		// as a duplicate or refuses it for the wrong last sequence (the
		// publisher then reads the stream back); it stores nothing.
		again := stale
		again.cursor = map[string]int64{sqlstore.StreamInventory: 0}
		if err := p.publish(ctx, js, &again, sqlstore.StreamInventory, ev); err != nil {
			var perr *jsError
			if !errors.As(err, &perr) || !perr.conflict {
				t.Fatalf("publishing again with a stale expectation: %v", err)
			}
			t.Logf("publishing again with a stale expectation: %v", err)
		}
		// Again, expecting the stream as it is: a duplicate.
		fresh := stale
		fresh.cursor = map[string]int64{sqlstore.StreamInventory: 0}
		fresh.streamSeq = st.streamSeq
		if err := p.publish(ctx, js, &fresh, sqlstore.StreamInventory, ev); err != nil {
			t.Fatalf("publishing again: %v", err)
		}
		if got := len(streamMsgs(t, js, opts.StreamName)); got != 1 {
			t.Errorf("stream holds %d messages, want 1", got)
		}
		if got := p.Status().Published[sqlstore.StreamInventory]; got != 1 {
			t.Errorf("published %d, want 1 (the repeat is a duplicate)", got)
		}
		if fresh.cursor[sqlstore.StreamInventory] != ev.Seq {
			t.Errorf("cursor %d after the duplicate, want %d", fresh.cursor[sqlstore.StreamInventory], ev.Seq)
		}
	})

	t.Run("stale publisher beyond the duplicate window", func(t *testing.T) {
		// A publisher read the stream back, then another one stored
		// events 1-3 so long ago that JetStream no longer remembers their
		// message ids (here: stored without any). The stale publisher
		// must not store them again.
		opts := testOptions(t, js, url)
		src := &outbox{}
		for i := range 3 {
			src.add(sqlstore.StreamInventory, "resources", fmt.Sprintf("res-%d", i), 0)
		}
		p, err := New(src, nil, opts, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		st := &syncState{}
		if err := p.sync(ctx, js, st); err != nil {
			t.Fatal(err)
		}
		for _, ev := range src.of(sqlstore.StreamInventory) {
			subject, err := Subject(opts.SubjectPrefix, sqlstore.StreamInventory, ev)
			if err != nil {
				t.Fatal(err)
			}
			m := nats.NewMsg(subject)
			m.Header.Set(HeaderOutboxSeq, strconv.FormatInt(ev.Seq, 10))
			if _, err := js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		src.add(sqlstore.StreamInventory, "resources", "res-new", 1)
		holding, err := p.cycle(ctx, js, st, map[string]*hold{})
		if err != nil || holding {
			t.Fatalf("cycle: holding %v, %v", holding, err)
		}
		checkExactlyOnce(t, js, opts, src, sqlstore.StreamInventory)
		if got := p.Status().Published[sqlstore.StreamInventory]; got != 1 {
			t.Errorf("published %d, want 1", got)
		}
	})

	t.Run("two publishers on one outbox", func(t *testing.T) {
		// Two servers on one database: both publish the same outbox into
		// the same stream, each event once.
		opts := testOptions(t, js, url)
		opts.Batch = 3
		streams := []string{sqlstore.StreamInventory, sqlstore.StreamAlarm}
		src := &outbox{}
		src.addMany(10, streams...)
		var ps []*Publisher
		for range 2 {
			p, err := New(src, nil, opts, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		for _, p := range ps {
			start(t, p)
		}
		for range 5 {
			src.addMany(4, streams...)
			for _, p := range ps {
				p.Wake()
			}
		}
		for _, p := range ps {
			waitCaughtUp(t, p, src, streams...)
		}
		checkExactlyOnce(t, js, opts, src, streams...)
		for _, s := range streams {
			var sum int64
			for _, p := range ps {
				sum += p.Status().Published[s]
			}
			if want := int64(len(src.of(s))); sum != want {
				t.Errorf("stream %s: the publishers stored %d messages together, want %d", s, sum, want)
			}
		}
	})
}

// natsServer is a nats-server process of the test's own.
type natsServer struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
	log  syncBuffer
}

// syncBuffer is a buffer written by the process and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs nats-server with JetStream storing in dir, and waits until it
// answers.
func (s *natsServer) start(dir string) {
	s.t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		bin = "/usr/sbin/nats-server"
		if _, err := os.Stat(bin); err != nil {
			s.t.Fatalf("nats-server not found (apt-get install nats-server): %v", err)
		}
	}
	s.log.Reset()
	s.cmd = exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", dir)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	cmd := s.cmd
	s.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitFor(s.t, "the test's nats-server to listen", func() (bool, string) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
		if err != nil {
			return false, fmt.Sprintf("%v; log: %s", err, s.log.String())
		}
		c.Close()
		return true, ""
	})
}

// stop ends the server and waits for it to exit.
func (s *natsServer) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func TestCatchesUpAfterNATSOutage(t *testing.T) {
	srv := &natsServer{t: t, port: freePort(t)}
	url := fmt.Sprintf("nats://127.0.0.1:%d", srv.port)
	dir := filepath.Join(t.TempDir(), "js")
	streams := []string{sqlstore.StreamInventory, sqlstore.StreamAlarm}
	src := &outbox{}
	src.addMany(3, streams...)
	opts := Options{URL: url, StreamName: "O2IMS", SubjectPrefix: "o2ims", Poll: 50 * time.Millisecond, MaxAge: time.Hour}
	reg := prometheus.NewPedanticRegistry()
	opts.Registerer = reg
	p, err := New(src, nil, opts, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}

	// Down at start: the publisher keeps trying.
	start(t, p)
	waitFor(t, "the publisher to report the failed connection", func() (bool, string) {
		st := p.Status()
		return !st.Connected && st.LastError != "", fmt.Sprintf("status %+v", st)
	})
	src.addMany(2, streams...)
	if st := p.Status(); len(st.LastSeq) != 0 {
		t.Errorf("status %+v before any server was there: nothing can be known published", st)
	}
	srv.start(dir)
	waitCaughtUp(t, p, src, streams...)
	checkExactlyOnce(t, connectJS(t, url), opts, src, streams...)
	if st := p.Status(); !st.Connected || st.LastError != "" {
		t.Errorf("status %+v after catching up, want connected without error", st)
	}

	// Going away while running: events committed meanwhile follow once it
	// is back.
	srv.stop()
	waitFor(t, "the publisher to notice the server gone", func() (bool, string) {
		st := p.Status()
		return !st.Connected, fmt.Sprintf("status %+v", st)
	})
	if got := metricValue(t, reg, "o2ims_eventstream_connected"); got != 0 {
		t.Errorf("o2ims_eventstream_connected = %v while disconnected, want 0", got)
	}
	src.addMany(4, streams...)
	p.Wake()
	srv.start(dir)
	waitCaughtUp(t, p, src, streams...)
	checkExactlyOnce(t, connectJS(t, url), opts, src, streams...)

	// Back without its storage: the stream is made again and filled with
	// everything still in the outbox.
	srv.stop()
	src.add(sqlstore.StreamAlarm, "alarm_event_records", "alarm-late", 0)
	srv.start(filepath.Join(t.TempDir(), "js-new"))
	js := connectJS(t, url)
	waitFor(t, "the publisher to fill the new stream", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, opts.StreamName)
		if err != nil {
			return false, err.Error()
		}
		info, err := s.Info(ctx)
		if err != nil {
			return false, err.Error()
		}
		want := uint64(len(src.of(sqlstore.StreamInventory)) + len(src.of(sqlstore.StreamAlarm)))
		return info.State.Msgs == want, fmt.Sprintf("%d of %d messages", info.State.Msgs, want)
	})
	waitCaughtUp(t, p, src, streams...)
	checkExactlyOnce(t, js, opts, src, streams...)
	if got := metricValue(t, reg, "o2ims_eventstream_errors_total"); got == 0 {
		t.Errorf("o2ims_eventstream_errors_total = 0 after outages")
	}
}

func TestFailingEventStopsOnlyItsStream(t *testing.T) {
	url := testURL()
	js := connectJS(t, url)
	opts := testOptions(t, js, url)
	opts.Poll = time.Hour // retries come from the backoff, new events from Wake
	streams := []string{sqlstore.StreamInventory, sqlstore.StreamAlarm}
	src := &outbox{}
	src.add(sqlstore.StreamInventory, "resources", "res-1", 0)
	bad := src.add(sqlstore.StreamInventory, "resources", "poison", 0)
	src.add(sqlstore.StreamInventory, "resources", "res-2", 0)
	src.add(sqlstore.StreamAlarm, "alarm_event_records", "alarm-1", 0)
	var mu sync.Mutex
	broken := true
	render := func(ev sqlstore.Event) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if broken && ev.ObjectID == "poison" {
			return nil, errors.New("cannot render poison")
		}
		return RenderDefault(ev)
	}
	p, err := New(src, render, opts, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	start(t, p)
	waitFor(t, "the failure to be reported", func() (bool, string) {
		st := p.Status()
		return st.LastSeq[sqlstore.StreamInventory] == bad.Seq-1 && st.LastSeq[sqlstore.StreamAlarm] == src.last(sqlstore.StreamAlarm) &&
			strings.Contains(st.LastError, "cannot render poison"), fmt.Sprintf("status %+v", st)
	})
	// The alarm stream goes on; so does a failing outbox read elsewhere.
	src.setFail(sqlstore.StreamInventory, errors.New("database gone"))
	src.add(sqlstore.StreamAlarm, "alarm_event_records", "alarm-2", 0)
	p.Wake()
	waitFor(t, "the alarm stream to go on", func() (bool, string) {
		st := p.Status()
		return st.LastSeq[sqlstore.StreamAlarm] == src.last(sqlstore.StreamAlarm) && strings.Contains(st.LastError, "database gone"),
			fmt.Sprintf("status %+v", st)
	})
	// Repaired, the inventory stream catches up at its next retry.
	src.setFail(sqlstore.StreamInventory, nil)
	mu.Lock()
	broken = false
	mu.Unlock()
	waitCaughtUp(t, p, src, streams...)
	checkExactlyOnce(t, js, opts, src, streams...)
	waitFor(t, "the error to clear", func() (bool, string) {
		st := p.Status()
		return st.LastError == "", fmt.Sprintf("status %+v", st)
	})
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	valid := Options{URL: "nats://127.0.0.1:4222"}
	for _, tc := range []struct {
		name   string
		src    Source
		change func(*Options)
		want   string // in the error
	}{
		{name: "no source", want: "no event source"},
		{name: "no URL", change: func(o *Options) { o.URL = " " }, want: "URL is required"},
		{name: "URL scheme", change: func(o *Options) { o.URL = "http://127.0.0.1:4222" }, want: `scheme "http"`},
		{name: "URL without host", change: func(o *Options) { o.URL = "nats://:4222" }, want: "has no host"},
		{name: "one bad URL of several", change: func(o *Options) { o.URL = "nats://a:4222,https://b" }, want: `scheme "https"`},
		{name: "missing creds file", change: func(o *Options) { o.CredsFile = "/nonexistent/o2ims.creds" }, want: "credentials file"},
		{name: "stream name with dot", change: func(o *Options) { o.StreamName = "O2.IMS" }, want: `stream name "O2.IMS" contains '.'`},
		{name: "stream name with space", change: func(o *Options) { o.StreamName = "O2 IMS" }, want: "stream name"},
		{name: "prefix with wildcard", change: func(o *Options) { o.SubjectPrefix = "o2ims.*" }, want: `subject prefix "o2ims.*" contains '*'`},
		{name: "prefix with empty token", change: func(o *Options) { o.SubjectPrefix = "o2ims..x" }, want: "empty subject token"},
		{name: "prefix with trailing dot", change: func(o *Options) { o.SubjectPrefix = "o2ims." }, want: "empty subject token"},
		{name: "no outbox streams", change: func(o *Options) { o.Streams = []string{} }, want: "no outbox streams"},
		{name: "outbox stream twice", change: func(o *Options) { o.Streams = []string{"alarm", "alarm"} }, want: `"alarm" listed twice`},
		{name: "outbox stream with dot", change: func(o *Options) { o.Streams = []string{"inv.entory"} }, want: `outbox stream "inv.entory"`},
		{name: "negative poll", change: func(o *Options) { o.Poll = -time.Second }, want: "Poll -1s is negative"},
		{name: "negative batch", change: func(o *Options) { o.Batch = -1 }, want: "Batch -1 is negative"},
		{name: "negative max age", change: func(o *Options) { o.MaxAge = -time.Hour }, want: "MaxAge -1h0m0s is negative"},
		{name: "max age within the duplicate window", change: func(o *Options) { o.MaxAge = time.Minute }, want: "shorter than the duplicate window"},
		{name: "too many replicas", change: func(o *Options) { o.Replicas = 6 }, want: "Replicas 6 is out of range"},
		{name: "negative replicas", change: func(o *Options) { o.Replicas = -1 }, want: "Replicas -1 is out of range"},
		{name: "duplicate metrics", change: func(o *Options) {
			reg := prometheus.NewRegistry()
			if _, err := New(&outbox{}, nil, Options{URL: "nats://x", Registerer: reg}, nil); err != nil {
				t.Fatal(err)
			}
			o.Registerer = reg
		}, want: "register metrics"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := valid
			if tc.change != nil {
				tc.change(&opts)
			}
			src := tc.src
			if src == nil && tc.name != "no source" {
				src = &outbox{}
			}
			p, err := New(src, nil, opts, nil)
			if err == nil {
				t.Fatalf("New accepted %+v", opts)
			}
			if p != nil {
				t.Error("New returned a publisher with its error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		p, err := New(&outbox{}, nil, valid, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := Options{URL: valid.URL, StreamName: "O2IMS", SubjectPrefix: "o2ims", Streams: []string{"inventory", "alarm"},
			Poll: time.Second, Batch: 256, MaxAge: 7 * 24 * time.Hour, Replicas: 1}
		if got := p.opts; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("options %+v, want %+v", got, want)
		}
	})
}

func TestSubject(t *testing.T) {
	for _, tc := range []struct {
		objectType string
		eventType  int
		want       string // "" for an error
		stream     string // "" for inventory
	}{
		{"alarms", 0, "o2ims.alarm.alarms.new", "alarm"},
		{"alarms", 3, "o2ims.alarm.alarms.acknowledged", "alarm"},
		{"alarms", 4, "", "alarm"},
		{"resource_pools", 0, "o2ims.inventory.resource_pools.created", ""},
		{"resources", 1, "o2ims.inventory.resources.modified", ""},
		{"deployment-managers", 2, "o2ims.inventory.deployment-managers.deleted", ""},
		{"a.b", 0, "o2ims.inventory.a_b.created", ""},
		{"wild*card>", 0, "o2ims.inventory.wild_card_.created", ""},
		{"sp ace\ttab", 0, "o2ims.inventory.sp_ace_tab.created", ""},
		{"ünïcode", 0, "o2ims.inventory._n_code.created", ""},
		{"", 0, "o2ims.inventory._.created", ""},
		{"resources", 3, "", ""},
		{"resources", -1, "", ""},
	} {
		stream := cmp.Or(tc.stream, "inventory")
		got, err := Subject("o2ims", stream, sqlstore.Event{ObjectType: tc.objectType, EventType: tc.eventType})
		if tc.want == "" {
			if err == nil {
				t.Errorf("Subject(%q, %d) = %q, want an error", tc.objectType, tc.eventType, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Subject(%q, %d) = %q, %v; want %q", tc.objectType, tc.eventType, got, err, tc.want)
		}
	}
}
