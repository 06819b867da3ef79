package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Provider is an inventory source: the local host, a Kubernetes cluster, a
// cloud account. Discover reports everything the source currently holds.
type Provider interface {
	Name() string
	Discover(ctx context.Context) (ims.Snapshot, error)
}

// ProviderStatus is the outcome of a provider's most recent discoveries.
type ProviderStatus struct {
	Name        string
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string
	Healthy     bool
}

// Observer is told the outcome of every sync: the alarm raisers and the
// notification dispatcher react to it.
type Observer interface {
	// Synced reports a successful sync and the changes it committed
	// (possibly none).
	Synced(ctx context.Context, provider string, changes []sqlstore.Change)
	// SyncFailed reports a failed discovery or store update.
	SyncFailed(ctx context.Context, provider string, err error)
}

// Syncer keeps the store in step with the providers by running each
// provider's discovery periodically and applying the snapshot.
type Syncer struct {
	store     Store
	providers []Provider
	interval  time.Duration
	logger    *slog.Logger
	observers []Observer

	mu     sync.Mutex
	status map[string]*ProviderStatus
}

// NewSyncer returns a Syncer refreshing every interval.
func NewSyncer(store Store, providers []Provider, interval time.Duration, logger *slog.Logger, observers ...Observer) *Syncer {
	st := make(map[string]*ProviderStatus, len(providers))
	for _, p := range providers {
		st[p.Name()] = &ProviderStatus{Name: p.Name()}
	}
	return &Syncer{store: store, providers: providers, interval: interval, logger: logger, observers: observers, status: st}
}

// Run syncs every provider at once and then every interval, until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, p := range s.providers {
		wg.Go(func() {
			t := time.NewTicker(s.interval)
			defer t.Stop()
			for {
				if _, err := s.SyncOnce(ctx, p); err != nil && ctx.Err() == nil {
					s.logger.Warn("inventory sync failed", "provider", p.Name(), "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

// SyncOnce runs one discovery of p and applies it, returning the changes.
func (s *Syncer) SyncOnce(ctx context.Context, p Provider) ([]sqlstore.Change, error) {
	start := time.Now()
	changes, err := s.sync(ctx, p)
	s.mu.Lock()
	st := s.status[p.Name()]
	if st == nil {
		st = &ProviderStatus{Name: p.Name()}
		s.status[p.Name()] = st
	}
	st.LastAttempt = start
	if err != nil {
		st.LastError, st.Healthy = err.Error(), false
	} else {
		st.LastSuccess, st.LastError, st.Healthy = start, "", true
	}
	s.mu.Unlock()
	if err != nil {
		for _, o := range s.observers {
			o.SyncFailed(ctx, p.Name(), err)
		}
		return nil, err
	}
	if len(changes) > 0 {
		s.logger.Info("inventory changed", "provider", p.Name(), "changes", len(changes), "duration", time.Since(start))
	}
	for _, o := range s.observers {
		o.Synced(ctx, p.Name(), changes)
	}
	return changes, nil
}

func (s *Syncer) sync(ctx context.Context, p Provider) ([]sqlstore.Change, error) {
	snap, err := p.Discover(ctx)
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	oCloudID, err := s.store.OCloudID(ctx)
	if err != nil {
		return nil, err
	}
	sets, err := objectSets(oCloudID, snap)
	if err != nil {
		return nil, err
	}
	return s.store.ApplySnapshot(ctx, p.Name(), sets)
}

// Status reports each provider's last sync, sorted as configured.
func (s *Syncer) Status() []ProviderStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProviderStatus, 0, len(s.providers))
	for _, p := range s.providers {
		out = append(out, *s.status[p.Name()])
	}
	return out
}

// objectSets turns a snapshot into the store's object sets, stamping the
// O-Cloud id on pools and deployment managers.
func objectSets(oCloudID string, snap ims.Snapshot) ([]sqlstore.ObjectSet, error) {
	types := sqlstore.ObjectSet{Schema: ResourceTypeSchema}
	for _, t := range snap.ResourceTypes {
		if err := addDoc(&types, t.ResourceTypeID, t); err != nil {
			return nil, err
		}
	}
	pools := sqlstore.ObjectSet{Schema: ResourcePoolSchema}
	for _, p := range snap.ResourcePools {
		p.OCloudID = oCloudID
		if err := addDoc(&pools, p.ResourcePoolID, p); err != nil {
			return nil, err
		}
	}
	resources := sqlstore.ObjectSet{Schema: ResourceSchema}
	for _, r := range snap.Resources {
		if err := addDoc(&resources, r.ResourceID, r); err != nil {
			return nil, err
		}
	}
	dms := sqlstore.ObjectSet{Schema: DeploymentManagerSchema}
	for _, d := range snap.DeploymentManagers {
		d.OCloudID = oCloudID
		if err := addDoc(&dms, d.DeploymentManagerID, d); err != nil {
			return nil, err
		}
	}
	return []sqlstore.ObjectSet{types, pools, resources, dms}, nil
}

func addDoc(set *sqlstore.ObjectSet, id string, v any) error {
	if id == "" {
		return ims.Errorf(ims.EINVALID, "a %s without an identifier was reported", set.Schema.Object)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ims.Internal(fmt.Errorf("encode %s %s: %w", set.Schema.Name, id, err), "storing inventory failed")
	}
	set.Docs = append(set.Docs, sqlstore.Doc{ID: id, JSON: b})
	return nil
}
