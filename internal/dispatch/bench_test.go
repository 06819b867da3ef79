package dispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/dispatch"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/notify"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
	"github.com/nephoran/o2ims/internal/subscription"
)

// BenchmarkDelivery measures notification delivery with the production
// pieces (store, matchers, notifier, webhook, dispatcher with default
// options) to 100 unfiltered subscriptions whose callbacks are paths of
// one loopback HTTP server. b.N is the number of inventory changes (one
// event each), committed by ApplySnapshot and announced with Wake, as the
// provider sync does.
//
//   - burst: the changes are committed as fast as possible, 50 to a
//     transaction; deliveries/s is the sustained rate until the last of
//     the 100×N notifications arrived.
//   - paced: the changes are committed one per transaction, 60 a second:
//     an offered load of 6,000 deliveries/s. Latency is meaningful here,
//     where it is not dominated by the backlog of a burst.
//
// Latency is from the return of the commit to the receiver's arrival
// time, per notification: p50 and p99 over all 100×N.
//
//	go test -run '^$' -bench BenchmarkDelivery -benchtime 600x ./internal/dispatch/
func BenchmarkDelivery(b *testing.B) {
	for _, be := range sqlstoretest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			b.Run("burst", func(b *testing.B) { benchDelivery(b, be, 0) })
			b.Run("paced", func(b *testing.B) { benchDelivery(b, be, 60) })
		})
	}
}

const (
	benchSubs  = 100
	burstBatch = 50
)

func benchDelivery(b *testing.B, be sqlstoretest.Backend, rate float64) {
	ctx := context.Background()
	store := sqlstoretest.Open(b, be)
	n := b.N

	// Arrival time per (subscription, change); the first arrival counts.
	arrived := make([]atomic.Int64, benchSubs*n)
	committed := make([]atomic.Int64, n)
	var got, dups atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		body, _ := io.ReadAll(r.Body)
		var nt struct {
			Post struct {
				Extensions struct {
					N int `json:"n"`
				} `json:"extensions"`
			} `json:"postObjectState"`
		}
		sub, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/s"))
		if err != nil || json.Unmarshal(body, &nt) != nil || nt.Post.Extensions.N >= n || sub >= benchSubs {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if arrived[sub*n+nt.Post.Extensions.N].CompareAndSwap(0, now) {
			got.Add(1)
		} else {
			dups.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	for i := range benchSubs {
		s := newSub(sqlstore.StreamInventory, fmt.Sprintf("%s/s%d", srv.URL, i))
		if err := store.CreateSubscription(ctx, s, s.Callback); err != nil {
			b.Fatal(err)
		}
	}
	m := subscription.NewMatchers()
	notifier := subscription.NewNotifier(m, notify.NewWebhook(notify.WebhookOptions{}), serviceURI, globalCloudID)
	counted := &countingStore{Store: store}
	d, err := dispatch.New(counted, notifier, dispatch.Options{}, quietLogger)
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(runCtx) }()
	defer func() { stop(); <-done }()

	// Change i modifies pool i%batch; a burst commits batch changes per
	// transaction (so the producer is not the bottleneck), the paced
	// mode one.
	batch := burstBatch
	if rate > 0 {
		batch = 1
	}
	docs := make([]sqlstore.Doc, min(batch, n))
	b.ResetTimer()
	start := time.Now()
	for first := 0; first < n; first += batch {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(first) / rate * float64(time.Second)))))
		}
		last := min(first+batch, n)
		for i := first; i < last; i++ {
			docs[i%batch] = poolDoc(fmt.Sprint("p", i%batch), "bench", ims.Extensions{"n": i})
		}
		ch, err := store.ApplySnapshot(ctx, "bench", []sqlstore.ObjectSet{pools(docs...)})
		if err != nil {
			b.Fatal(err)
		}
		if len(ch) != last-first {
			b.Fatalf("%d changes, want %d", len(ch), last-first)
		}
		now := time.Now().UnixNano()
		for i := first; i < last; i++ {
			committed[i].Store(now)
		}
		d.Wake()
	}
	want := int64(benchSubs * n)
	deadline := time.Now().Add(10*time.Minute + time.Duration(n)*time.Millisecond)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d notifications arrived", got.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	lat := make([]int64, 0, want)
	for s := range benchSubs {
		for i := range n {
			l := arrived[s*n+i].Load() - committed[i].Load()
			lat = append(lat, max(l, 0)) // delivered before the commit's return was noted
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6
	}
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(dups.Load()), "duplicates")
	b.ReportMetric(float64(counted.calls.Load())/float64(want), "db-calls/delivery")
}

// countingStore counts the dispatcher's database statements.
type countingStore struct {
	*sqlstore.Store
	calls atomic.Int64
}

func (c *countingStore) ClaimSubscriptions(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]sqlstore.Subscription, error) {
	c.calls.Add(1)
	return c.Store.ClaimSubscriptions(ctx, owner, now, lease, limit)
}

func (c *countingStore) Events(ctx context.Context, stream string, after int64, limit int) ([]sqlstore.Event, error) {
	c.calls.Add(1)
	return c.Store.Events(ctx, stream, after, limit)
}

func (c *countingStore) ReportProgress(ctx context.Context, id, owner string, p sqlstore.Progress) error {
	c.calls.Add(1)
	return c.Store.ReportProgress(ctx, id, owner, p)
}

// newSub builds a stored subscription.
func newSub(stream, callback string) sqlstore.Subscription {
	s := sqlstore.Subscription{Stream: stream, Callback: callback}
	s.ID = uuid.NewString()
	s.Doc, _ = json.Marshal(map[string]string{"subscriptionId": s.ID, "callback": callback})
	return s
}
