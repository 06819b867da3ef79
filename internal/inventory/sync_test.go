package inventory_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// watchedProvider reports a pool whose name the test changes, and tells
// the syncer through Watch.
type watchedProvider struct {
	mu      sync.Mutex
	name    string
	fail    bool
	changed func()
	ready   chan struct{}
}

func (p *watchedProvider) Name() string { return "watched" }

func (p *watchedProvider) Discover(context.Context) (ims.Snapshot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return ims.Snapshot{}, errors.New("source unreachable")
	}
	return ims.Snapshot{ResourcePools: []ims.ResourcePool{{ResourcePoolID: "p1", Name: p.name}}}, nil
}

// RefreshInterval is long, so only Watch can explain a prompt sync.
func (p *watchedProvider) RefreshInterval() time.Duration { return time.Hour }

func (p *watchedProvider) Watch(ctx context.Context, changed func()) {
	p.mu.Lock()
	p.changed = changed
	p.mu.Unlock()
	close(p.ready)
	<-ctx.Done()
}

func (p *watchedProvider) set(name string, fail bool) {
	p.mu.Lock()
	p.name, p.fail = name, fail
	fn := p.changed
	p.mu.Unlock()
	fn()
}

type recorder struct {
	mu     sync.Mutex
	synced int
	failed []string
}

func (r *recorder) Synced(context.Context, string, []sqlstore.Change) {
	r.mu.Lock()
	r.synced++
	r.mu.Unlock()
}

func (r *recorder) SyncFailed(_ context.Context, _ string, err error) {
	r.mu.Lock()
	r.failed = append(r.failed, err.Error())
	r.mu.Unlock()
}

func poolName(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	docs, _, _, err := s.List(context.Background(), inventory.ResourcePoolSchema, query.Filter{}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		return ""
	}
	var p ims.ResourcePool
	_ = json.Unmarshal(docs[0], &p)
	return p.Name
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not reached: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSyncerWatchAddRemove: a provider added to a running syncer syncs at
// once, a watch event brings a change in promptly, a failure is reported
// and recorded, and removing the provider deletes its inventory.
func TestSyncerWatchAddRemove(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		store := sqlstoretest.Open(t, b)
		rec := &recorder{}
		syncer := inventory.NewSyncer(store, nil, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)), rec)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { syncer.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		p := &watchedProvider{name: "first", ready: make(chan struct{})}
		if err := syncer.Add(p); err != nil {
			t.Fatal(err)
		}
		if err := syncer.Add(p); ims.ErrorCode(err) != ims.ECONFLICT {
			t.Fatalf("adding a provider twice: %v", err)
		}
		eventually(t, "first sync", func() bool { return poolName(t, store) == "first" })
		<-p.ready
		p.set("second", false)
		eventually(t, "watched change synced", func() bool { return poolName(t, store) == "second" })

		p.set("second", true)
		eventually(t, "failure reported", func() bool {
			st, _ := syncer.ProviderStatus("watched")
			return !st.Healthy && st.LastError != ""
		})
		rec.mu.Lock()
		failed := len(rec.failed)
		rec.mu.Unlock()
		if failed == 0 {
			t.Fatal("observer not told of the failure")
		}
		if poolName(t, store) != "second" {
			t.Fatal("a failed discovery changed the inventory")
		}

		if err := syncer.Remove(context.Background(), "watched"); err != nil {
			t.Fatal(err)
		}
		if poolName(t, store) != "" {
			t.Fatal("removed provider's inventory remains")
		}
		if _, ok := syncer.ProviderStatus("watched"); ok {
			t.Fatal("removed provider still has a status")
		}
		if err := syncer.Remove(context.Background(), "watched"); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Fatalf("removing twice: %v", err)
		}
	})
}
