package alarms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// testProvider reports whatever snapshot or error the test sets.
type testProvider struct {
	name string
	mu   sync.Mutex
	snap ims.Snapshot
	err  error
}

func (p *testProvider) Name() string { return p.name }

func (p *testProvider) Discover(context.Context) (ims.Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return ims.Snapshot{}, p.err
	}
	return p.snap, nil
}

func (p *testProvider) set(snap ims.Snapshot, err error) {
	p.mu.Lock()
	p.snap, p.err = snap, err
	p.mu.Unlock()
}

var _ inventory.Provider = (*testProvider)(nil)

const (
	rPool  = "50000000-0000-4000-8000-000000000001"
	rPool2 = "50000000-0000-4000-8000-000000000002"
	rType  = "60000000-0000-4000-8000-000000000001"
)

func rRes(i int) string { return fmt.Sprintf("70000000-0000-4000-8000-%012d", i) }

// site is a small inventory: two pools, three resources.
func site(poolExt, pool2Ext ims.Extensions, resExt map[int]ims.Extensions, drop ...int) ims.Snapshot {
	s := ims.Snapshot{
		ResourceTypes: []ims.ResourceType{{ResourceTypeID: rType, Name: "node", ResourceKind: ims.ResourceKindPhysical, ResourceClass: ims.ResourceClassCompute}},
		ResourcePools: []ims.ResourcePool{
			{ResourcePoolID: rPool, Name: "edge-a", Extensions: poolExt},
			{ResourcePoolID: rPool2, Name: "edge-b", Extensions: pool2Ext},
		},
	}
outer:
	for i := range 3 {
		for _, d := range drop {
			if d == i {
				continue outer
			}
		}
		s.Resources = append(s.Resources, ims.Resource{ResourceID: rRes(i), ResourcePoolID: rPool, ResourceTypeID: rType,
			Description: fmt.Sprintf("node %d", i), Extensions: resExt[i]})
	}
	return s
}

type raiserFixture struct {
	*fixture
	syncer  *inventory.Syncer
	p       *testProvider
	raisers *Raisers
}

func newRaiserFixture(t *testing.T, b sqlstoretest.Backend) *raiserFixture {
	f := newFixture(t, b)
	raisers := NewRaisers(f.svc, f.store, 0, discard())
	p := &testProvider{name: "edge"}
	return &raiserFixture{fixture: f, syncer: inventory.NewSyncer(f.store, []inventory.Provider{p}, time.Hour, discard(), raisers), p: p, raisers: raisers}
}

// sync runs one sync; wantErr tells whether discovery is meant to fail.
func (f *raiserFixture) sync(t *testing.T, wantErr bool) {
	t.Helper()
	_, err := f.syncer.SyncOnce(context.Background(), f.p)
	if (err != nil) != wantErr {
		t.Fatalf("sync: err %v, want error %v", err, wantErr)
	}
}

// open returns the open alarms of a definition.
func (f *raiserFixture) open(t *testing.T, name string) []ims.AlarmEventRecord {
	t.Helper()
	return f.list(t, fmt.Sprintf("(eq,alarmDefinitionID,%s);(neq,perceivedSeverity,5)", Definition(name).AlarmDefinitionID))
}

func TestProviderDownAlarm(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newRaiserFixture(t, b)
		f.p.set(ims.Snapshot{}, errors.New("dial tcp 10.0.0.1:6443: connect: connection refused"))
		f.sync(t, true)
		open := f.open(t, ProviderDown)
		if len(open) != 1 {
			t.Fatalf("want one provider-down alarm, got %+v", open)
		}
		a := open[0]
		if a.ResourceID != f.oCloudID || a.ResourceTypeID != ims.OCloudResourceTypeID || a.PerceivedSeverity != Definition(ProviderDown).Severity {
			t.Errorf("provider-down alarm %+v", a)
		}
		if a.Extensions["provider"] != "edge" || a.Extensions["alarmName"] != ProviderDown {
			t.Errorf("extensions %v", a.Extensions)
		}
		f.expectEvent(t, ims.AlarmNew, a.AlarmEventRecordID)

		// Failing again does not raise another alarm or notify again, even
		// when the error text varies from attempt to attempt.
		f.sync(t, true)
		f.p.set(ims.Snapshot{}, errors.New("dial tcp: lookup api.edge on 10.0.0.2:53: read udp 10.0.0.5:41234->10.0.0.2:53: i/o timeout"))
		f.sync(t, true)
		f.p.set(ims.Snapshot{}, errors.New("dial tcp: lookup api.edge on 10.0.0.2:53: read udp 10.0.0.5:50872->10.0.0.2:53: i/o timeout"))
		f.sync(t, true)
		if open := f.open(t, ProviderDown); len(open) != 1 || open[0].AlarmEventRecordID != a.AlarmEventRecordID {
			t.Errorf("repeated failures: %+v", open)
		}
		f.expectNoEvent(t, "repeated identical failures")

		// Success clears it.
		f.p.set(site(nil, nil, nil), nil)
		f.sync(t, false)
		if open := f.open(t, ProviderDown); len(open) != 0 {
			t.Errorf("still open after a successful sync: %+v", open)
		}
		if got := f.get(t, a.AlarmEventRecordID); got.PerceivedSeverity != ims.SeverityCleared || got.AlarmClearedTime == "" {
			t.Errorf("not cleared: %+v", got)
		}
		evs := f.newEvents(t)
		if len(evs) != 1 || evs[0].EventType != int(ims.AlarmClear) || evs[0].ObjectID != a.AlarmEventRecordID {
			t.Errorf("want one CLEAR event, got %s", fmtEvents(evs))
		}
		// A later failure is a new alarm.
		f.p.set(ims.Snapshot{}, errors.New("timeout"))
		f.sync(t, true)
		if open := f.open(t, ProviderDown); len(open) != 1 || open[0].AlarmEventRecordID == a.AlarmEventRecordID {
			t.Errorf("second outage: %+v", open)
		}
	})
}

func TestUtilizationAlarm(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newRaiserFixture(t, b)
		util := func(cpu, mem float64) ims.Extensions {
			return ims.Extensions{"utilization": map[string]any{"cpu": cpu, "memory": mem}}
		}
		f.p.set(site(util(0.95, 0.2), util(0.5, 0.5), nil), nil)
		f.sync(t, false)
		open := f.open(t, PoolUtilization)
		if len(open) != 1 {
			t.Fatalf("want one utilization alarm, got %+v", open)
		}
		a := open[0]
		if a.Extensions["resourcePoolId"] != rPool || a.ResourceID != f.oCloudID || a.PerceivedSeverity != Definition(PoolUtilization).Severity {
			t.Errorf("utilization alarm %+v", a)
		}
		over, _ := a.Extensions["overThreshold"].([]any)
		if len(over) != 1 || over[0] != "cpu" {
			t.Errorf("resources over the threshold: %v", a.Extensions["overThreshold"])
		}
		// A value moving while still over the threshold is no change of
		// the alarm (it would be a notification per sync).
		f.p.set(site(util(0.96, 0.2), util(0.5, 0.5), nil), nil)
		f.sync(t, false)
		if got := f.get(t, a.AlarmEventRecordID); got.AlarmChangedTime != a.AlarmChangedTime {
			t.Errorf("utilization moving within the alarm changed it: %s -> %s", a.AlarmChangedTime, got.AlarmChangedTime)
		}
		// Memory crossing too is a change of the same alarm.
		f.p.set(site(util(0.95, 0.93), util(0.5, 0.5), nil), nil)
		f.sync(t, false)
		if open := f.open(t, PoolUtilization); len(open) != 1 || open[0].AlarmEventRecordID != a.AlarmEventRecordID {
			t.Errorf("after memory crossed: %+v", open)
		}
		// Below the threshold: cleared.
		f.p.set(site(util(0.5, 0.2), util(0.5, 0.5), nil), nil)
		f.sync(t, false)
		if open := f.open(t, PoolUtilization); len(open) != 0 {
			t.Errorf("still open at 0.5: %+v", open)
		}
		if got := f.get(t, a.AlarmEventRecordID); got.PerceivedSeverity != ims.SeverityCleared {
			t.Errorf("not cleared: %+v", got)
		}
		// Exactly at the threshold is not over it.
		f.p.set(site(util(0.9, 0.2), nil, nil), nil)
		f.sync(t, false)
		if open := f.open(t, PoolUtilization); len(open) != 0 {
			t.Errorf("raised at the threshold: %+v", open)
		}
	})
}

func TestHealthAndDisappearedAlarms(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newRaiserFixture(t, b)
		f.p.set(site(nil, nil, map[int]ims.Extensions{1: {"healthy": false, "healthReason": "NotReady"}, 2: {"healthy": true}}), nil)
		f.sync(t, false)
		open := f.open(t, ResourceUnhealthy)
		if len(open) != 1 {
			t.Fatalf("want one unhealthy alarm, got %+v", open)
		}
		a := open[0]
		if a.ResourceID != rRes(1) || a.ResourceTypeID != rType || a.Extensions["reason"] != "NotReady" || a.Extensions["resourcePoolId"] != rPool {
			t.Errorf("unhealthy alarm %+v", a)
		}
		// A resource whose provider raises its own alarm for its health
		// (healthAlarm) gets no second one; the generic one it had
		// clears.
		f.p.set(site(nil, nil, map[int]ims.Extensions{1: {"healthy": false, HealthAlarmExtension: EdgeNodeUnreachable}, 2: {"healthy": true}}), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceUnhealthy); len(open) != 0 {
			t.Errorf("generic alarm beside the provider's own: %+v", open)
		}
		if got := f.get(t, a.AlarmEventRecordID); got.PerceivedSeverity != ims.SeverityCleared {
			t.Errorf("not cleared: %+v", got)
		}
		// Without it, unhealthy raises the generic alarm again; healthy
		// clears it.
		f.p.set(site(nil, nil, map[int]ims.Extensions{1: {"healthy": false}, 2: {"healthy": true}}), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceUnhealthy); len(open) != 1 {
			t.Fatalf("want one unhealthy alarm again, got %+v", open)
		}
		a = f.open(t, ResourceUnhealthy)[0]
		f.p.set(site(nil, nil, map[int]ims.Extensions{1: {"healthy": true}, 2: {"healthy": true}}), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceUnhealthy); len(open) != 0 {
			t.Errorf("still open when healthy: %+v", open)
		}
		if got := f.get(t, a.AlarmEventRecordID); got.PerceivedSeverity != ims.SeverityCleared {
			t.Errorf("not cleared: %+v", got)
		}

		// Unhealthy, then removed: the health alarm clears and a
		// disappeared alarm, cleared only by hand, is raised.
		f.p.set(site(nil, nil, map[int]ims.Extensions{2: {"healthy": false}}), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceUnhealthy); len(open) != 1 || open[0].ResourceID != rRes(2) {
			t.Fatalf("unhealthy 2: %+v", open)
		}
		f.newEvents(t)
		f.p.set(site(nil, nil, nil, 2), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceUnhealthy); len(open) != 0 {
			t.Errorf("unhealthy alarm of a removed resource still open: %+v", open)
		}
		gone := f.open(t, ResourceDisappeared)
		if len(gone) != 1 {
			t.Fatalf("want one disappeared alarm, got %+v", gone)
		}
		g := gone[0]
		if g.ResourceID != rRes(2) || g.ResourceTypeID != rType || g.Extensions["provider"] != "edge" || g.Extensions["resourcePoolId"] != rPool || g.Extensions["description"] != "node 2" {
			t.Errorf("disappeared alarm %+v", g)
		}
		kinds := map[int]int{}
		for _, ev := range f.newEvents(t) {
			kinds[ev.EventType]++
		}
		if kinds[int(ims.AlarmNew)] != 1 || kinds[int(ims.AlarmClear)] != 1 || len(kinds) != 2 {
			t.Errorf("removal events by type: %v", kinds)
		}
		if d, _ := definitionByID(g.AlarmDefinitionID); d.ClearingType != ims.ClearingManual {
			t.Errorf("disappeared is %s", d.ClearingType)
		}
		// It stays open across syncs, even when the resource comes back.
		f.p.set(site(nil, nil, nil), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceDisappeared); len(open) != 1 {
			t.Errorf("disappeared alarm cleared automatically: %+v", open)
		}
		five := 5
		if _, err := f.svc.Patch(context.Background(), g.AlarmEventRecordID, Modifications{PerceivedSeverity: &five}); err != nil {
			t.Errorf("manual clear: %v", err)
		}
		if open := f.open(t, ResourceDisappeared); len(open) != 0 {
			t.Errorf("after manual clear: %+v", open)
		}

		// A removal the IMS asked for (an edge node the operator deleted,
		// a deleted provisioning request's machine) raises nothing, once:
		// the same resource gone again later, unexpected, does.
		f.raisers.ExpectRemoval(rRes(1))
		f.p.set(site(nil, nil, nil, 1), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceDisappeared); len(open) != 0 {
			t.Errorf("an expected removal raised %+v", open)
		}
		f.p.set(site(nil, nil, nil), nil)
		f.sync(t, false)
		f.p.set(site(nil, nil, nil, 1), nil)
		f.sync(t, false)
		if open := f.open(t, ResourceDisappeared); len(open) != 1 || open[0].ResourceID != rRes(1) {
			t.Errorf("an unexpected removal after an expected one: %+v", open)
		}
	})
}

// TestExpectedRemovalLapses: an expectation older than an hour no longer
// holds.
func TestExpectedRemovalLapses(t *testing.T) {
	r := NewRaisers(nil, nil, 0, discard())
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return now }
	r.ExpectRemoval("a", "b")
	if !r.removalExpected("a") || r.removalExpected("a") {
		t.Error("an expectation holds exactly once")
	}
	now = now.Add(expectedRemovalTTL + time.Second)
	if r.removalExpected("b") {
		t.Error("an expectation held past its hour")
	}
}
