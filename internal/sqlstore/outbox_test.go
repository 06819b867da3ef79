package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

func obPool(id, name string) sqlstore.Doc {
	b, _ := json.Marshal(ims.ResourcePool{ResourcePoolID: id, Name: name, Extensions: ims.Extensions{"n": name}})
	return sqlstore.Doc{ID: id, JSON: b}
}

func obPools(docs ...sqlstore.Doc) []sqlstore.ObjectSet {
	return []sqlstore.ObjectSet{{Schema: inventory.ResourcePoolSchema, Docs: docs}}
}

// sameJSON compares JSON documents by value (PostgreSQL's jsonb
// normalises key order and spacing).
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func allEvents(t *testing.T, s *sqlstore.Store, stream string, after int64) []sqlstore.Event {
	t.Helper()
	evs, err := s.Events(context.Background(), stream, after, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// checkEvents asserts that evs record changes one to one, in order.
func checkEvents(t *testing.T, evs []sqlstore.Event, changes []sqlstore.Change, after int64) {
	t.Helper()
	if len(evs) != len(changes) {
		t.Fatalf("%d events for %d changes", len(evs), len(changes))
	}
	last := after
	for i, ev := range evs {
		c := changes[i]
		if ev.Seq <= last {
			t.Fatalf("event %d: seq %d not after %d", i, ev.Seq, last)
		}
		last = ev.Seq
		if ev.Stream != sqlstore.StreamInventory || ev.ObjectType != c.Schema.Name || ev.ObjectID != c.ID || ev.EventType != int(c.Op) {
			t.Fatalf("event %d = %s/%s/%s type %d, want change %s/%s op %d", i, ev.Stream, ev.ObjectType, ev.ObjectID, ev.EventType, c.Schema.Name, c.ID, c.Op)
		}
		if !sameJSON(t, ev.Prior, c.Prior) || !sameJSON(t, ev.Post, c.Post) {
			t.Fatalf("event %d states prior=%s post=%s, want prior=%s post=%s", i, ev.Prior, ev.Post, c.Prior, c.Post)
		}
		if ev.CreatedAt.IsZero() || time.Since(ev.CreatedAt) > time.Hour || time.Until(ev.CreatedAt) > time.Minute {
			t.Fatalf("event %d created at %v", i, ev.CreatedAt)
		}
	}
}

func TestOutboxApplySnapshotEvents(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)

		ch, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "A"), obPool("b", "B"), obPool("c", "C")))
		if err != nil {
			t.Fatal(err)
		}
		evs := allEvents(t, s, sqlstore.StreamInventory, 0)
		checkEvents(t, evs, ch, 0)
		if last, err := s.LastSeq(ctx, sqlstore.StreamInventory); err != nil || last != evs[len(evs)-1].Seq {
			t.Fatalf("LastSeq = %d, %v; want %d", last, err, evs[len(evs)-1].Seq)
		}
		mark := evs[len(evs)-1].Seq

		// Unchanged: no events.
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "A"), obPool("b", "B"), obPool("c", "C"))); err != nil {
			t.Fatal(err)
		}
		if evs := allEvents(t, s, sqlstore.StreamInventory, mark); len(evs) != 0 {
			t.Fatalf("an unchanged snapshot wrote %d events", len(evs))
		}

		// Modify, create and delete in one snapshot: one event each, in
		// the order of the returned changes, after the earlier ones.
		ch, err = s.ApplySnapshot(ctx, "src", obPools(obPool("a", "A2"), obPool("c", "C"), obPool("d", "D")))
		if err != nil {
			t.Fatal(err)
		}
		if len(ch) != 3 {
			t.Fatalf("changes %v", ch)
		}
		checkEvents(t, allEvents(t, s, sqlstore.StreamInventory, mark), ch, mark)

		// Another source's objects and the alarm stream are separate.
		if evs := allEvents(t, s, sqlstore.StreamAlarm, 0); len(evs) != 0 {
			t.Fatalf("alarm stream has %d events", len(evs))
		}
		// Paging with limit keeps order.
		var paged []sqlstore.Event
		for after := int64(0); ; {
			page, err := s.Events(ctx, sqlstore.StreamInventory, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > 2 {
				t.Fatalf("limit 2 returned %d", len(page))
			}
			paged = append(paged, page...)
			after = page[len(page)-1].Seq
		}
		if len(paged) != 6 {
			t.Fatalf("paging returned %d events, want 6", len(paged))
		}
	})
}

// Events of concurrent writers are visible in seq order: a reader that
// follows a cursor never moves past an event that commits later.
func TestOutboxSeqOrderIsCommitOrder(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		const writers, rounds = 6, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for r := range rounds {
					src := fmt.Sprintf("w%d", w)
					docs := []sqlstore.Doc{obPool(src+"-a", fmt.Sprint(r)), obPool(src+"-b", fmt.Sprint(r))}
					if _, err := s.ApplySnapshot(ctx, src, obPools(docs...)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		seen := map[int64]bool{}
		var cursor int64
		for finished := false; !finished; {
			select {
			case <-done:
				finished = true
			default:
			}
			evs, err := s.Events(ctx, sqlstore.StreamInventory, cursor, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				seen[ev.Seq] = true
				cursor = ev.Seq
			}
			if finished && len(evs) > 0 {
				finished = false // drain
			}
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all := allEvents(t, s, sqlstore.StreamInventory, 0)
		if len(all) != writers*rounds*2 {
			t.Fatalf("%d events, want %d", len(all), writers*rounds*2)
		}
		for _, ev := range all {
			if !seen[ev.Seq] {
				t.Fatalf("the cursor-following reader skipped event %d", ev.Seq)
			}
		}
	})
}

func newSub(stream, callback string) sqlstore.Subscription {
	id := uuid.NewString()
	doc, _ := json.Marshal(map[string]string{"subscriptionId": id, "callback": callback})
	return sqlstore.Subscription{ID: id, Stream: stream, Callback: callback, Doc: doc}
}

func TestOutboxCreateSubscription(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "A"), obPool("b", "B"))); err != nil {
			t.Fatal(err)
		}
		last, _ := s.LastSeq(ctx, sqlstore.StreamInventory)

		sub := newSub(sqlstore.StreamInventory, "http://192.0.2.1/cb")
		sub.ConsumerSubscriptionID = "c-1"
		sub.Filter = "(eq,name,A)"
		if err := s.CreateSubscription(ctx, sub, "key-1"); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSubscription(ctx, sqlstore.StreamInventory, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		// It starts at the end of its stream: earlier changes are not
		// delivered to it.
		if got.Cursor != last || last == 0 {
			t.Fatalf("cursor %d, want the last seq %d", got.Cursor, last)
		}
		if got.Callback != sub.Callback || got.Filter != sub.Filter || got.ConsumerSubscriptionID != "c-1" || got.Delivered != 0 || got.Attempts != 0 || !got.RetryingSince.IsZero() {
			t.Fatalf("stored %+v", got)
		}
		if !sameJSON(t, got.Doc, sub.Doc) {
			t.Fatalf("doc %s, want %s", got.Doc, sub.Doc)
		}
		// Nothing pending: not claimable.
		if c, err := s.ClaimSubscriptions(ctx, "o", time.Now(), time.Minute, 10); err != nil || len(c) != 0 {
			t.Fatalf("claimed %d (%v) with no new events", len(c), err)
		}

		// The same dedupe key is a conflict, even with another id.
		dup := newSub(sqlstore.StreamInventory, sub.Callback)
		if err := s.CreateSubscription(ctx, dup, "key-1"); ims.ErrorCode(err) != ims.EINVALID || !errors.Is(err, sqlstore.ErrDuplicateSubscription) || !strings.Contains(ims.ErrorMessage(err), "exists already") {
			t.Fatalf("duplicate: %v, want %s naming the first", err, ims.EINVALID)
		}
		// Concurrent duplicates: exactly one wins.
		var wg sync.WaitGroup
		results := make(chan error, 8)
		for range 8 {
			wg.Go(func() { results <- s.CreateSubscription(ctx, newSub(sqlstore.StreamInventory, sub.Callback), "key-2") })
		}
		wg.Wait()
		close(results)
		ok := 0
		for err := range results {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, sqlstore.ErrDuplicateSubscription) && ims.ErrorCode(err) == ims.EINVALID:
			default:
				t.Fatalf("concurrent create: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 8 concurrent duplicates were created", ok)
		}

		// An alarm subscription starts at the end of the alarm stream.
		asub := newSub(sqlstore.StreamAlarm, "http://192.0.2.1/alarms")
		if err := s.CreateSubscription(ctx, asub, "key-3"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetSubscription(ctx, sqlstore.StreamAlarm, asub.ID); err != nil || got.Cursor != 0 {
			t.Fatalf("alarm subscription cursor %d (%v), want 0", got.Cursor, err)
		}
		// Streams keep subscriptions apart.
		if _, err := s.GetSubscription(ctx, sqlstore.StreamAlarm, sub.ID); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Fatalf("inventory subscription read as alarm subscription: %v", err)
		}
		if err := s.DeleteSubscription(ctx, sqlstore.StreamAlarm, sub.ID); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Fatalf("delete across streams: %v", err)
		}
		byID, err := s.SubscriptionsByID(ctx, []string{sub.ID, asub.ID, "nope"})
		if err != nil || len(byID) != 2 || byID[asub.ID].Stream != sqlstore.StreamAlarm {
			t.Fatalf("SubscriptionsByID = %v, %v", byID, err)
		}
		if err := s.DeleteSubscription(ctx, sqlstore.StreamInventory, sub.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSubscription(ctx, sqlstore.StreamInventory, sub.ID); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Fatalf("deleted subscription: %v", err)
		}
		// The key is free again.
		if err := s.CreateSubscription(ctx, newSub(sqlstore.StreamInventory, sub.Callback), "key-1"); err != nil {
			t.Fatalf("re-create after delete: %v", err)
		}
	})
}

func claimIDs(t *testing.T, s *sqlstore.Store, owner string, now time.Time, lease time.Duration) map[string]sqlstore.Subscription {
	t.Helper()
	subs, err := s.ClaimSubscriptions(context.Background(), owner, now, lease, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sqlstore.Subscription{}
	for _, sub := range subs {
		out[sub.ID] = sub
	}
	return out
}

func TestOutboxClaimAndLease(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		inv := newSub(sqlstore.StreamInventory, "http://192.0.2.1/a")
		inv2 := newSub(sqlstore.StreamInventory, "http://192.0.2.1/b")
		alarm := newSub(sqlstore.StreamAlarm, "http://192.0.2.1/c")
		for i, sub := range []sqlstore.Subscription{inv, inv2, alarm} {
			if err := s.CreateSubscription(ctx, sub, fmt.Sprint("k", i)); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		if got := claimIDs(t, s, "A", now, time.Minute); len(got) != 0 {
			t.Fatalf("claimed %d subscriptions without pending events", len(got))
		}
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "A"))); err != nil {
			t.Fatal(err)
		}
		last, _ := s.LastSeq(ctx, sqlstore.StreamInventory)

		// Only the inventory subscriptions have pending events.
		got := claimIDs(t, s, "A", now, time.Minute)
		if len(got) != 2 || got[inv.ID].ID == "" || got[inv2.ID].ID == "" {
			t.Fatalf("A claimed %v, want the two inventory subscriptions", got)
		}
		if got[inv.ID].Cursor != last-1 && got[inv.ID].Cursor >= last {
			t.Fatalf("claimed cursor %d, last seq %d", got[inv.ID].Cursor, last)
		}
		// A second owner cannot claim a leased subscription...
		if got := claimIDs(t, s, "B", now.Add(59*time.Second), time.Minute); len(got) != 0 {
			t.Fatalf("B claimed %d subscriptions leased to A", len(got))
		}
		// ...until the lease expires.
		got = claimIDs(t, s, "B", now.Add(61*time.Second), time.Minute)
		if len(got) != 2 {
			t.Fatalf("B claimed %d subscriptions after A's lease expired, want 2", len(got))
		}
		// A lost the lease: its progress is refused and changes nothing.
		err := s.ReportProgress(ctx, inv.ID, "A", sqlstore.Progress{Cursor: last, Delivered: 1})
		if !errors.Is(err, sqlstore.ErrLeaseLost) {
			t.Fatalf("ReportProgress with a lost lease = %v, want ErrLeaseLost", err)
		}
		if cur, _ := s.GetSubscription(ctx, sqlstore.StreamInventory, inv.ID); cur.Cursor == last || cur.Delivered != 0 {
			t.Fatalf("a report with a lost lease moved the cursor to %d / delivered %d", cur.Cursor, cur.Delivered)
		}
		// B reports progress for inv and releases it: caught up, it is
		// not claimable any more.
		if err := s.ReportProgress(ctx, inv.ID, "B", sqlstore.Progress{Cursor: last, Delivered: 1}); err != nil {
			t.Fatal(err)
		}
		cur, _ := s.GetSubscription(ctx, sqlstore.StreamInventory, inv.ID)
		if cur.Cursor != last || cur.Delivered != 1 || cur.LastDeliveredAt.IsZero() {
			t.Fatalf("after progress: %+v", cur)
		}
		// A deleted subscription's lease is lost too.
		if err := s.DeleteSubscription(ctx, sqlstore.StreamInventory, inv2.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.ReportProgress(ctx, inv2.ID, "B", sqlstore.Progress{Cursor: last}); !errors.Is(err, sqlstore.ErrLeaseLost) {
			t.Fatalf("progress on a deleted subscription = %v", err)
		}
		later := now.Add(2 * time.Minute)
		if got := claimIDs(t, s, "A", later, time.Minute); len(got) != 0 {
			t.Fatalf("claimed %v with nothing pending", got)
		}

		// A failure delays the next attempt: not claimable before
		// next_attempt_at, claimable after, by anyone.
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "A2"))); err != nil {
			t.Fatal(err)
		}
		if got := claimIDs(t, s, "A", later, time.Minute); len(got) != 1 {
			t.Fatalf("claimed %d, want 1", len(got))
		}
		failAt := later.Add(time.Second)
		next := failAt.Add(30 * time.Second)
		err = s.ReportProgress(ctx, inv.ID, "A", sqlstore.Progress{Cursor: last, Failure: &sqlstore.Failure{Error: "callback answered 503", At: failAt, NextAttemptAt: next}})
		if err != nil {
			t.Fatal(err)
		}
		cur, _ = s.GetSubscription(ctx, sqlstore.StreamInventory, inv.ID)
		if cur.Attempts != 1 || cur.LastError != "callback answered 503" || cur.RetryingSince.UnixMilli() != failAt.UnixMilli() || cur.NextAttemptAt.UnixMilli() != next.UnixMilli() {
			t.Fatalf("after a failure: %+v", cur)
		}
		if got := claimIDs(t, s, "B", next.Add(-time.Millisecond), time.Minute); len(got) != 0 {
			t.Fatalf("claimed before next_attempt_at")
		}
		if got := claimIDs(t, s, "B", next, time.Minute); len(got) != 1 || got[inv.ID].Attempts != 1 {
			t.Fatalf("not claimable at next_attempt_at: %v", got)
		}
		// A second failure keeps retrying_since and counts the attempt.
		fail2 := next.Add(time.Second)
		if err := s.ReportProgress(ctx, inv.ID, "B", sqlstore.Progress{Cursor: last, Failure: &sqlstore.Failure{Error: "callback answered 502", At: fail2, NextAttemptAt: fail2.Add(time.Minute)}}); err != nil {
			t.Fatal(err)
		}
		cur, _ = s.GetSubscription(ctx, sqlstore.StreamInventory, inv.ID)
		if cur.Attempts != 2 || cur.RetryingSince.UnixMilli() != failAt.UnixMilli() || cur.LastError != "callback answered 502" {
			t.Fatalf("after a second failure: %+v", cur)
		}
		// Success clears the retry state; expired and dropped events
		// are counted and the drop reason becomes the last error.
		got = claimIDs(t, s, "B", fail2.Add(time.Minute), time.Minute)
		if len(got) != 1 {
			t.Fatalf("claimed %d after the backoff", len(got))
		}
		last2, _ := s.LastSeq(ctx, sqlstore.StreamInventory)
		if err := s.ReportProgress(ctx, inv.ID, "B", sqlstore.Progress{Cursor: last2, Delivered: 0, Expired: 2, Dropped: "event 9 rejected: callback answered 400"}); err != nil {
			t.Fatal(err)
		}
		cur, _ = s.GetSubscription(ctx, sqlstore.StreamInventory, inv.ID)
		if cur.Attempts != 0 || !cur.RetryingSince.IsZero() || !cur.NextAttemptAt.IsZero() || cur.Expired != 2 || cur.Delivered != 1 ||
			cur.LastError != "event 9 rejected: callback answered 400" || cur.Cursor != last2 {
			t.Fatalf("after recovery: %+v", cur)
		}
		// A report without a drop keeps the last error.
		if err := s.ReportProgress(ctx, inv.ID, "B", sqlstore.Progress{Cursor: last2, Delivered: 3}); err != nil {
			t.Fatal(err)
		}
		cur, _ = s.GetSubscription(ctx, sqlstore.StreamInventory, inv.ID)
		if cur.Delivered != 4 || cur.LastError != "event 9 rejected: callback answered 400" {
			t.Fatalf("after more deliveries: %+v", cur)
		}
	})
}

// A failure after deliveries in the same report starts a new retry
// episode: the subscriber was healthy in between.
func TestOutboxFailureAfterProgressRestartsBackoff(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		sub := newSub(sqlstore.StreamInventory, "http://192.0.2.1/a")
		if err := s.CreateSubscription(ctx, sub, "k"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", fmt.Sprint(i)))); err != nil {
				t.Fatal(err)
			}
		}
		evs := allEvents(t, s, sqlstore.StreamInventory, 0)
		now := time.Now()
		claimIDs(t, s, "A", now, time.Minute)
		t0 := now.Add(time.Second)
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Second)
			if err := s.ReportProgress(ctx, sub.ID, "A", sqlstore.Progress{Cursor: evs[0].Seq - 1, Failure: &sqlstore.Failure{Error: "503", At: at, NextAttemptAt: at}}); err != nil {
				t.Fatal(err)
			}
		}
		claimIDs(t, s, "A", t0.Add(time.Minute), time.Minute)
		t1 := t0.Add(2 * time.Minute)
		if err := s.ReportProgress(ctx, sub.ID, "A", sqlstore.Progress{Cursor: evs[1].Seq, Delivered: 2, Failure: &sqlstore.Failure{Error: "503 again", At: t1, NextAttemptAt: t1.Add(time.Second)}}); err != nil {
			t.Fatal(err)
		}
		cur, _ := s.GetSubscription(ctx, sqlstore.StreamInventory, sub.ID)
		if cur.Attempts != 1 || cur.RetryingSince.UnixMilli() != t1.UnixMilli() || cur.Delivered != 2 || cur.LastDeliveredAt.IsZero() || cur.Cursor != evs[1].Seq {
			t.Fatalf("after deliveries then a failure: attempts %d retryingSince %v delivered %d lastDelivered %v cursor %d",
				cur.Attempts, cur.RetryingSince, cur.Delivered, cur.LastDeliveredAt, cur.Cursor)
		}
	})
}

// Two owners claiming at once never get the same subscription.
func TestOutboxConcurrentClaims(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		const n = 40
		for i := range n {
			if err := s.CreateSubscription(ctx, newSub(sqlstore.StreamInventory, fmt.Sprintf("http://192.0.2.1/%d", i)), fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "A"))); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		owners := []string{"A", "B", "C", "D"}
		results := make([][]sqlstore.Subscription, len(owners))
		var wg sync.WaitGroup
		for i, o := range owners {
			wg.Go(func() {
				for range 5 {
					subs, err := s.ClaimSubscriptions(ctx, o, now, time.Minute, 7)
					if err != nil {
						t.Error(err)
						return
					}
					results[i] = append(results[i], subs...)
				}
			})
		}
		wg.Wait()
		owner := map[string]string{}
		for i, subs := range results {
			for _, sub := range subs {
				if o, ok := owner[sub.ID]; ok && o != owners[i] {
					t.Fatalf("subscription %s claimed by both %s and %s", sub.ID, o, owners[i])
				}
				owner[sub.ID] = owners[i]
			}
		}
		if len(owner) != n {
			t.Fatalf("%d of %d subscriptions claimed", len(owner), n)
		}
	})
}

func TestOutboxPruneEvents(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		for i := range 3 {
			if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", fmt.Sprint(i)))); err != nil {
				t.Fatal(err)
			}
		}
		// No subscription: nobody needs the events.
		if n, err := s.PruneEvents(ctx, time.Hour); err != nil || n != 3 {
			t.Fatalf("PruneEvents without subscriptions = %d, %v; want 3", n, err)
		}
		slow := newSub(sqlstore.StreamInventory, "http://192.0.2.1/slow")
		fast := newSub(sqlstore.StreamInventory, "http://192.0.2.1/fast")
		for i, sub := range []sqlstore.Subscription{slow, fast} {
			if err := s.CreateSubscription(ctx, sub, fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 4 {
			if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", fmt.Sprint(10+i)))); err != nil {
				t.Fatal(err)
			}
		}
		evs := allEvents(t, s, sqlstore.StreamInventory, 0)
		if len(evs) != 4 {
			t.Fatalf("%d events", len(evs))
		}
		now := time.Now()
		claimIDs(t, s, "A", now, time.Minute)
		if err := s.ReportProgress(ctx, fast.ID, "A", sqlstore.Progress{Cursor: evs[3].Seq, Delivered: 4}); err != nil {
			t.Fatal(err)
		}
		if err := s.ReportProgress(ctx, slow.ID, "A", sqlstore.Progress{Cursor: evs[1].Seq, Delivered: 2}); err != nil {
			t.Fatal(err)
		}
		// Events every subscription moved past go; the rest stay.
		if n, err := s.PruneEvents(ctx, time.Hour); err != nil || n != 2 {
			t.Fatalf("PruneEvents = %d, %v; want 2", n, err)
		}
		left := allEvents(t, s, sqlstore.StreamInventory, 0)
		if len(left) != 2 || left[0].Seq != evs[2].Seq {
			t.Fatalf("left %d events starting at %d", len(left), left[0].Seq)
		}
		// An alarm event is kept while an alarm subscriber lags, whatever
		// the inventory cursors.
		if n, err := s.PruneEvents(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("second prune = %d, %v", n, err)
		}
		// Events older than maxAge go even if a subscription still needs
		// them.
		for time.Now().UnixMilli() <= left[1].CreatedAt.UnixMilli()+1 {
			time.Sleep(time.Millisecond)
		}
		if n, err := s.PruneEvents(ctx, 0); err != nil || n != 2 {
			t.Fatalf("PruneEvents(0) = %d, %v; want 2", n, err)
		}
		if left := allEvents(t, s, sqlstore.StreamInventory, 0); len(left) != 0 {
			t.Fatalf("%d events left", len(left))
		}
		// Seqs are never reused after pruning: new events still come
		// after every cursor.
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "new"))); err != nil {
			t.Fatal(err)
		}
		if evs := allEvents(t, s, sqlstore.StreamInventory, evs[3].Seq); len(evs) != 1 {
			t.Fatalf("new event not after the old cursor: %v", evs)
		}
	})
}

// QueueDepths counts, per subscription, the events of its own stream
// after its cursor.
func TestOutboxQueueDepths(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		early := newSub(sqlstore.StreamInventory, "http://192.0.2.1/early")
		if err := s.CreateSubscription(ctx, early, "early"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", fmt.Sprint(i)))); err != nil {
				t.Fatal(err)
			}
		}
		late := newSub(sqlstore.StreamInventory, "http://192.0.2.1/late")
		alarm := newSub(sqlstore.StreamAlarm, "http://192.0.2.1/alarm")
		for _, sub := range []sqlstore.Subscription{late, alarm} {
			if err := s.CreateSubscription(ctx, sub, sub.Callback); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "x"))); err != nil {
			t.Fatal(err)
		}
		got, err := s.QueueDepths(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{early.ID: 4, late.ID: 1, alarm.ID: 0}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("QueueDepths = %v, want %v", got, want)
		}
	})
}

// An outbox reader (the event stream) holds events as a subscription
// does: with no subscription at all, what it has not read stays; with
// both, the lower cursor decides; once it is removed, nothing is kept for
// it.
func TestOutboxReadersHoldEvents(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, b)
		if err := s.RegisterReader(ctx, "stream", []string{sqlstore.StreamInventory, sqlstore.StreamAlarm}); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", fmt.Sprint(i)))); err != nil {
				t.Fatal(err)
			}
		}
		evs := allEvents(t, s, sqlstore.StreamInventory, 0)
		if n, err := s.PruneEvents(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("PruneEvents with an unread reader = %d, %v; want 0", n, err)
		}
		if err := s.SetReaderCursor(ctx, "stream", sqlstore.StreamInventory, evs[1].Seq); err != nil {
			t.Fatal(err)
		}
		// Registering again keeps the cursor; a cursor never moves back.
		if err := s.RegisterReader(ctx, "stream", []string{sqlstore.StreamInventory}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetReaderCursor(ctx, "stream", sqlstore.StreamInventory, evs[0].Seq); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PruneEvents(ctx, time.Hour); err != nil || n != 2 {
			t.Fatalf("PruneEvents = %d, %v; want the 2 read events", n, err)
		}
		// A subscription behind the reader holds what it has not read.
		sub := newSub(sqlstore.StreamInventory, "http://192.0.2.1/late")
		if err := s.CreateSubscription(ctx, sub, "late"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplySnapshot(ctx, "src", obPools(obPool("a", "late"))); err != nil {
			t.Fatal(err)
		}
		if err := s.SetReaderCursor(ctx, "stream", sqlstore.StreamInventory, evs[3].Seq+1); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PruneEvents(ctx, time.Hour); err != nil || n != 2 {
			t.Fatalf("PruneEvents = %d, %v; want the 2 events before the subscription", n, err)
		}
		if left := allEvents(t, s, sqlstore.StreamInventory, 0); len(left) != 1 {
			t.Fatalf("%d events left, want the subscription's 1", len(left))
		}
		if err := s.RemoveReader(ctx, "stream"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSubscription(ctx, sqlstore.StreamInventory, sub.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PruneEvents(ctx, time.Hour); err != nil || n != 1 {
			t.Fatalf("PruneEvents after the reader left = %d, %v; want 1", n, err)
		}
	})
}
