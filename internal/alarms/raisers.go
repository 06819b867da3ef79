package alarms

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// HealthAlarmExtension is the resource extension naming the alarm its
// provider raises for its health (see Raisers).
const HealthAlarmExtension = "healthAlarm"

// Fingerprint prefixes of the built-in raisers.
const (
	fpProviderDown = "provider-down/"
	fpUtilization  = "utilization/"
	fpUnhealthy    = "unhealthy/"
	fpDisappeared  = "disappeared/"
)

// Raisers turn inventory sync outcomes into alarms. It implements
// inventory.Observer.
//
// Conventions providers follow to get alarms: a resource pool publishes
// extensions.utilization {cpu, memory} as fractions 0..1; a resource
// publishes extensions.healthy=false when it is unhealthy, and
// extensions.healthAlarm (HealthAlarmExtension) naming the alarm its
// provider raises itself when it does, so that an outage raises that one
// alone, not O2IMSResourceUnhealthy beside it.
type Raisers struct {
	svc       *Service
	store     collection.Store
	threshold float64
	logger    *slog.Logger

	mu sync.Mutex
	// expected are the resources whose removal the IMS itself asked for,
	// with when that expectation lapses.
	expected map[string]time.Time
	now      func() time.Time
}

// expectedRemovalTTL bounds how long an expected removal waits for the
// sync that sees it.
const expectedRemovalTTL = time.Hour

// NewRaisers returns the built-in raisers. threshold is the utilization
// fraction above which a pool alarm is raised (0 means 0.9).
func NewRaisers(svc *Service, store collection.Store, threshold float64, logger *slog.Logger) *Raisers {
	if threshold <= 0 {
		threshold = 0.9
	}
	return &Raisers{svc: svc, store: store, threshold: threshold, logger: logger, expected: map[string]time.Time{}, now: time.Now}
}

// ExpectRemoval says that the IMS itself removes these resources (an edge
// node the operator deleted, the machines of a deleted provisioning
// request): when they leave the inventory within the hour, no
// O2IMSResourceDisappeared is raised for them.
func (r *Raisers) ExpectRemoval(ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for id, until := range r.expected {
		if now.After(until) {
			delete(r.expected, id)
		}
	}
	for _, id := range ids {
		r.expected[id] = now.Add(expectedRemovalTTL)
	}
}

// removalExpected reports, once, whether the removal of id was expected.
func (r *Raisers) removalExpected(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.expected[id]
	delete(r.expected, id)
	return ok && !r.now().After(until)
}

var _ inventory.Observer = (*Raisers)(nil)

// SyncFailed raises O2IMSProviderDown for the provider. While the alarm is
// open, further failures leave it as it is: error texts often vary from one
// attempt to the next (a DNS error names a fresh source port, a timeout its
// duration), and each variation would otherwise be a CHANGE notification
// on every refresh for as long as the provider is down. The alarm keeps the
// error that opened it.
func (r *Raisers) SyncFailed(ctx context.Context, provider string, err error) {
	d := Definition(ProviderDown)
	fp := fpProviderDown + provider
	open, oerr := r.svc.store.OpenAlarmFingerprints(ctx, fp)
	if oerr != nil {
		r.logger.Warn("reading provider-down alarms failed", "provider", provider, "err", oerr)
		return
	}
	if _, ok := open[fp]; ok {
		return
	}
	_, rerr := r.svc.Raise(ctx, Condition{
		Fingerprint: fp,
		Definition:  d,
		Severity:    d.Severity,
		Extensions:  ims.Extensions{"provider": provider, "error": truncate(err.Error(), 512), "alarmName": d.AlarmName},
	})
	if rerr != nil {
		r.logger.Warn("raising provider-down alarm failed", "provider", provider, "err", rerr)
	}
}

// Synced clears the provider's O2IMSProviderDown alarm, raises
// O2IMSResourceDisappeared for removed resources, and re-evaluates the
// utilization and health alarms.
func (r *Raisers) Synced(ctx context.Context, provider string, changes []sqlstore.Change) {
	if err := r.svc.Resolve(ctx, fpProviderDown+provider); err != nil {
		r.logger.Warn("clearing provider-down alarm failed", "provider", provider, "err", err)
	}
	d := Definition(ResourceDisappeared)
	for _, c := range changes {
		if c.Schema != inventory.ResourceSchema || c.Op != sqlstore.OpDelete || r.removalExpected(c.ID) {
			continue
		}
		var res ims.Resource
		_ = json.Unmarshal(c.Prior, &res)
		if _, err := r.svc.Raise(ctx, Condition{
			Fingerprint:    fpDisappeared + c.ID,
			Definition:     d,
			Severity:       d.Severity,
			ResourceID:     c.ID,
			ResourceTypeID: res.ResourceTypeID,
			Extensions:     ims.Extensions{"provider": provider, "resourcePoolId": res.ResourcePoolID, "description": res.Description, "alarmName": d.AlarmName},
		}); err != nil {
			r.logger.Warn("raising resource-disappeared alarm failed", "resource", c.ID, "err", err)
		}
	}
	// The level-based alarms are recomputed on every sync, not only on
	// changes, so that one failed pass heals on the next.
	if err := r.reconcileHealth(ctx); err != nil {
		r.logger.Warn("health alarms", "err", err)
	}
	if err := r.reconcileUtilization(ctx); err != nil {
		r.logger.Warn("utilization alarms", "err", err)
	}
}

// each calls fn for every object of sc matching filter, page by page.
func (r *Raisers) each(ctx context.Context, sc *query.Schema, filter string, fn func(doc json.RawMessage) error) error {
	f, err := query.ParseFilter(filter)
	if err != nil {
		return err
	}
	return collection.Each(ctx, r.store, sc, f, fn)
}

func (r *Raisers) reconcileHealth(ctx context.Context) error {
	d := Definition(ResourceUnhealthy)
	var want []Condition
	err := r.each(ctx, inventory.ResourceSchema, "(eq,extensions/healthy,false)", func(doc json.RawMessage) error {
		var res ims.Resource
		if err := json.Unmarshal(doc, &res); err != nil {
			return err
		}
		if _, ok := res.Extensions[HealthAlarmExtension].(string); ok {
			// Its provider raises a more specific alarm for this
			// outage; a second one would only repeat it.
			return nil
		}
		ext := ims.Extensions{"resourcePoolId": res.ResourcePoolID, "description": res.Description, "alarmName": d.AlarmName}
		if reason, ok := res.Extensions["healthReason"]; ok {
			ext["reason"] = reason
		}
		want = append(want, Condition{Fingerprint: fpUnhealthy + res.ResourceID, Definition: d, Severity: d.Severity,
			ResourceID: res.ResourceID, ResourceTypeID: res.ResourceTypeID, Extensions: ext})
		return nil
	})
	if err != nil {
		return err
	}
	return r.svc.Reconcile(ctx, fpUnhealthy, want)
}

func (r *Raisers) reconcileUtilization(ctx context.Context) error {
	d := Definition(PoolUtilization)
	var want []Condition
	err := r.each(ctx, inventory.ResourcePoolSchema, "", func(doc json.RawMessage) error {
		var pool ims.ResourcePool
		if err := json.Unmarshal(doc, &pool); err != nil {
			return err
		}
		u, _ := pool.Extensions["utilization"].(map[string]any)
		// Only which resources are over the threshold goes into the
		// alarm: the values move on every sync and would turn each into a
		// CHANGE notification. The pool carries the current values.
		var over []string
		for _, k := range []string{"cpu", "memory"} {
			if v, ok := u[k].(float64); ok && v > r.threshold {
				over = append(over, k)
			}
		}
		if len(over) == 0 {
			return nil
		}
		want = append(want, Condition{Fingerprint: fpUtilization + pool.ResourcePoolID, Definition: d, Severity: d.Severity,
			Extensions: ims.Extensions{"resourcePoolId": pool.ResourcePoolID, "poolName": pool.Name, "overThreshold": over, "threshold": r.threshold, "alarmName": d.AlarmName}})
		return nil
	})
	if err != nil {
		return fmt.Errorf("pools: %w", err)
	}
	return r.svc.Reconcile(ctx, fpUtilization, want)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
