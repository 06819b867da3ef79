package inventory

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/tracing"
	"go.opentelemetry.io/otel/attribute"
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
	// LastDuration is how long the last discovery and its storing took.
	LastDuration time.Duration
	// Failures counts the failed discoveries since the server started.
	Failures int
	// Objects counts the objects of the last successful discovery by kind
	// (resourceTypes, resourcePools, resources, deploymentManagers).
	Objects map[string]int
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

// Watcher is a provider that can tell when its source changed, so that a
// sync follows within moments instead of at the next interval. Watch blocks
// until ctx ends, calling changed (which never blocks) on every change.
type Watcher interface {
	Watch(ctx context.Context, changed func())
}

// Intervaler is a provider with its own refresh interval (for example a
// short one, so that an unreachable cluster is noticed quickly).
type Intervaler interface {
	RefreshInterval() time.Duration
}

// Syncer keeps the store in step with the providers by running each
// provider's discovery periodically (and on change, for Watchers) and
// applying the snapshot. Providers can be added and removed while it runs.
type Syncer struct {
	store     Store
	interval  time.Duration
	logger    *slog.Logger
	observers []Observer

	mu      sync.Mutex
	place   Place // the O-Cloud's default location
	order   []string
	status  map[string]*ProviderStatus
	provs   map[string]Provider
	running map[string]*runningProvider
	runCtx  context.Context
	wg      sync.WaitGroup
}

type runningProvider struct {
	cancel  context.CancelFunc
	done    chan struct{}
	trigger chan struct{}
}

// NewSyncer returns a Syncer refreshing every interval.
func NewSyncer(store Store, providers []Provider, interval time.Duration, logger *slog.Logger, observers ...Observer) *Syncer {
	s := &Syncer{store: store, interval: interval, logger: logger, observers: observers,
		status: map[string]*ProviderStatus{}, provs: map[string]Provider{}, running: map[string]*runningProvider{}}
	for _, p := range providers {
		_ = s.Add(p)
	}
	return s
}

// Run syncs every provider now and then periodically, until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	s.mu.Lock()
	s.runCtx = ctx
	for _, name := range s.order {
		s.startLocked(s.provs[name])
	}
	s.mu.Unlock()
	<-ctx.Done()
	s.wg.Wait()
}

// Add registers a provider; it starts syncing at once when the Syncer runs.
func (s *Syncer) Add(p Provider) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.provs[p.Name()]; ok {
		return ims.Errorf(ims.ECONFLICT, "a provider named %q exists already", p.Name())
	}
	s.provs[p.Name()] = p
	s.order = append(s.order, p.Name())
	s.status[p.Name()] = &ProviderStatus{Name: p.Name()}
	if s.runCtx != nil {
		s.startLocked(p)
	}
	return nil
}

// Remove stops a provider and deletes the inventory it reported.
func (s *Syncer) Remove(ctx context.Context, name string) error {
	s.mu.Lock()
	if _, ok := s.provs[name]; !ok {
		s.mu.Unlock()
		return ims.Errorf(ims.ENOTFOUND, "provider %q not found", name)
	}
	r := s.running[name]
	prov := s.provs[name]
	delete(s.provs, name)
	delete(s.running, name)
	delete(s.status, name)
	for i, n := range s.order {
		if n == name {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.done
	}
	if c, ok := prov.(interface{ Close() error }); ok {
		if err := c.Close(); err != nil {
			s.logger.Warn("closing provider", "provider", name, "err", err)
		}
	}
	sets, err := s.objectSets(ctx, name, "", ims.Snapshot{})
	if err != nil {
		return err
	}
	changes, err := s.store.ApplySnapshot(ctx, name, sets)
	if err != nil {
		return err
	}
	s.logger.Info("provider removed with its inventory", "provider", name, "changes", len(changes))
	for _, o := range s.observers {
		o.Synced(ctx, name, changes)
	}
	return nil
}

func (s *Syncer) startLocked(p Provider) {
	ctx, cancel := context.WithCancel(s.runCtx)
	r := &runningProvider{cancel: cancel, done: make(chan struct{}), trigger: make(chan struct{}, 1)}
	s.running[p.Name()] = r
	s.wg.Go(func() {
		defer close(r.done)
		s.loop(ctx, p, r.trigger)
	})
}

// Refresh asks every running provider for a sync within moments (the
// operator changed a site or location the pools show).
func (s *Syncer) Refresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.running {
		select {
		case r.trigger <- struct{}{}:
		default:
		}
	}
}

// loop syncs p now, then every interval and, for a Watcher, shortly after
// each change (changes arriving together are synced once).
func (s *Syncer) loop(ctx context.Context, p Provider, trigger chan struct{}) {
	interval := s.interval
	if iv, ok := p.(Intervaler); ok && iv.RefreshInterval() > 0 {
		interval = iv.RefreshInterval()
	}
	if w, ok := p.(Watcher); ok {
		var wg sync.WaitGroup
		defer wg.Wait()
		wg.Go(func() {
			w.Watch(ctx, func() {
				select {
				case trigger <- struct{}{}:
				default:
				}
			})
		})
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.SyncOnce(ctx, p); err != nil && ctx.Err() == nil {
			s.logger.Warn("inventory sync failed", "provider", p.Name(), "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-trigger:
			// Let a burst of changes settle into one sync.
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// builtinSource owns the inventory objects the IMS publishes about the
// O-Cloud itself; no provider name can take this form.
const builtinSource = "@o-cloud"

// Place is the O-Cloud's default location: the one its own site (the
// local host's) is at, and the one a provider's site is at unless the
// provider says otherwise.
type Place struct {
	Location ims.Location
}

// PublishBuiltin stores the objects of the O-Cloud itself, its resource
// type and its default location, as a provider's snapshot is stored, with
// notifications of any change.
func (s *Syncer) PublishBuiltin(ctx context.Context, place Place) error {
	if err := ValidateLocation(place.Location); err != nil {
		return fmt.Errorf("the O-Cloud's default location: %w", err)
	}
	s.mu.Lock()
	s.place = place
	s.mu.Unlock()
	types := sqlstore.ObjectSet{Schema: ResourceTypeSchema}
	if err := addDoc(&types, ims.OCloudResourceTypeID, ims.OCloudResourceType()); err != nil {
		return err
	}
	locs := sqlstore.ObjectSet{Schema: LocationSchema}
	if err := addDoc(&locs, place.Location.GlobalLocationID, place.Location); err != nil {
		return err
	}
	_, err := s.store.ApplySnapshot(ctx, builtinSource, []sqlstore.ObjectSet{types, locs})
	return err
}

// PublishConfig stores the locations and sites of the configuration file,
// replacing those of the previous start. A site's location must be among
// them or already stored.
func (s *Syncer) PublishConfig(ctx context.Context, locations []ims.Location, sites []ims.OCloudSite) error {
	locs := sqlstore.ObjectSet{Schema: LocationSchema}
	known := map[string]bool{}
	for i, l := range locations {
		if err := ValidateLocation(l); err != nil {
			return fmt.Errorf("locations[%d]: %w", i, err)
		}
		known[l.GlobalLocationID] = true
		if err := addDoc(&locs, l.GlobalLocationID, l); err != nil {
			return err
		}
	}
	set := sqlstore.ObjectSet{Schema: OCloudSiteSchema}
	for i, site := range sites {
		if err := ValidateSite(site); err != nil {
			return fmt.Errorf("oCloudSites[%d]: %w", i, err)
		}
		if !known[site.GlobalLocationID] {
			if _, err := s.store.Get(ctx, LocationSchema, site.GlobalLocationID); err != nil {
				return fmt.Errorf("oCloudSites[%d]: globalLocationId %q: no such location", i, site.GlobalLocationID)
			}
		}
		if err := addDoc(&set, site.OCloudSiteID, site); err != nil {
			return err
		}
	}
	_, err := s.store.ApplySnapshot(ctx, SourceConfig, []sqlstore.ObjectSet{locs, set})
	return err
}

// SyncOnce runs one discovery of p and applies it, returning the changes.
func (s *Syncer) SyncOnce(ctx context.Context, p Provider) (_ []sqlstore.Change, err error) {
	ctx, span := tracing.Start(ctx, "inventory.sync", attribute.String("o2ims.provider", p.Name()))
	defer func() { tracing.End(span, err) }()
	start := time.Now()
	changes, counts, err := s.sync(ctx, p)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	s.mu.Lock()
	st := s.status[p.Name()]
	if st == nil {
		st = &ProviderStatus{Name: p.Name()}
		s.status[p.Name()] = st
	}
	st.LastAttempt = start
	st.LastDuration = time.Since(start)
	if err != nil {
		st.LastError, st.Healthy = err.Error(), false
		st.Failures++
	} else {
		st.LastSuccess, st.LastError, st.Healthy = start, "", true
		st.Objects = counts
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

func (s *Syncer) sync(ctx context.Context, p Provider) ([]sqlstore.Change, map[string]int, error) {
	snap, err := p.Discover(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("discover: %w", err)
	}
	oCloudID, err := s.store.OCloudID(ctx)
	if err != nil {
		return nil, nil, err
	}
	sets, err := s.objectSets(ctx, p.Name(), oCloudID, snap)
	if err != nil {
		return nil, nil, err
	}
	counts := map[string]int{
		"resourceTypes": len(snap.ResourceTypes), "resourcePools": len(snap.ResourcePools),
		"resources": len(snap.Resources), "deploymentManagers": len(snap.DeploymentManagers),
	}
	changes, err := s.store.ApplySnapshot(ctx, p.Name(), sets)
	return changes, counts, err
}

// Status reports each provider's last sync, in the order they were added.
func (s *Syncer) Status() []ProviderStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProviderStatus, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, *s.status[name])
	}
	return out
}

// Provider returns a running provider by name.
func (s *Syncer) Provider(name string) (Provider, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.provs[name]
	return p, ok
}

// ProviderStatus returns the status of one provider.
func (s *Syncer) ProviderStatus(name string) (ProviderStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.status[name]
	if !ok {
		return ProviderStatus{}, false
	}
	return *st, true
}

// objectSets turns provider's snapshot into the store's object sets: it
// puts pools without a site in the provider's default site and sites
// without a location at the O-Cloud's default location, and fills in what
// v1 shows of a pool's place (the O-Cloud id, the site's location) and a
// deployment manager's supportedLocations (its provider's locations).
func (s *Syncer) objectSets(ctx context.Context, provider, oCloudID string, snap ims.Snapshot) ([]sqlstore.ObjectSet, error) {
	s.mu.Lock()
	place := s.place
	s.mu.Unlock()
	sites := map[string]ims.OCloudSite{}
	siteSet := sqlstore.ObjectSet{Schema: OCloudSiteSchema}
	addSite := func(site ims.OCloudSite) error {
		if site.GlobalLocationID == "" {
			site.GlobalLocationID = place.Location.GlobalLocationID
		}
		sites[site.OCloudSiteID] = site
		return addDoc(&siteSet, site.OCloudSiteID, site)
	}
	for _, site := range snap.Sites {
		if err := addSite(site); err != nil {
			return nil, err
		}
	}
	defaultSite := DefaultSiteID(provider)
	locations := map[string]*ims.Location{place.Location.GlobalLocationID: &place.Location}
	locationOf := func(siteID string) (*ims.Location, error) {
		site, ok := sites[siteID]
		if !ok {
			doc, err := s.store.Get(ctx, OCloudSiteSchema, siteID)
			if ims.ErrorCode(err) == ims.ENOTFOUND {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(doc, &site); err != nil {
				return nil, ims.Internal(fmt.Errorf("decode site %s: %w", siteID, err), "storing inventory failed")
			}
			sites[siteID] = site
		}
		if l, ok := locations[site.GlobalLocationID]; ok {
			return l, nil
		}
		var l *ims.Location
		doc, err := s.store.Get(ctx, LocationSchema, site.GlobalLocationID)
		switch {
		case err == nil:
			l = new(ims.Location)
			if err := json.Unmarshal(doc, l); err != nil {
				return nil, ims.Internal(fmt.Errorf("decode location %s: %w", site.GlobalLocationID, err), "storing inventory failed")
			}
		case ims.ErrorCode(err) != ims.ENOTFOUND:
			return nil, err
		}
		locations[site.GlobalLocationID] = l
		return l, nil
	}

	types := sqlstore.ObjectSet{Schema: ResourceTypeSchema}
	for _, t := range snap.ResourceTypes {
		if err := addDoc(&types, t.ResourceTypeID, t); err != nil {
			return nil, err
		}
	}
	pools := sqlstore.ObjectSet{Schema: ResourcePoolSchema}
	var poolLocations []string
	for _, p := range snap.ResourcePools {
		p.OCloudID = oCloudID
		if p.OCloudSiteID == "" {
			p.OCloudSiteID = defaultSite
			if _, ok := sites[defaultSite]; !ok {
				err := addSite(ims.OCloudSite{
					OCloudSiteID: defaultSite, Name: provider,
					Description: "The resource pools of provider " + provider + " that name no site of their own",
					Extensions:  ims.Extensions{"providerName": provider},
				})
				if err != nil {
					return nil, err
				}
			}
		}
		l, err := locationOf(p.OCloudSiteID)
		if err != nil {
			return nil, err
		}
		if l != nil && l.GlobalLocationID != "" {
			p.GlobalLocationID = l.GlobalLocationID
			p.Location = cmp.Or(l.Address, l.Name)
			if !slices.Contains(poolLocations, l.GlobalLocationID) {
				poolLocations = append(poolLocations, l.GlobalLocationID)
			}
		}
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
		if len(d.SupportedLocations) == 0 {
			d.SupportedLocations = poolLocations
		}
		if err := addDoc(&dms, d.DeploymentManagerID, d); err != nil {
			return nil, err
		}
	}
	return []sqlstore.ObjectSet{siteSet, types, pools, resources, dms}, nil
}

// siteNamespace derives the ids of providers' default sites.
var siteNamespace = uuid.MustParse("0c10ad00-0000-5000-8000-0000000051e0")

// DefaultSiteID is the id of the site a provider's pools are in when
// they name none; it is the same on every installation.
func DefaultSiteID(provider string) string {
	return uuid.NewSHA1(siteNamespace, []byte("site/"+provider)).String()
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
