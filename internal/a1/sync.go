package a1

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/deployment"
)

// The policy templates the IMS keeps on the RIC for its deployments.
const (
	// QoSOptimization is resource-pool level: one policy per pool a
	// deployment runs on, with the instances and resources there.
	QoSOptimization = "qos-optimization"
	// TrafficSteering is deployment level: how a deployment's traffic is
	// shared among its pools.
	TrafficSteering = "traffic-steering"
	// Recovery is deployment level, while a deployment is DEGRADED.
	Recovery = "recovery"
)

// Templates lists the templates in the order policies are written.
var Templates = []string{QoSOptimization, TrafficSteering, Recovery}

// CondSynced is the deployment condition saying whether its A1 policies
// are in place on the RIC.
const CondSynced = "A1PolicySynced"

// policyPrefix starts the id of every policy the IMS owns; others on the
// RIC are never touched.
const policyPrefix = "o2ims-"

// PolicyClient is the part of the A1-P client the syncer uses.
type PolicyClient interface {
	Policies(ctx context.Context, typeID string) ([]string, error)
	PutPolicy(ctx context.Context, typeID, policyID string, body json.RawMessage) (bool, error)
	DeletePolicy(ctx context.Context, typeID, policyID string) error
}

// Deployments is what the syncer reads and reports on.
type Deployments interface {
	All(ctx context.Context) ([]deployment.Deployment, error)
	SetCondition(ctx context.Context, id string, c deployment.Condition) error
}

// SyncOptions tune the syncer.
type SyncOptions struct {
	// Interval between full syncs (30s); deployment changes also
	// trigger one (Kick).
	Interval time.Duration
	// PolicyTypes maps each template to the RIC's policy type id; a
	// template without one is not used. Nil maps each template to a type
	// of its own name.
	PolicyTypes map[string]string
}

// Policy is one policy the IMS wants on the RIC.
type Policy struct {
	Template     string
	TypeID       string
	ID           string
	DeploymentID string
	Body         json.RawMessage
}

// Syncer keeps the RIC's A1 policies in step with the deployments:
// level-triggered, so a RIC that was down, or an IMS restart, loses no
// update.
type Syncer struct {
	client PolicyClient
	deps   Deployments
	opts   SyncOptions
	logger *slog.Logger
	kick   chan struct{}
	// written is the hash of the body last PUT per policy type and id,
	// to skip PUTs of unchanged policies.
	written map[string]string
}

// NewSyncer returns a syncer.
func NewSyncer(client PolicyClient, deps Deployments, opts SyncOptions, logger *slog.Logger) *Syncer {
	if opts.Interval <= 0 {
		opts.Interval = 30 * time.Second
	}
	if opts.PolicyTypes == nil {
		opts.PolicyTypes = map[string]string{}
		for _, t := range Templates {
			opts.PolicyTypes[t] = t
		}
	}
	return &Syncer{client: client, deps: deps, opts: opts, logger: logger, kick: make(chan struct{}, 1), written: map[string]string{}}
}

// Kick asks for a sync soon (after a deployment changed).
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run syncs every interval and when kicked, until ctx ends.
func (s *Syncer) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		if err := s.SyncOnce(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("A1 policy sync failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// SyncOnce brings the RIC's policies of the IMS to what the deployments
// ask for: PUTs new and changed policies, DELETEs those of deployments
// that are gone or no longer run, and records on each deployment whether
// its policies are in place.
func (s *Syncer) SyncOnce(ctx context.Context) error {
	deps, err := s.deps.All(ctx)
	if err != nil {
		return fmt.Errorf("read deployments: %w", err)
	}
	want := Desired(deps, s.opts.PolicyTypes)
	failures := map[string][]string{} // deployment id → what failed
	unavailable := map[string]bool{}  // deployment id → the RIC did not answer
	var errs []error

	// What the RIC has, per type in use.
	have := map[string]map[string]bool{}
	for _, typeID := range s.typeIDs() {
		ids, err := s.client.Policies(ctx, typeID)
		if err != nil {
			errs = append(errs, fmt.Errorf("list policies of type %s: %w", typeID, err))
			for _, p := range want {
				if p.TypeID == typeID {
					failures[p.DeploymentID] = append(failures[p.DeploymentID], "cannot list policies of type "+typeID+": "+err.Error())
					unavailable[p.DeploymentID] = unavailable[p.DeploymentID] || Retryable(err)
				}
			}
			continue
		}
		have[typeID] = map[string]bool{}
		for _, id := range ids {
			if strings.HasPrefix(id, policyPrefix) {
				have[typeID][id] = true
			}
		}
	}

	wanted := map[string]bool{}
	for _, p := range want {
		key := p.TypeID + "/" + p.ID
		wanted[key] = true
		ids, listed := have[p.TypeID]
		if !listed {
			continue
		}
		sum := hash(p.Body)
		if ids[p.ID] && s.written[key] == sum {
			continue
		}
		if _, err := s.client.PutPolicy(ctx, p.TypeID, p.ID, p.Body); err != nil {
			errs = append(errs, fmt.Errorf("put policy %s: %w", key, err))
			failures[p.DeploymentID] = append(failures[p.DeploymentID], fmt.Sprintf("%s policy %s: %v", p.Template, p.ID, err))
			unavailable[p.DeploymentID] = unavailable[p.DeploymentID] || Retryable(err)
			delete(s.written, key)
			continue
		}
		s.written[key] = sum
		s.logger.InfoContext(ctx, "A1 policy written", "type", p.TypeID, "policy", p.ID, "deployment", p.DeploymentID)
	}
	for typeID, ids := range have {
		for id := range ids {
			key := typeID + "/" + id
			if wanted[key] {
				continue
			}
			if err := s.client.DeletePolicy(ctx, typeID, id); err != nil && !IsNotFound(err) {
				errs = append(errs, fmt.Errorf("delete policy %s: %w", key, err))
				continue
			}
			delete(s.written, key)
			s.logger.InfoContext(ctx, "A1 policy deleted", "type", typeID, "policy", id)
		}
	}

	// Report on every deployment that has policies.
	owners := map[string]bool{}
	for _, p := range want {
		owners[p.DeploymentID] = true
	}
	for id := range owners {
		c := deployment.Condition{Type: CondSynced, Status: "True", Reason: "PoliciesInPlace", Message: "the deployment's A1 policies are on the RIC"}
		if f := failures[id]; len(f) > 0 {
			c = deployment.Condition{Type: CondSynced, Status: "False", Reason: "PolicyRefused", Message: truncate(strings.Join(f, "; "), 2000)}
			if unavailable[id] {
				c.Reason = "RICUnavailable"
			}
		}
		if err := s.deps.SetCondition(ctx, id, c); err != nil && ctx.Err() == nil {
			s.logger.Warn("recording the A1 condition", "deployment", id, "err", err)
		}
	}
	return errors.Join(errs...)
}

// typeIDs are the policy types in use, in template order, without
// repeats.
func (s *Syncer) typeIDs() []string {
	var out []string
	for _, t := range Templates {
		if id := s.opts.PolicyTypes[t]; id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Desired is the policies the deployments ask for, in a stable order:
// for each deployment that runs (ACTIVE, SCALING, SCALED, DEGRADED) a
// qos-optimization policy per resource pool with the instances and
// resources there and a traffic-steering policy sharing its traffic by
// replicas; a DEGRADED deployment also gets a recovery policy. Templates
// without a policy type in types are left out.
func Desired(deps []deployment.Deployment, types map[string]string) []Policy {
	var out []Policy
	sorted := slices.Clone(deps)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].DeploymentID < sorted[j].DeploymentID })
	for _, d := range sorted {
		switch d.Status.Phase {
		case deployment.PhaseActive, deployment.PhaseScaling, deployment.PhaseScaled, deployment.PhaseDegraded:
		default:
			continue
		}
		pools := poolShares(d)
		if len(pools) == 0 {
			continue
		}
		total := 0
		for _, p := range pools {
			total += p.instances
		}
		scope := func(level string) map[string]any {
			m := map[string]any{"level": level, "deploymentId": d.DeploymentID, "deploymentName": d.Name}
			if slice, ok := d.NetworkRequirements["sliceId"].(string); ok && slice != "" {
				m["sliceId"] = slice
			}
			return m
		}
		add := func(template, id string, body map[string]any) {
			typeID := types[template]
			if typeID == "" {
				return
			}
			b, _ := json.Marshal(body)
			out = append(out, Policy{Template: template, TypeID: typeID, ID: id, DeploymentID: d.DeploymentID, Body: b})
		}
		for _, p := range pools {
			sc := scope("resource-pool")
			sc["resourcePoolId"] = p.poolID
			body := map[string]any{
				"scope":            sc,
				"target_instances": p.instances,
				"resource_allocation": map[string]any{
					"cpuMillicores": p.cpuMillis, "memoryBytes": p.memoryBytes,
				},
			}
			if qos := qosObjectives(d); len(qos) > 0 {
				body["qosObjectives"] = qos
			}
			add(QoSOptimization, policyID(d.DeploymentID, QoSOptimization, p.poolID), body)
		}
		var weights []map[string]any
		for _, p := range pools {
			weights = append(weights, map[string]any{"resourcePoolId": p.poolID, "weight": float64(p.instances) / float64(total)})
		}
		add(TrafficSteering, policyID(d.DeploymentID, TrafficSteering, ""), map[string]any{"scope": scope("deployment"), "steering": weights})
		if d.Status.Phase == deployment.PhaseDegraded {
			add(Recovery, policyID(d.DeploymentID, Recovery, ""), map[string]any{"scope": scope("deployment"), "action": "recover", "reason": truncate(d.Status.Message, 1000)})
		}
	}
	return out
}

// policyID is the id of a deployment's policy of a template (on a pool).
func policyID(deploymentID, template, poolID string) string {
	id := policyPrefix + deploymentID + "-" + template
	if poolID != "" {
		id += "-" + shortID(poolID)
	}
	return id
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// share is what a deployment runs on one pool.
type share struct {
	poolID                 string
	instances              int
	cpuMillis, memoryBytes int64
}

// poolShares sums, per pool in id order, the replicas a deployment runs
// there and the resources they request.
func poolShares(d deployment.Deployment) []share {
	per := map[string]deployment.Capacity{} // per replica, by component
	if d.Status.Placement != nil {
		for _, a := range d.Status.Placement.Assignments {
			if a.Replicas > 0 {
				n := int64(a.Replicas)
				per[a.Component] = deployment.Capacity{CPUMillicores: a.Requests.CPUMillicores / n, MemoryBytes: a.Requests.MemoryBytes / n}
			}
		}
	}
	byPool := map[string]*share{}
	for _, cs := range d.Status.Components {
		if cs.ResourcePoolID == "" {
			continue
		}
		sh := byPool[cs.ResourcePoolID]
		if sh == nil {
			sh = &share{poolID: cs.ResourcePoolID}
			byPool[cs.ResourcePoolID] = sh
		}
		sh.instances += cs.Replicas
		sh.cpuMillis += per[cs.Name].CPUMillicores * int64(cs.Replicas)
		sh.memoryBytes += per[cs.Name].MemoryBytes * int64(cs.Replicas)
	}
	out := make([]share, 0, len(byPool))
	for _, sh := range byPool {
		out = append(out, *sh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].poolID < out[j].poolID })
	return out
}

// qosObjectives carries the deployment's network requirements into the
// policy.
func qosObjectives(d deployment.Deployment) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"latency", "bandwidth"} {
		if v, ok := d.NetworkRequirements[k].(string); ok && v != "" {
			out[k] = v
		}
	}
	return out
}

func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return string(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
