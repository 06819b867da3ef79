package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/dispatch"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// fast are dispatcher options for tests: short polls and backoffs.
func fast(reg prometheus.Registerer) dispatch.Options {
	return dispatch.Options{
		PollInterval: 20 * time.Millisecond,
		BackoffBase:  10 * time.Millisecond,
		BackoffMax:   100 * time.Millisecond,
		Registerer:   reg,
	}
}

// A filtered subscription receives exactly the matching events, an
// unfiltered one all of them, both in commit order and with the bodies
// the notifier renders; alarm subscriptions likewise for their stream.
func TestDeliveryFilteredAndUnfiltered(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		h := newHarness(t, store)
		rcv := newReceiver(t, nil)
		all := h.subscribe(sqlstore.StreamInventory, rcv.url("/all"), "")
		east := h.subscribe(sqlstore.StreamInventory, rcv.url("/east"), "(eq,objectType,ResourcePool);(eq,name,east)")
		alarmsAll := h.subscribe(sqlstore.StreamAlarm, rcv.url("/alarms"), "")
		alarmsNew := h.subscribe(sqlstore.StreamAlarm, rcv.url("/alarms-new"), "(eq,notificationEventType,NEW)")

		d := h.dispatcher(store, fast(prometheus.NewRegistry()))
		stop := run(t, d)

		// Pools e1 and e2 are named east at some point of each of their
		// events; w1 never is; resources are excluded by objectType.
		apply(t, store, "src", pools(poolDoc("e1", "east", nil)))
		d.Wake()
		apply(t, store, "src", pools(poolDoc("e1", "east", nil), poolDoc("w1", "west", nil)))
		apply(t, store, "src", pools(poolDoc("e1", "west", nil), poolDoc("w1", "west", nil)))  // e1 renamed away from east
		apply(t, store, "src", pools(poolDoc("e1", "west", nil), poolDoc("w1", "north", nil))) // w1 never east
		d.Wake()
		apply(t, store, "src", pools(poolDoc("e1", "west", nil), poolDoc("w1", "north", nil), poolDoc("e2", "east", nil)), resources(resourceDoc("r1", "e2")))
		apply(t, store, "src", pools(poolDoc("e1", "west", nil), poolDoc("w1", "north", nil)), resources()) // e2 and r1 deleted
		apply(t, store, "src", pools(poolDoc("e1", "east", nil), poolDoc("w1", "north", nil)))              // back to east
		d.Wake()

		alarm := ims.AlarmEventRecord{AlarmEventRecordID: "a1", AlarmDefinitionID: "def", ProbableCauseID: "pc", AlarmRaisedTime: "2025-01-01T00:00:00.000Z",
			ResourceTypeID: "rt", ResourceID: "r1", PerceivedSeverity: ims.SeverityMajor}
		if _, err := store.MutateOpenAlarm(context.Background(), "fp", func(*ims.AlarmEventRecord) (*ims.AlarmEventRecord, ims.AlarmEventType, error) {
			return &alarm, ims.AlarmNew, nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.MutateOpenAlarm(context.Background(), "fp", func(cur *ims.AlarmEventRecord) (*ims.AlarmEventRecord, ims.AlarmEventType, error) {
			next := *cur
			next.PerceivedSeverity = ims.SeverityCleared
			next.AlarmChangedTime = "2025-01-01T00:05:00.000Z"
			return &next, ims.AlarmClear, nil
		}); err != nil {
			t.Fatal(err)
		}
		d.Wake()

		inv := events(t, store, sqlstore.StreamInventory, 0)
		if len(inv) != 9 {
			t.Fatalf("%d inventory events, want 9", len(inv))
		}
		var eastEvents []sqlstore.Event
		for _, ev := range inv {
			if ev.ObjectType == inventory.ResourcePoolSchema.Name && (ev.ObjectID == "e1" || ev.ObjectID == "e2") {
				eastEvents = append(eastEvents, ev)
			}
		}
		alarmEvents := events(t, store, sqlstore.StreamAlarm, 0)
		if len(alarmEvents) != 2 {
			t.Fatalf("%d alarm events, want 2", len(alarmEvents))
		}

		want := map[string][]note{
			"/all":        h.expected(all, inv),
			"/east":       h.expected(east, eastEvents),
			"/alarms":     h.expected(alarmsAll, alarmEvents),
			"/alarms-new": h.expected(alarmsNew, alarmEvents[:1]),
		}
		subs := map[string]sqlstore.Subscription{"/all": all, "/east": east, "/alarms": alarmsAll, "/alarms-new": alarmsNew}
		// Done when every subscription's cursor reached the end of its
		// stream, so nothing more can arrive.
		waitFor(t, 20*time.Second, func() bool {
			for _, s := range subs {
				evs := inv
				if s.Stream == sqlstore.StreamAlarm {
					evs = alarmEvents
				}
				if h.sub(s).Cursor != evs[len(evs)-1].Seq {
					return false
				}
			}
			return true
		}, func() string {
			return fmt.Sprintf("not every subscription caught up; received %v", refs(rcv.requests("/all")))
		})
		stop()
		noDispatcherGoroutines(t)

		for path, w := range want {
			if err := sameNotes(rcv.accepted(path), w); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			if n := len(rcv.requests(path)); n != len(w) {
				t.Errorf("%s: %d requests for %d notifications", path, n, len(w))
			}
			if got := h.sub(subs[path]).Delivered; got != int64(len(w)) {
				t.Errorf("%s: delivered count %d, want %d", path, got, len(w))
			}
		}
		// Spot-check the bodies beyond the comparison with Render.
		e := rcv.accepted("/east")
		if len(e) == 5 {
			if e[1].Body["notificationEventType"] != float64(1) || e[1].Body["priorObjectState"].(map[string]any)["name"] != "east" ||
				e[1].Body["postObjectState"].(map[string]any)["name"] != "west" {
				t.Errorf("rename away from east: %v", e[1].Body)
			}
			if e[3].Body["notificationEventType"] != float64(2) || e[3].Ref != serviceURI+"/o2ims-infrastructureInventory/v1/resourcePools/e2" || e[3].Body["postObjectState"] != nil {
				t.Errorf("delete of e2: %v", e[3].Body)
			}
			if e[0].Body["consumerSubscriptionId"] != "consumer-(eq,objectType,ResourcePool);(eq,name,east)" {
				t.Errorf("consumerSubscriptionId %v", e[0].Body["consumerSubscriptionId"])
			}
		}
		if a := rcv.accepted("/alarms"); len(a) == 2 {
			if a[1].Body["globalCloudID"] != globalCloudID || a[1].Body["notificationEventType"] != float64(ims.AlarmClear) ||
				a[1].Body["perceivedSeverity"] != float64(ims.SeverityCleared) || a[1].Body["alarmChangedTime"] != "2025-01-01T00:05:00.000Z" {
				t.Errorf("alarm clear notification: %v", a[1].Body)
			}
		}
		for _, a := range rcv.accepted("/alarms-new") {
			if a.Body["notificationEventType"] != float64(ims.AlarmNew) {
				t.Errorf("NEW subscription got %v", a.Body)
			}
		}
	})
}

// A subscriber answering 503 gets every event, exactly once and in order,
// after retries, and shows retrying, then healthy. Meanwhile another
// subscription on the same dispatcher is not held up: its receiver gets
// all its events while the failing one has accepted none.
func TestDeliveryRetriesWithoutBlockingOthers(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		h := newHarness(t, store)
		const n, minFailures = 20, 4
		var (
			healthyDone   atomic.Bool // the healthy receiver has all n
			sawRetrying   atomic.Bool // the test saw the status "retrying"
			failedInARow  atomic.Int64
			acceptedEarly atomic.Int64
		)
		rcv := newReceiver(t, func(nt note, attempt int) int {
			if nt.Path != "/flaky" {
				return http.StatusNoContent
			}
			// Fail until the healthy subscription is complete, the
			// status showed retrying, and a few attempts failed.
			if !healthyDone.Load() || !sawRetrying.Load() || failedInARow.Load() < minFailures {
				failedInARow.Add(1)
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		flaky := h.subscribe(sqlstore.StreamInventory, rcv.url("/flaky"), "")
		healthy := h.subscribe(sqlstore.StreamInventory, rcv.url("/healthy"), "")
		reg := prometheus.NewRegistry()
		d := h.dispatcher(store, fast(reg))
		run(t, d)

		for i := range n {
			apply(t, store, "src", pools(poolDoc("p", fmt.Sprint("v", i), nil)))
			d.Wake()
		}
		evs := events(t, store, sqlstore.StreamInventory, 0)

		waitFor(t, 20*time.Second, func() bool { return len(rcv.accepted("/healthy")) >= n },
			func() string {
				return fmt.Sprintf("the healthy subscriber got %d of %d while the other failed", len(rcv.accepted("/healthy")), n)
			})
		acceptedEarly.Store(int64(len(rcv.accepted("/flaky"))))
		healthyDone.Store(true)
		if acceptedEarly.Load() != 0 {
			t.Fatalf("the failing subscriber accepted %d notifications before it was allowed to", acceptedEarly.Load())
		}

		waitFor(t, 20*time.Second, func() bool {
			st := h.status(flaky)
			return st["state"] == "retrying" && st["lastError"] != nil
		}, func() string { return fmt.Sprintf("status of the failing subscription: %v", h.status(flaky)) })
		st := h.status(flaky)
		if !strings.Contains(fmt.Sprint(st["lastError"]), "503") || st["retryingSince"] == nil || st["nextAttemptAt"] == nil {
			t.Errorf("retrying status %v", st)
		}
		sawRetrying.Store(true)

		waitFor(t, 20*time.Second, func() bool { return len(rcv.accepted("/flaky")) >= n },
			func() string {
				return fmt.Sprintf("the recovered subscriber got %d of %d", len(rcv.accepted("/flaky")), n)
			})
		waitFor(t, 20*time.Second, func() bool { return h.status(flaky)["state"] == "healthy" && h.sub(flaky).Cursor == evs[n-1].Seq },
			func() string { return fmt.Sprintf("status after recovery: %v", h.status(flaky)) })

		// Exactly once, in order, with the right bodies.
		if err := sameNotes(rcv.accepted("/flaky"), h.expected(flaky, evs)); err != nil {
			t.Errorf("flaky: %v", err)
		}
		if err := sameNotes(rcv.accepted("/healthy"), h.expected(healthy, evs)); err != nil {
			t.Errorf("healthy: %v", err)
		}
		// The failed attempts were all of the first event: nothing was
		// skipped ahead of it.
		first := h.expected(flaky, evs[:1])[0].ID
		for i, r := range rcv.requests("/flaky")[:failedInARow.Load()] {
			if r.ID != first {
				t.Fatalf("failed attempt %d was for %s, want the first event %s", i, r.ID, first)
			}
		}
		if got := h.sub(flaky); got.Delivered != n || got.Attempts != 0 {
			t.Errorf("flaky subscription after recovery: delivered %d attempts %d", got.Delivered, got.Attempts)
		}
		if got := counter(t, reg, "o2ims_notifications_failed_attempts_total", map[string]string{"reason": "retry"}); got != float64(failedInARow.Load()) {
			t.Errorf("failed attempts metric %v, want %d", got, failedInARow.Load())
		}
		if got := counter(t, reg, "o2ims_notifications_delivered_total", map[string]string{"stream": "inventory"}); got != 2*n {
			t.Errorf("delivered metric %v, want %d", got, 2*n)
		}
	})
}

// Events a subscriber never accepts expire after MaxAge: they are counted
// on the subscription and in o2ims_notifications_expired_total, logged,
// and the subscription moves past them. Pruning runs often meanwhile and
// must not delete them uncounted.
func TestDeliveryExpiresOldEvents(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		h := newHarness(t, store)
		rcv := newReceiver(t, func(note, int) int { return http.StatusServiceUnavailable })
		down := h.subscribe(sqlstore.StreamInventory, rcv.url("/down"), "")
		reg := prometheus.NewRegistry()
		opts := fast(reg)
		opts.MaxAge = 150 * time.Millisecond
		opts.PruneInterval = 10 * time.Millisecond
		d := h.dispatcher(store, opts)
		run(t, d)

		const n = 6
		for i := range n {
			apply(t, store, "src", pools(poolDoc("p", fmt.Sprint("v", i), nil)))
			d.Wake()
		}
		evs := events(t, store, sqlstore.StreamInventory, 0)
		waitFor(t, 20*time.Second, func() bool { return h.sub(down).Cursor == evs[n-1].Seq },
			func() string {
				return fmt.Sprintf("subscription %+v did not move past the expired events", h.sub(down))
			})

		got := h.sub(down)
		if got.Expired != n || got.Delivered != 0 {
			t.Fatalf("expired %d delivered %d, want %d and 0", got.Expired, got.Delivered, n)
		}
		if st := h.status(down); st["expired"] != float64(n) && st["expired"] != int64(n) {
			t.Fatalf("status expired %v (%T), want %d", st["expired"], st["expired"], n)
		}
		if v := counter(t, reg, "o2ims_notifications_expired_total", map[string]string{"stream": "inventory"}); v != n {
			t.Fatalf("o2ims_notifications_expired_total = %v, want %d", v, n)
		}
		if c := h.logs.count("notification expired undelivered"); c != n {
			t.Fatalf("%d expiry log lines, want %d", c, n)
		}
		if a := rcv.accepted("/down"); len(a) != 0 {
			t.Fatalf("accepted %d", len(a))
		}
		// Nothing more is attempted for the expired events.
		attempts := len(rcv.requests("/down"))
		apply(t, store, "src", pools(poolDoc("p", "after", nil)))
		d.Wake()
		evs = events(t, store, sqlstore.StreamInventory, 0)
		newest := h.expected(down, evs[len(evs)-1:])[0].ID
		waitFor(t, 20*time.Second, func() bool {
			r := rcv.requests("/down")
			return len(r) > attempts && r[len(r)-1].ID == newest
		}, func() string { return "the event after the expired ones was not attempted" })
		for _, r := range rcv.requests("/down")[attempts:] {
			if r.ID != newest {
				t.Fatalf("an expired event was attempted again: %s", r.ID)
			}
		}
	})
}

// A 400 from the subscriber drops that event (no retry), records the
// reason as the last error, and the next events are still delivered.
func TestDeliveryDropsRejectedEvent(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		h := newHarness(t, store)
		rcv := newReceiver(t, func(nt note, _ int) int {
			if strings.HasSuffix(nt.Ref, "/resourcePools/bad") {
				return http.StatusBadRequest
			}
			return http.StatusNoContent
		})
		sub := h.subscribe(sqlstore.StreamInventory, rcv.url("/cb"), "")
		reg := prometheus.NewRegistry()
		d := h.dispatcher(store, fast(reg))
		run(t, d)

		apply(t, store, "src", pools(poolDoc("a", "a", nil)))
		apply(t, store, "src", pools(poolDoc("a", "a", nil), poolDoc("bad", "bad", nil)))
		apply(t, store, "src", pools(poolDoc("a", "a", nil), poolDoc("bad", "bad", nil), poolDoc("c", "c", nil)))
		apply(t, store, "src", pools(poolDoc("a", "a2", nil), poolDoc("bad", "bad", nil), poolDoc("c", "c", nil)))
		d.Wake()
		evs := events(t, store, sqlstore.StreamInventory, 0)
		waitFor(t, 20*time.Second, func() bool { return h.sub(sub).Cursor == evs[len(evs)-1].Seq },
			func() string { return fmt.Sprintf("got %v", refs(rcv.requests("/cb"))) })

		want := h.expected(sub, []sqlstore.Event{evs[0], evs[2], evs[3]})
		if err := sameNotes(rcv.accepted("/cb"), want); err != nil {
			t.Fatal(err)
		}
		if r := rcv.requests("/cb"); len(r) != 4 {
			t.Fatalf("%d requests, want 4 (the rejected one exactly once): %v", len(r), refs(r))
		}
		got := h.sub(sub)
		wantErr := fmt.Sprintf("event %d rejected", evs[1].Seq)
		if !strings.Contains(got.LastError, wantErr) || !strings.Contains(got.LastError, "400") {
			t.Fatalf("last error %q, want it to name %q and 400", got.LastError, wantErr)
		}
		if got.Delivered != 3 || got.Attempts != 0 || !got.RetryingSince.IsZero() {
			t.Fatalf("subscription %+v", got)
		}
		st := h.status(sub)
		if st["state"] != "healthy" || !strings.Contains(fmt.Sprint(st["lastError"]), "400") {
			t.Fatalf("status %v", st)
		}
		if v := counter(t, reg, "o2ims_notifications_failed_attempts_total", map[string]string{"reason": "rejected"}); v != 1 {
			t.Fatalf("rejected metric %v, want 1", v)
		}
	})
}

// A callback whose address the policy refuses at connect time (here
// loopback with DenyLoopback, as after a configuration change or a DNS
// change since the subscription was validated) gets nothing; its events
// are dropped with the reason, not retried forever.
func TestDeliveryPolicyRefusalIsFinal(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		h := newHarness(t, store)
		rcv := newReceiver(t, nil)
		sub := h.subscribe(sqlstore.StreamInventory, rcv.url("/cb"), "")
		// The server now denies loopback.
		h.notifier = newStrictNotifier(h)
		d := h.dispatcher(store, fast(prometheus.NewRegistry()))
		run(t, d)
		apply(t, store, "src", pools(poolDoc("a", "a", nil)))
		apply(t, store, "src", pools(poolDoc("a", "b", nil)))
		d.Wake()
		evs := events(t, store, sqlstore.StreamInventory, 0)
		waitFor(t, 20*time.Second, func() bool { return h.sub(sub).Cursor == evs[len(evs)-1].Seq },
			func() string { return fmt.Sprintf("subscription %+v", h.sub(sub)) })
		if r := rcv.requests("/cb"); len(r) != 0 {
			t.Fatalf("the denied receiver got %d requests", len(r))
		}
		got := h.sub(sub)
		if !strings.Contains(got.LastError, "loopback") || got.Delivered != 0 || !got.RetryingSince.IsZero() {
			t.Fatalf("subscription %+v", got)
		}
	})
}

// Two dispatchers with different owners on one PostgreSQL database share
// the subscriptions through leases. In normal operation every event
// reaches every subscription exactly once, in order; when one dispatcher
// stops mid-way the other finishes the work (at least once: duplicates
// only around the stop).
func TestDeliveryTwoDispatchersShareWork(t *testing.T) {
	ctx := context.Background()
	opts := sqlstoretest.PostgresOptions(t)
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, opts, quietLogger)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storeA, storeB := open(), open()
	if err := storeA.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, storeA)
	rcv := newReceiver(t, nil)
	const nsubs, nevents = 20, 200
	subs := make([]sqlstore.Subscription, nsubs)
	for i := range subs {
		subs[i] = h.subscribe(sqlstore.StreamInventory, rcv.url(fmt.Sprintf("/s%d", i)), "")
	}
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	optsA, optsB := fast(regA), fast(regB)
	optsA.Owner, optsB.Owner = "server-a", "server-b"
	// Neither can hold every subscription at once, so both must work.
	optsA.MaxWorkers, optsB.MaxWorkers = nsubs/2, nsubs/2
	optsA.BatchSize, optsB.BatchSize = 16, 16
	dA := h.dispatcher(storeA, optsA)
	dB := h.dispatcher(storeB, optsB)
	stopA := run(t, dA)
	stopB := run(t, dB)

	produce := func(round int) {
		// Ten changes per commit; the producer lives in server A, so
		// only A is woken; B notices by polling.
		for c := range nevents / 10 {
			docs := make([]sqlstore.Doc, 10)
			for j := range docs {
				docs[j] = poolDoc(fmt.Sprint("p", j), fmt.Sprintf("r%d-c%d", round, c), nil)
			}
			apply(t, storeA, "src", pools(docs...))
			dA.Wake()
		}
	}
	// checkAll waits until every subscription has every event of evs
	// and returns, per subscription, the ids received.
	checkAll := func(evs []sqlstore.Event) {
		t.Helper()
		waitFor(t, 60*time.Second, func() bool {
			for _, s := range subs {
				if h.sub(s).Cursor != evs[len(evs)-1].Seq {
					return false
				}
			}
			return true
		}, func() string {
			var b strings.Builder
			for i := range subs {
				fmt.Fprintf(&b, "s%d:%d ", i, len(rcv.accepted(fmt.Sprintf("/s%d", i))))
			}
			return "not all delivered: " + b.String()
		})
	}

	start := time.Now()
	produce(0)
	evs := events(t, storeA, sqlstore.StreamInventory, 0)
	if len(evs) != nevents {
		t.Fatalf("%d events", len(evs))
	}
	checkAll(evs)
	for i, s := range subs {
		got := rcv.accepted(fmt.Sprintf("/s%d", i))
		want := h.expected(s, evs)
		seen := map[string]int{}
		for _, n := range got {
			seen[n.ID]++
		}
		for _, w := range want {
			if seen[w.ID] != 1 {
				t.Fatalf("subscription %d got notification %s %d times, want exactly once (%d received in all)", i, w.ID, seen[w.ID], len(got))
			}
		}
		if err := sameNotes(got, want); err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
	}
	deliveredA := counter(t, regA, "o2ims_notifications_delivered_total", nil)
	deliveredB := counter(t, regB, "o2ims_notifications_delivered_total", nil)
	t.Logf("phase 1 (%v): server A delivered %v, server B %v", time.Since(start).Round(time.Millisecond), deliveredA, deliveredB)
	if deliveredA+deliveredB != nsubs*nevents {
		t.Fatalf("the dispatchers report %v deliveries, want %d", deliveredA+deliveredB, nsubs*nevents)
	}
	if deliveredA == 0 || deliveredB == 0 {
		t.Fatalf("one dispatcher did all the work: A %v, B %v", deliveredA, deliveredB)
	}

	// Phase 2: stop B while it delivers; A finishes.
	before := make([]int, nsubs)
	for i := range subs {
		before[i] = len(rcv.accepted(fmt.Sprintf("/s%d", i)))
	}
	start = time.Now()
	produce(1)
	bBefore := deliveredB
	waitFor(t, 30*time.Second, func() bool {
		return counter(t, regB, "o2ims_notifications_delivered_total", nil) > bBefore+50
	}, func() string { return "server B delivered nothing of the second round" })
	stopB()
	all := events(t, storeA, sqlstore.StreamInventory, 0)
	phase2 := all[nevents:]
	if len(phase2) != nevents {
		t.Fatalf("%d events in round 2", len(phase2))
	}
	checkAll(all)
	stopA()
	noDispatcherGoroutines(t)
	dups := 0
	for i, s := range subs {
		got := rcv.accepted(fmt.Sprintf("/s%d", i))[before[i]:]
		want := h.expected(s, phase2)
		// Every event arrived; first arrivals are in order.
		var firsts []note
		seen := map[string]bool{}
		for _, n := range got {
			if seen[n.ID] {
				dups++
				continue
			}
			seen[n.ID] = true
			firsts = append(firsts, n)
		}
		if err := sameNotes(firsts, want); err != nil {
			t.Fatalf("subscription %d after the stop: %v", i, err)
		}
	}
	t.Logf("phase 2 (%v): %d duplicate deliveries around the stop", time.Since(start).Round(time.Millisecond), dups)
	if dups > nsubs/2 {
		// B holds at most MaxWorkers subscriptions, each with at most
		// one request in flight when it stops.
		t.Fatalf("%d duplicates, more than server B had requests in flight", dups)
	}
}

// A server that claimed subscriptions and died holds them only until its
// leases expire; then a live dispatcher delivers everything, and the dead
// owner's late progress report is refused.
func TestDeliveryAfterDeadOwnersLeaseExpires(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		store := sqlstoretest.Open(t, b)
		h := newHarness(t, store)
		rcv := newReceiver(t, nil)
		sub := h.subscribe(sqlstore.StreamInventory, rcv.url("/cb"), "")
		for i := range 5 {
			apply(t, store, "src", pools(poolDoc("p", fmt.Sprint(i), nil)))
		}
		// The dead server's claim, with a short lease.
		claimed, err := store.ClaimSubscriptions(ctx, "dead", time.Now(), 300*time.Millisecond, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v, %v", claimed, err)
		}
		d := h.dispatcher(store, fast(prometheus.NewRegistry()))
		run(t, d)
		d.Wake()
		evs := events(t, store, sqlstore.StreamInventory, 0)
		waitFor(t, 20*time.Second, func() bool { return len(rcv.accepted("/cb")) == len(evs) },
			func() string { return fmt.Sprintf("got %d of %d", len(rcv.accepted("/cb")), len(evs)) })
		if err := sameNotes(rcv.accepted("/cb"), h.expected(sub, evs)); err != nil {
			t.Fatal(err)
		}
		err = store.ReportProgress(ctx, sub.ID, "dead", sqlstore.Progress{Cursor: claimed[0].Cursor})
		if !errors.Is(err, sqlstore.ErrLeaseLost) {
			t.Fatalf("the dead owner's report = %v, want ErrLeaseLost", err)
		}
		waitFor(t, 20*time.Second, func() bool { return h.sub(sub).Cursor == evs[len(evs)-1].Seq },
			func() string { return "cursor did not reach the end" })
	})
}
