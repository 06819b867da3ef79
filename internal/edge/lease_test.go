package edge

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

// Leases in fake time: a node that stops reporting is unreachable after
// HeartbeatGrace intervals (plus at most the check period), and reachable
// again with its next report; a node that keeps reporting never is.
func TestLeaseExpiryAndReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		interval := 10 * time.Second
		svc, _ := newTestService(t, Options{HeartbeatInterval: interval, HeartbeatGrace: 3, Observer: rec})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go svc.Run(ctx)

		tok := mustToken(t, svc, "edge-west", time.Hour, 2)
		quiet, _ := enrol(t, svc, tok.Token, "quiet")
		busy, _ := enrol(t, svc, tok.Token, "busy")
		start := time.Now()
		seq := uint64(0)
		beat := func(nodeID string) error {
			seq++
			_, err := svc.Heartbeat(ctx, Node{ID: nodeID}, HeartbeatRequest{Report: Report{Sequence: seq, Timestamp: time.Now()}}, "192.0.2.1")
			return err
		}
		// busy heartbeats every interval for a minute; quiet is silent.
		for range 6 {
			time.Sleep(interval)
			if err := beat(busy.NodeID); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		events, times := rec.snapshot()
		if !slices.Equal(events, []string{"unreachable quiet"}) {
			t.Fatalf("events = %v, want only quiet unreachable", events)
		}
		if late := times[0].Sub(start); late < 30*time.Second || late > 30*time.Second+interval/4 {
			t.Errorf("quiet became unreachable after %v, want 30s (3 intervals) plus at most %v", late, interval/4)
		}
		if err := beat(quiet.NodeID); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if events, _ := rec.snapshot(); !slices.Equal(events, []string{"unreachable quiet", "reachable quiet"}) {
			t.Errorf("events = %v, want quiet back", events)
		}
		snap, err := svc.Provider(ProviderOptions{}).Discover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range snap.Resources {
			if r.ParentID == "" && r.Extensions["healthy"] != true {
				t.Errorf("%s healthy = %v after reporting", r.Extensions["nodeName"], r.Extensions["healthy"])
			}
		}
		cancel()
		synctest.Wait()
	})
}

// A restarted server counts leases from its start, not from reports
// made before it: it does not declare every node unreachable at once.
func TestLeaseAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		store := NewMemoryStore()
		ca := newTestCA(t)
		opts := Options{HeartbeatInterval: 10 * time.Second, HeartbeatGrace: 3, Observer: rec}
		first, err := Open(context.Background(), opts, store, ca, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		tok := mustToken(t, first, "edge-west", time.Hour, 1)
		enrol(t, first, tok.Token, "n1")
		time.Sleep(5 * time.Minute) // the server is down

		second, err := Open(context.Background(), opts, store, ca, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go second.Run(ctx)
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if events, _ := rec.snapshot(); len(events) != 0 {
			t.Errorf("events within the grace after a restart: %v", events)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if events, _ := rec.snapshot(); !slices.Equal(events, []string{"unreachable n1"}) {
			t.Errorf("events = %v, want n1 unreachable once its grace from the restart ran out", events)
		}
		cancel()
		synctest.Wait()
	})
}

func TestReportsRefused(t *testing.T) {
	svc, _ := newTestService(t, Options{ClockSkew: time.Minute})
	ctx := context.Background()
	tok := mustToken(t, svc, "edge-west", time.Hour, 2)
	self, _ := enrol(t, svc, tok.Token, "self")
	other, _ := enrol(t, svc, tok.Token, "other")
	node := Node{ID: self.NodeID}
	if _, err := svc.Heartbeat(ctx, node, HeartbeatRequest{Report: Report{Sequence: 100, Timestamp: time.Now()}}, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		report   Report
		wantCode string
		wantMsg  string
	}{
		{"replayed", Report{Sequence: 100, Timestamp: time.Now()}, ims.ECONFLICT, "not after the last accepted one, 100"},
		{"older", Report{Sequence: 7, Timestamp: time.Now()}, ims.ECONFLICT, "replay"},
		{"clock ahead", Report{Sequence: 101, Timestamp: time.Now().Add(2 * time.Minute)}, ims.EUNPROCESSABLE, "time synchronisation"},
		{"clock behind", Report{Sequence: 102, Timestamp: time.Now().Add(-2 * time.Minute)}, ims.EUNPROCESSABLE, "more than the 1m0s tolerated"},
		{"no timestamp", Report{Sequence: 103}, ims.EINVALID, "timestamp is required"},
		{"for another node", Report{NodeID: other.NodeID, Sequence: 104, Timestamp: time.Now()}, ims.EFORBIDDEN, "can only report for itself"},
		{"own, newer, on time", Report{NodeID: self.NodeID, Sequence: 105, Timestamp: time.Now().Add(30 * time.Second)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, call := range []func() error{
				func() error {
					_, err := svc.Heartbeat(ctx, node, HeartbeatRequest{Report: tt.report}, "")
					return err
				},
				func() error {
					r := tt.report
					r.Sequence += 1000 // the heartbeat above may have taken the sequence
					if tt.wantCode == ims.ECONFLICT {
						r.Sequence = tt.report.Sequence
					}
					return svc.ReportInventory(ctx, node, InventoryRequest{Report: r, Inventory: *testInventory("x")})
				},
			} {
				err := call()
				if got := ims.ErrorCode(err); got != tt.wantCode {
					t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
				}
				if err != nil && !strings.Contains(ims.ErrorMessage(err), tt.wantMsg) {
					t.Errorf("message %q lacks %q", ims.ErrorMessage(err), tt.wantMsg)
				}
			}
		})
	}
}

func TestInventoryChecks(t *testing.T) {
	svc, _ := newTestService(t, Options{MaxResources: 3})
	mutate := func(f func(*Inventory)) Inventory {
		inv := testInventory("h")
		f(inv)
		return *inv
	}
	tests := []struct {
		name    string
		inv     Inventory
		wantMsg string
	}{
		{"fine", *testInventory("h"), ""},
		{"no hash", mutate(func(i *Inventory) { i.Hash = "" }), "inventory.hash is required"},
		{"no resources", mutate(func(i *Inventory) { i.Resources = nil }), "lists no resources"},
		{"too many", mutate(func(i *Inventory) {
			for _, id := range []string{"a", "b"} {
				i.Resources = append(i.Resources, ims.Resource{ResourceID: id, ResourceTypeID: "t-nic", ParentID: "host"})
			}
		}), "more than 3"},
		{"duplicate id", mutate(func(i *Inventory) { i.Resources[1].ResourceID = "host" }), "listed twice"},
		{"unknown type", mutate(func(i *Inventory) { i.Resources[1].ResourceTypeID = "t-gpu" }), `resource type "t-gpu"`},
		{"unknown parent", mutate(func(i *Inventory) { i.Resources[1].ParentID = "elsewhere" }), `parent "elsewhere"`},
		{"two roots", mutate(func(i *Inventory) { i.Resources[1].ParentID = "" }), "2 resources without a parent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.checkInventory(tt.inv)
			if (err == nil) != (tt.wantMsg == "") || (err != nil && !strings.Contains(ims.ErrorMessage(err), tt.wantMsg)) {
				t.Errorf("err = %v, want %q", err, tt.wantMsg)
			}
		})
	}
}
