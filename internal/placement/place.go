package placement

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
)

// Pool is what placement knows of a resource pool.
type Pool struct {
	ID, Name string
	// Label is the value of the node label nephoran.io/resource-pool
	// that selects the pool's nodes.
	Label string
	// Provider is the provider type (kubernetes, aws, edge, …) and
	// ProviderName the registered provider's name; a rule naming either
	// matches.
	Provider, ProviderName string
	Region, Zone           string
	Labels                 map[string]string
	DeploymentManagerID    string
	// Deployable: a deployment manager that runs CNFs serves the pool.
	Deployable bool
	Healthy    bool
	Nodes      int
	// Utilization is the larger of the pool's cpu and memory request
	// ratios (0–1).
	Utilization float64
	// HasCapacity: the provider reports allocatable capacity.
	HasCapacity bool
	Allocatable Resources
	// Free is allocatable − requested − reserved.
	Free Resources
}

// Rules restrict and steer the choice of pools.
type Rules struct {
	// PoolIDs, when set, are the only pools considered.
	PoolIDs []string
	// Exclude maps pools that may not be used to why (re-placing a
	// component away from a failed pool and from its other parts).
	Exclude map[string]string
	// Providers and Regions, when set, keep pools of those; a region
	// also takes its numbered parts ("us-west" takes "us-west-2").
	Providers, Regions []string
	// Selector, when set, must match the pool's labels.
	Selector labels.Selector
	// MinCapacity is free capacity a pool must have before anything of
	// this deployment is placed on it.
	MinCapacity Resources
	// Spread is the number of distinct pools each component's replicas
	// are split over (at most its replica count); 0 or 1 keeps a
	// component in one pool.
	Spread int
	// PreferProviders raise the score of pools of those providers.
	PreferProviders []string
}

// Component is one part of a deployment: Replicas copies needing
// PerReplica each.
type Component struct {
	Name       string
	Replicas   int
	PerReplica Resources
}

// Request is what to place.
type Request struct {
	Components []Component
	Rules      Rules
	// UtilizationThreshold, when above 0, refuses pools at or above it.
	UtilizationThreshold float64
}

// Assignment puts Replicas of a component on a pool.
type Assignment struct {
	Component           string
	PoolID              string
	DeploymentManagerID string
	Replicas            int
	Requests            Resources
	Score               float64
}

// Decision explains what placement made of one pool.
type Decision struct {
	PoolID, PoolName string
	Eligible, Chosen bool
	// Score is the pool's score when it was first weighed (0 when it was
	// not eligible).
	Score   float64
	Reasons []string
}

// Plan is a placement: assignments in component order, a decision for
// every pool (by pool ID), and what the plan takes from each pool.
type Plan struct {
	Assignments []Assignment
	Decisions   []Decision
	Reserved    map[string]Resources
}

// NoFitError says why nothing could be placed, with every pool's decision.
type NoFitError struct {
	Reason    string
	Decisions []Decision
}

func (e *NoFitError) Error() string {
	var b strings.Builder
	b.WriteString(e.Reason)
	for _, d := range e.Decisions {
		name := d.PoolName
		if name == "" {
			name = d.PoolID
		}
		fmt.Fprintf(&b, "; pool %s: ", name)
		if len(d.Reasons) == 0 {
			b.WriteString("eligible")
		} else {
			b.WriteString(strings.Join(d.Reasons, ", "))
		}
	}
	if len(e.Decisions) == 0 {
		b.WriteString("; there are no resource pools")
	}
	return b.String()
}

// Score weights: headroom left after the assignment, current
// utilization, and provider preference.
const (
	weightHeadroom    = 0.6
	weightUtilization = 0.3
	weightPreference  = 0.1
)

// Place assigns every component's replicas to pools. Each component is
// split over max(1, min(spread, replicas)) distinct pools, evenly (the
// earlier shards take one more); each shard goes to the eligible pool
// with the highest score that still has room, ties broken by pool ID.
// It fails with a *NoFitError when a shard fits nowhere.
func Place(req Request, pools []Pool) (Plan, error) {
	sorted := slices.Clone(pools)
	slices.SortFunc(sorted, func(a, b Pool) int { return strings.Compare(a.ID, b.ID) })

	decisions := make([]Decision, 0, len(sorted))
	index := map[string]int{}
	free := map[string]Resources{}
	var eligible []Pool
	for _, p := range sorted {
		d := Decision{PoolID: p.ID, PoolName: p.Name}
		d.Reasons = refusals(req, p)
		d.Eligible = len(d.Reasons) == 0
		if d.Eligible {
			eligible = append(eligible, p)
			free[p.ID] = p.Free
		}
		index[p.ID] = len(decisions)
		decisions = append(decisions, d)
	}
	// Pools the rules name that do not exist.
	for _, id := range req.Rules.PoolIDs {
		if _, ok := index[id]; !ok {
			index[id] = len(decisions)
			decisions = append(decisions, Decision{PoolID: id, Reasons: []string{"no such resource pool"}})
		}
	}
	slices.SortFunc(decisions, func(a, b Decision) int { return strings.Compare(a.PoolID, b.PoolID) })
	for i, d := range decisions {
		index[d.PoolID] = i
	}
	fail := func(format string, args ...any) (Plan, error) {
		return Plan{}, &NoFitError{Reason: fmt.Sprintf(format, args...), Decisions: decisions}
	}
	if len(eligible) == 0 {
		return fail("no resource pool is eligible")
	}

	plan := Plan{Reserved: map[string]Resources{}}
	weighed := map[string]bool{}
	for _, c := range req.Components {
		replicas := max(1, c.Replicas)
		k := max(1, min(req.Rules.Spread, replicas))
		if k > len(eligible) {
			return fail("component %s is spread over %d pools but only %d are eligible", c.Name, k, len(eligible))
		}
		used := map[string]bool{}
		for shard := range k {
			n := replicas / k
			if shard < replicas%k {
				n++
			}
			need := c.PerReplica.Times(int64(n))
			best, bestScore := -1, -1.0
			for i, p := range eligible {
				if used[p.ID] {
					continue
				}
				f := free[p.ID]
				if !f.Covers(need) {
					addReason(&decisions[index[p.ID]], fmt.Sprintf("cannot take %d replica(s) of %s: %s", n, c.Name, f.Shortfall(need)))
					continue
				}
				s := score(req.Rules, p, f.Sub(need))
				if !weighed[p.ID] {
					weighed[p.ID] = true
					decisions[index[p.ID]].Score = s
				}
				if s > bestScore {
					best, bestScore = i, s
				}
			}
			if best < 0 {
				return fail("no eligible pool has room for %d replica(s) of %s (%s each)", n, c.Name, c.PerReplica)
			}
			p := eligible[best]
			used[p.ID] = true
			free[p.ID] = free[p.ID].Sub(need)
			plan.Reserved[p.ID] = plan.Reserved[p.ID].Add(need)
			d := &decisions[index[p.ID]]
			if !d.Chosen {
				d.Chosen = true
				d.Score = bestScore
			}
			plan.Assignments = append(plan.Assignments, Assignment{Component: c.Name, PoolID: p.ID, DeploymentManagerID: p.DeploymentManagerID, Replicas: n, Requests: need, Score: bestScore})
		}
	}
	for i := range decisions {
		if decisions[i].Eligible && !decisions[i].Chosen {
			addReason(&decisions[i], "not chosen: other pools scored higher")
		}
	}
	plan.Decisions = decisions
	return plan, nil
}

func addReason(d *Decision, r string) {
	if !slices.Contains(d.Reasons, r) {
		d.Reasons = append(d.Reasons, r)
	}
}

// refusals lists why a pool cannot take anything of this request.
func refusals(req Request, p Pool) []string {
	var out []string
	r := req.Rules
	if why, ok := r.Exclude[p.ID]; ok {
		out = append(out, why)
	}
	if len(r.PoolIDs) > 0 && !slices.Contains(r.PoolIDs, p.ID) {
		out = append(out, "not among the deployment's resourcePools")
	}
	if len(r.Providers) > 0 && !slices.Contains(r.Providers, p.Provider) && !slices.Contains(r.Providers, p.ProviderName) {
		out = append(out, fmt.Sprintf("provider %s is not among %s", providerOf(p), strings.Join(r.Providers, ", ")))
	}
	if len(r.Regions) > 0 && !slices.ContainsFunc(r.Regions, func(want string) bool { return inRegion(p.Region, want) }) {
		region := p.Region
		if region == "" {
			region = "(none)"
		}
		out = append(out, fmt.Sprintf("region %s is not among %s", region, strings.Join(r.Regions, ", ")))
	}
	if r.Selector != nil && !r.Selector.Matches(labels.Set(p.Labels)) {
		out = append(out, fmt.Sprintf("labels do not match %s", r.Selector.String()))
	}
	if !p.Deployable {
		out = append(out, "no deployment manager that runs CNFs serves it")
	}
	if !p.Healthy {
		out = append(out, "not healthy")
	}
	if !p.HasCapacity {
		out = append(out, "its capacity is unknown")
	} else if !p.Free.Covers(r.MinCapacity) {
		out = append(out, "below minCapacity: "+p.Free.Shortfall(r.MinCapacity))
	}
	if req.UtilizationThreshold > 0 && p.Utilization >= req.UtilizationThreshold {
		out = append(out, fmt.Sprintf("utilization %.2f is at or above the threshold %.2f", p.Utilization, req.UtilizationThreshold))
	}
	return out
}

// inRegion reports whether a pool's region is want or a zone-numbered
// part of it: "us-west-2" is in "us-west".
func inRegion(region, want string) bool {
	return region == want || (want != "" && strings.HasPrefix(region, want+"-"))
}

func providerOf(p Pool) string {
	switch {
	case p.ProviderName != "" && p.Provider != "" && p.ProviderName != p.Provider:
		return p.ProviderName + " (" + p.Provider + ")"
	case p.ProviderName != "":
		return p.ProviderName
	case p.Provider != "":
		return p.Provider
	}
	return "(none)"
}

// score weighs a pool for a shard: the smallest fraction of allocatable
// that stays free afterwards, how idle the pool is now, and preference.
func score(r Rules, p Pool, after Resources) float64 {
	headroom := 1.0
	frac := func(left, total int64) {
		if total > 0 {
			headroom = min(headroom, math.Max(0, float64(left)/float64(total)))
		}
	}
	frac(after.CPUMillis, p.Allocatable.CPUMillis)
	frac(after.MemoryBytes, p.Allocatable.MemoryBytes)
	frac(after.Pods, p.Allocatable.Pods)
	util := math.Min(1, math.Max(0, p.Utilization))
	pref := 0.0
	if slices.Contains(r.PreferProviders, p.Provider) || slices.Contains(r.PreferProviders, p.ProviderName) {
		pref = 1
	}
	s := weightHeadroom*headroom + weightUtilization*(1-util) + weightPreference*pref
	return math.Round(s*1000) / 1000
}
