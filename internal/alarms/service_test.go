package alarms

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// clock is a settable time source for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) stamp() string { return c.now().UTC().Format(query.TimeLayout) }

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fixture is an alarm service over a fresh store whose clock the test sets.
type fixture struct {
	svc      *Service
	store    *sqlstore.Store
	clock    *clock
	oCloudID string
	seq      int64 // the outbox position checked up to
}

func newFixture(t *testing.T, b sqlstoretest.Backend) *fixture {
	t.Helper()
	store := sqlstoretest.Open(t, b)
	f := &fixture{store: store, clock: &clock{t: t0}}
	f.svc = NewService(store, discard())
	f.svc.now = f.clock.now
	id, err := store.OCloudID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.oCloudID = id
	return f
}

// newEvents returns the alarm events written since the previous call.
func (f *fixture) newEvents(t *testing.T) []sqlstore.Event {
	t.Helper()
	evs, err := f.store.Events(context.Background(), sqlstore.StreamAlarm, f.seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) > 0 {
		f.seq = evs[len(evs)-1].Seq
	}
	return evs
}

// expectEvent checks that exactly one event of type typ about alarm id was
// written since the last check, and returns its post state.
func (f *fixture) expectEvent(t *testing.T, typ ims.AlarmEventType, id string) ims.AlarmEventRecord {
	t.Helper()
	evs := f.newEvents(t)
	if len(evs) != 1 {
		t.Fatalf("want exactly one %d event, got %d: %s", typ, len(evs), fmtEvents(evs))
	}
	ev := evs[0]
	if ev.EventType != int(typ) || ev.ObjectID != id || ev.ObjectType != "alarms" || ev.Stream != sqlstore.StreamAlarm {
		t.Fatalf("event %s, want type %d about %s", fmtEvents(evs), typ, id)
	}
	var post ims.AlarmEventRecord
	if err := json.Unmarshal(ev.Post, &post); err != nil {
		t.Fatalf("event post %s: %v", ev.Post, err)
	}
	if typ == ims.AlarmNew && len(ev.Prior) != 0 {
		t.Errorf("NEW event has a prior state: %s", ev.Prior)
	}
	if typ != ims.AlarmNew && len(ev.Prior) == 0 {
		t.Errorf("%d event has no prior state", typ)
	}
	return post
}

func (f *fixture) expectNoEvent(t *testing.T, what string) {
	t.Helper()
	if evs := f.newEvents(t); len(evs) != 0 {
		t.Errorf("%s wrote %d events: %s", what, len(evs), fmtEvents(evs))
	}
}

// fmtEvents describes events for failure messages.
func fmtEvents(evs []sqlstore.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "\n  seq %d %s/%s %s type %d post %s", ev.Seq, ev.Stream, ev.ObjectType, ev.ObjectID, ev.EventType, ev.Post)
	}
	return b.String()
}

// get reads an alarm back through the service.
func (f *fixture) get(t *testing.T, id string) ims.AlarmEventRecord {
	t.Helper()
	doc, err := f.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	var r ims.AlarmEventRecord
	if err := json.Unmarshal(doc, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// list returns every alarm matching filter, with all fields.
func (f *fixture) list(t *testing.T, filter string) []ims.AlarmEventRecord {
	t.Helper()
	page, err := f.svc.List(context.Background(), collection.Request{Filter: filter, AllFields: true})
	if err != nil {
		t.Fatalf("list %q: %v", filter, err)
	}
	out := make([]ims.AlarmEventRecord, 0, len(page.Items))
	for _, it := range page.Items {
		b, _ := json.Marshal(it)
		var r ims.AlarmEventRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if got := ims.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

func TestRaiseChangeResolve(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b)
		d := Definition(ProviderDown)
		c := Condition{Fingerprint: "test/a", Definition: d, Severity: ims.SeverityMajor, Extensions: ims.Extensions{"n": 1, "who": "x"}}

		rec, err := f.svc.Raise(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		raised := f.clock.stamp()
		if rec.AlarmDefinitionID != d.AlarmDefinitionID || d.AlarmDefinitionID == "" {
			t.Errorf("alarmDefinitionID %q, want %q", rec.AlarmDefinitionID, d.AlarmDefinitionID)
		}
		cause, err := ProbableCause(rec.ProbableCauseID)
		if err != nil || cause.Name != "Provider unreachable" {
			t.Errorf("probableCauseID %q: %v %+v", rec.ProbableCauseID, err, cause)
		}
		if rec.AlarmRaisedTime != raised || rec.AlarmChangedTime != raised || rec.AlarmClearedTime != "" || rec.AlarmAcknowledgedTime != "" {
			t.Errorf("times %+v, want raised = changed = %s", rec, raised)
		}
		if _, err := time.Parse(query.TimeLayout, rec.AlarmRaisedTime); err != nil {
			t.Errorf("raised time not in TimeLayout: %v", err)
		}
		if rec.ResourceID != f.oCloudID {
			t.Errorf("resourceID %q, want the oCloudId %q", rec.ResourceID, f.oCloudID)
		}
		if rec.PerceivedSeverity != ims.SeverityMajor || rec.AlarmAcknowledged {
			t.Errorf("new alarm %+v", rec)
		}
		post := f.expectEvent(t, ims.AlarmNew, rec.AlarmEventRecordID)
		if post.AlarmEventRecordID != rec.AlarmEventRecordID || post.PerceivedSeverity != ims.SeverityMajor {
			t.Errorf("NEW event post %+v", post)
		}
		stored := f.get(t, rec.AlarmEventRecordID)
		if stored.AlarmRaisedTime != raised || stored.ResourceID != f.oCloudID || stored.Extensions["who"] != "x" {
			t.Errorf("stored %+v", stored)
		}

		// The same condition again, later: nothing happens.
		f.clock.advance(time.Minute)
		again, err := f.svc.Raise(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if again.AlarmEventRecordID != rec.AlarmEventRecordID {
			t.Errorf("identical raise returned %s, want %s", again.AlarmEventRecordID, rec.AlarmEventRecordID)
		}
		f.expectNoEvent(t, "an identical raise")
		if got := f.get(t, rec.AlarmEventRecordID); got.AlarmChangedTime != raised {
			t.Errorf("identical raise moved alarmChangedTime to %s", got.AlarmChangedTime)
		}

		// A changed severity is a CHANGE of the same alarm.
		f.clock.advance(time.Minute)
		c.Severity = ims.SeverityCritical
		changed, err := f.svc.Raise(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if changed.AlarmEventRecordID != rec.AlarmEventRecordID || changed.PerceivedSeverity != ims.SeverityCritical {
			t.Errorf("change %+v", changed)
		}
		post = f.expectEvent(t, ims.AlarmChange, rec.AlarmEventRecordID)
		if post.AlarmChangedTime != f.clock.stamp() || post.AlarmRaisedTime != raised || post.PerceivedSeverity != ims.SeverityCritical {
			t.Errorf("CHANGE post %+v, want changed at %s, raised at %s", post, f.clock.stamp(), raised)
		}

		// Changed extensions are a CHANGE too.
		f.clock.advance(time.Minute)
		c.Extensions = maps.Clone(c.Extensions)
		c.Extensions["n"] = 2
		if _, err := f.svc.Raise(ctx, c); err != nil {
			t.Fatal(err)
		}
		post = f.expectEvent(t, ims.AlarmChange, rec.AlarmEventRecordID)
		if post.Extensions["n"] != float64(2) {
			t.Errorf("extensions not updated: %v", post.Extensions)
		}

		// Resolve clears.
		f.clock.advance(time.Minute)
		if err := f.svc.Resolve(ctx, c.Fingerprint); err != nil {
			t.Fatal(err)
		}
		post = f.expectEvent(t, ims.AlarmClear, rec.AlarmEventRecordID)
		cleared := f.get(t, rec.AlarmEventRecordID)
		if cleared.PerceivedSeverity != ims.SeverityCleared || cleared.AlarmClearedTime != f.clock.stamp() || post.AlarmClearedTime != f.clock.stamp() {
			t.Errorf("cleared %+v", cleared)
		}
		if cleared.AlarmRaisedTime != raised {
			t.Errorf("clearing moved alarmRaisedTime to %s", cleared.AlarmRaisedTime)
		}
		open, err := f.store.OpenAlarmFingerprints(ctx, "test/")
		if err != nil || len(open) != 0 {
			t.Errorf("open after resolve: %v %v", open, err)
		}
		// Resolving what is not open does nothing.
		if err := f.svc.Resolve(ctx, c.Fingerprint); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Resolve(ctx, "test/never-raised"); err != nil {
			t.Fatal(err)
		}
		f.expectNoEvent(t, "resolving a cleared condition")

		// The same fingerprint raised again is a new alarm.
		f.clock.advance(time.Minute)
		fresh, err := f.svc.Raise(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if fresh.AlarmEventRecordID == rec.AlarmEventRecordID {
			t.Fatalf("raise after clear reused record %s", rec.AlarmEventRecordID)
		}
		if fresh.AlarmRaisedTime != f.clock.stamp() || fresh.PerceivedSeverity != ims.SeverityCritical {
			t.Errorf("fresh %+v", fresh)
		}
		f.expectEvent(t, ims.AlarmNew, fresh.AlarmEventRecordID)
		if all := f.list(t, "(eq,alarmDefinitionID,"+d.AlarmDefinitionID+")"); len(all) != 2 {
			t.Errorf("want the cleared and the new record, got %d", len(all))
		}
		if old := f.get(t, rec.AlarmEventRecordID); old.PerceivedSeverity != ims.SeverityCleared {
			t.Errorf("old record changed by the new raise: %+v", old)
		}

		// Raising with severity CLEARED resolves.
		if _, err := f.svc.Raise(ctx, Condition{Fingerprint: c.Fingerprint, Definition: d, Severity: ims.SeverityCleared}); err != nil {
			t.Fatal(err)
		}
		f.expectEvent(t, ims.AlarmClear, fresh.AlarmEventRecordID)
	})
}

func TestRaiseOnResource(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b)
		d := Definition(ResourceUnhealthy)
		rec, err := f.svc.Raise(ctx, Condition{Fingerprint: "test/r", Definition: d, Severity: d.Severity, ResourceID: "res-1", ResourceTypeID: "type-1"})
		if err != nil {
			t.Fatal(err)
		}
		if rec.ResourceID != "res-1" || rec.ResourceTypeID != "type-1" {
			t.Errorf("resource not kept: %+v", rec)
		}
		f.expectEvent(t, ims.AlarmNew, rec.AlarmEventRecordID)
		// Moving the condition to another resource is a CHANGE.
		rec2, err := f.svc.Raise(ctx, Condition{Fingerprint: "test/r", Definition: d, Severity: d.Severity, ResourceID: "res-2", ResourceTypeID: "type-1"})
		if err != nil {
			t.Fatal(err)
		}
		if rec2.AlarmEventRecordID != rec.AlarmEventRecordID || rec2.ResourceID != "res-2" {
			t.Errorf("moved %+v", rec2)
		}
		f.expectEvent(t, ims.AlarmChange, rec.AlarmEventRecordID)
		if got := f.list(t, "(eq,resourceID,res-2)"); len(got) != 1 {
			t.Errorf("resourceID column not updated: %d", len(got))
		}
	})
}

// Concurrent raises of one condition open exactly one alarm and none of
// them fails.
func TestRaiseConcurrent(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b)
		d := Definition(ExternalAlert)
		for round := range 5 {
			fp := "test/concurrent/" + string(rune('a'+round))
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Go(func() {
					if _, err := f.svc.Raise(ctx, Condition{Fingerprint: fp, Definition: d, Severity: ims.SeverityMinor}); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("concurrent raise of %s: %v", fp, err)
			}
			open, err := f.store.OpenAlarmFingerprints(ctx, fp)
			if err != nil || len(open) != 1 {
				t.Errorf("%s: open alarms %v %v", fp, open, err)
			}
			evs := f.newEvents(t)
			if len(evs) != 1 || evs[0].EventType != int(ims.AlarmNew) {
				t.Errorf("%s: want one NEW event, got %s", fp, fmtEvents(evs))
			}
		}
	})
}

func TestPatch(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b)
		auto := Definition(ProviderDown)
		manual := Definition(ResourceDisappeared)
		if auto.ClearingType != ims.ClearingAutomatic || manual.ClearingType != ims.ClearingManual {
			t.Fatalf("dictionary clearing types changed: %s %s", auto.ClearingType, manual.ClearingType)
		}
		a, err := f.svc.Raise(ctx, Condition{Fingerprint: "test/auto", Definition: auto, Severity: auto.Severity})
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.svc.Raise(ctx, Condition{Fingerprint: "test/manual", Definition: manual, Severity: manual.Severity, ResourceID: "gone-1"})
		if err != nil {
			t.Fatal(err)
		}
		f.newEvents(t)
		yes, no, five, three := true, false, 5, 3

		invalid := []struct {
			name string
			m    Modifications
		}{
			{"both", Modifications{AlarmAcknowledged: &yes, PerceivedSeverity: &five}},
			{"none", Modifications{}},
			{"ack false", Modifications{AlarmAcknowledged: &no}},
			{"severity 3", Modifications{PerceivedSeverity: &three}},
		}
		for _, c := range invalid {
			_, err := f.svc.Patch(ctx, a.AlarmEventRecordID, c.m)
			wantCode(t, err, ims.EINVALID, c.name)
		}
		f.expectNoEvent(t, "invalid patches")

		// Acknowledge.
		f.clock.advance(time.Minute)
		if _, err := f.svc.Patch(ctx, a.AlarmEventRecordID, Modifications{AlarmAcknowledged: &yes}); err != nil {
			t.Fatal(err)
		}
		post := f.expectEvent(t, ims.AlarmAcknowledge, a.AlarmEventRecordID)
		got := f.get(t, a.AlarmEventRecordID)
		if !got.AlarmAcknowledged || got.AlarmAcknowledgedTime != f.clock.stamp() || !post.AlarmAcknowledged {
			t.Errorf("acknowledged %+v", got)
		}
		if got.PerceivedSeverity != auto.Severity {
			t.Errorf("acknowledging changed the severity: %+v", got)
		}
		if acked := f.list(t, "(eq,alarmAcknowledged,true)"); len(acked) != 1 || acked[0].AlarmEventRecordID != a.AlarmEventRecordID {
			t.Errorf("acknowledged column: %+v", acked)
		}
		_, err = f.svc.Patch(ctx, a.AlarmEventRecordID, Modifications{AlarmAcknowledged: &yes})
		wantCode(t, err, ims.ECONFLICT, "acknowledging twice")
		// An automatic alarm cannot be cleared by hand.
		_, err = f.svc.Patch(ctx, a.AlarmEventRecordID, Modifications{PerceivedSeverity: &five})
		wantCode(t, err, ims.ECONFLICT, "clearing an AUTOMATIC alarm")
		f.expectNoEvent(t, "refused patches")
		if got := f.get(t, a.AlarmEventRecordID); got.PerceivedSeverity == ims.SeverityCleared {
			t.Errorf("automatic alarm cleared by hand")
		}

		// A manual alarm can.
		f.clock.advance(time.Minute)
		if _, err := f.svc.Patch(ctx, m.AlarmEventRecordID, Modifications{PerceivedSeverity: &five}); err != nil {
			t.Fatal(err)
		}
		post = f.expectEvent(t, ims.AlarmClear, m.AlarmEventRecordID)
		if post.PerceivedSeverity != ims.SeverityCleared || post.AlarmClearedTime != f.clock.stamp() {
			t.Errorf("manually cleared %+v", post)
		}
		_, err = f.svc.Patch(ctx, m.AlarmEventRecordID, Modifications{PerceivedSeverity: &five})
		wantCode(t, err, ims.ECONFLICT, "clearing twice")
		// The manual clear closed the condition: raising it again opens a new alarm.
		again, err := f.svc.Raise(ctx, Condition{Fingerprint: "test/manual", Definition: manual, Severity: manual.Severity, ResourceID: "gone-1"})
		if err != nil {
			t.Fatal(err)
		}
		if again.AlarmEventRecordID == m.AlarmEventRecordID {
			t.Errorf("raise after a manual clear reused the record")
		}
		f.expectEvent(t, ims.AlarmNew, again.AlarmEventRecordID)

		unknown := "00000000-0000-4000-8000-000000000000"
		_, err = f.svc.Patch(ctx, unknown, Modifications{AlarmAcknowledged: &yes})
		wantCode(t, err, ims.ENOTFOUND, "acknowledging an unknown alarm")
		_, err = f.svc.Patch(ctx, unknown, Modifications{PerceivedSeverity: &five})
		wantCode(t, err, ims.ENOTFOUND, "clearing an unknown alarm")
		_, err = f.svc.Get(ctx, unknown)
		wantCode(t, err, ims.ENOTFOUND, "getting an unknown alarm")
		f.expectNoEvent(t, "patches of an unknown alarm")
	})
}

func TestRetention(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b)
		d := Definition(ExternalAlert)
		raise := func(fp string) string {
			t.Helper()
			r, err := f.svc.Raise(ctx, Condition{Fingerprint: fp, Definition: d, Severity: ims.SeverityMinor})
			if err != nil {
				t.Fatal(err)
			}
			return r.AlarmEventRecordID
		}
		resolve := func(fp string) {
			t.Helper()
			if err := f.svc.Resolve(ctx, fp); err != nil {
				t.Fatal(err)
			}
		}
		day := 24 * time.Hour
		old := raise("test/old") // cleared on day 0
		resolve("test/old")
		open := raise("test/open") // never cleared
		f.clock.advance(20 * day)
		recent := raise("test/recent") // cleared on day 20
		resolve("test/recent")

		remaining := func() map[string]bool {
			out := map[string]bool{}
			for _, r := range f.list(t, "") {
				out[r.AlarmEventRecordID] = true
			}
			return out
		}
		apply := func(want int64) {
			t.Helper()
			n, err := f.svc.ApplyRetention(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("ApplyRetention deleted %d, want %d", n, want)
			}
		}

		// Day 29: nothing is 30 days past its clearing.
		f.clock.advance(9 * day)
		apply(0)
		// Day 31: the alarm cleared on day 0 goes.
		f.clock.advance(2 * day)
		apply(1)
		if got := remaining(); got[old] || !got[open] || !got[recent] || len(got) != 2 {
			t.Errorf("after day 31: %v (old %s, open %s, recent %s)", got, old, open, recent)
		}
		// A shorter period applies at once.
		if _, err := f.svc.SetConfiguration(ctx, ims.AlarmServiceConfiguration{RetentionPeriod: 10}); err != nil {
			t.Fatal(err)
		}
		apply(1)
		if got := remaining(); !got[open] || len(got) != 1 {
			t.Errorf("after retention 10: %v", got)
		}
		// Open alarms are never deleted, however old.
		f.clock.advance(1000 * day)
		apply(0)

		// A retention period beyond what a time.Duration holds keeps everything.
		raise("test/late")
		resolve("test/late")
		f.clock.advance(2 * day)
		if _, err := f.svc.SetConfiguration(ctx, ims.AlarmServiceConfiguration{RetentionPeriod: 200000}); err != nil {
			t.Fatal(err)
		}
		apply(0)
		if _, err := f.svc.SetConfiguration(ctx, ims.AlarmServiceConfiguration{RetentionPeriod: 1 << 40}); err != nil {
			t.Fatal(err)
		}
		apply(0)
		if got := remaining(); len(got) != 2 {
			t.Errorf("huge retention deleted alarms: %v", got)
		}
	})
}

func TestConfiguration(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b)
		c, err := f.svc.Configuration(ctx)
		if err != nil || c.RetentionPeriod != DefaultConfiguration.RetentionPeriod || len(c.Extensions) != 0 {
			t.Fatalf("default configuration %+v %v", c, err)
		}
		for _, p := range []int{0, -1} {
			_, err := f.svc.SetConfiguration(ctx, ims.AlarmServiceConfiguration{RetentionPeriod: p})
			wantCode(t, err, ims.EINVALID, "retentionPeriod "+string(rune('0'+p)))
		}
		if c, _ := f.svc.Configuration(ctx); c.RetentionPeriod != DefaultConfiguration.RetentionPeriod {
			t.Errorf("refused configuration stored: %+v", c)
		}
		want := ims.AlarmServiceConfiguration{RetentionPeriod: 7, Extensions: ims.Extensions{"a": "x", "b": float64(1)}}
		if _, err := f.svc.SetConfiguration(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Configuration(ctx)
		if err != nil || got.RetentionPeriod != 7 || !maps.Equal(got.Extensions, want.Extensions) {
			t.Errorf("stored %+v %v, want %+v", got, err, want)
		}

		// Merge patch: a null extension removes the key, others are added.
		got, err = f.svc.PatchConfiguration(ctx, nil, map[string]any{"a": nil, "c": true})
		if err != nil {
			t.Fatal(err)
		}
		wantExt := ims.Extensions{"b": float64(1), "c": true}
		if got.RetentionPeriod != 7 || !maps.Equal(got.Extensions, wantExt) {
			t.Errorf("patched %+v", got)
		}
		if stored, _ := f.svc.Configuration(ctx); stored.RetentionPeriod != 7 || !maps.Equal(stored.Extensions, wantExt) {
			t.Errorf("patch not stored: %+v", stored)
		}
		// Retention alone leaves the extensions.
		r := 14
		got, err = f.svc.PatchConfiguration(ctx, &r, nil)
		if err != nil || got.RetentionPeriod != 14 || !maps.Equal(got.Extensions, wantExt) {
			t.Errorf("patched retention %+v %v", got, err)
		}
		zero := 0
		_, err = f.svc.PatchConfiguration(ctx, &zero, map[string]any{"d": 1})
		wantCode(t, err, ims.EINVALID, "patching retentionPeriod 0")
		if stored, _ := f.svc.Configuration(ctx); stored.RetentionPeriod != 14 || stored.Extensions["d"] != nil {
			t.Errorf("refused patch stored: %+v", stored)
		}
		// Replacing drops extensions not given.
		if _, err := f.svc.SetConfiguration(ctx, ims.AlarmServiceConfiguration{RetentionPeriod: 3}); err != nil {
			t.Fatal(err)
		}
		if stored, _ := f.svc.Configuration(ctx); stored.RetentionPeriod != 3 || len(stored.Extensions) != 0 {
			t.Errorf("PUT did not replace: %+v", stored)
		}
	})
}

func TestDictionary(t *testing.T) {
	seen := map[string]bool{}
	causes := map[string]bool{}
	for _, c := range ProbableCauses {
		causes[c.ProbableCauseID] = true
	}
	for _, d := range Dictionary.AlarmDefinition {
		if seen[d.AlarmDefinitionID] {
			t.Errorf("duplicate definition id %s", d.AlarmDefinitionID)
		}
		seen[d.AlarmDefinitionID] = true
		if !causes[d.ProbableCauseID] {
			t.Errorf("%s: probable cause %s not shipped", d.AlarmName, d.ProbableCauseID)
		}
		if got, ok := definitionByID(d.AlarmDefinitionID); !ok || got.AlarmName != d.AlarmName {
			t.Errorf("definitionByID(%s) = %v %v", d.AlarmDefinitionID, got, ok)
		}
		if d.ClearingType != ims.ClearingAutomatic && d.ClearingType != ims.ClearingManual {
			t.Errorf("%s: clearing type %q", d.AlarmName, d.ClearingType)
		}
	}
	for _, n := range []string{ProviderDown, PoolUtilization, ResourceUnhealthy, ResourceDisappeared, ExternalAlert} {
		if Definition(n).AlarmDefinitionID == "" {
			t.Errorf("no definition %s", n)
		}
	}
	// Identifiers are stable across releases.
	if Definition(ProviderDown).AlarmDefinitionID != id("definition/O2IMSProviderDown") {
		t.Errorf("definition ids are not name-based")
	}
	if _, err := ProbableCause("00000000-0000-4000-8000-000000000000"); ims.ErrorCode(err) != ims.ENOTFOUND {
		t.Errorf("unknown probable cause: %v", err)
	}
}
