package a1_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nephoran/o2ims/internal/a1"
	"github.com/nephoran/o2ims/internal/a1/a1test"
	"github.com/nephoran/o2ims/internal/deployment"
)

const (
	poolA = "aaaaaaaa-0000-4000-8000-000000000001"
	poolB = "bbbbbbbb-0000-4000-8000-000000000002"
)

// dep is a deployment of amf (2 replicas of 500m/256Mi over two pools) and
// smf (1 replica of 1 cpu on pool A) in phase.
func dep(id, phase string) deployment.Deployment {
	d := deployment.Deployment{DeploymentID: id}
	d.Name = "core-" + id[:4]
	d.NetworkRequirements = map[string]any{"sliceId": "embb-1", "latency": "10ms"}
	d.Status.Phase = phase
	d.Status.Message = "component amf on resource pool b has 0 of 1 replicas ready"
	d.Status.Placement = &deployment.PlacementStatus{Assignments: []deployment.Assignment{
		{Component: "amf", ResourcePoolID: poolA, Replicas: 1, Requests: deployment.Capacity{CPUMillicores: 500, MemoryBytes: 256 << 20}},
		{Component: "amf", ResourcePoolID: poolB, Replicas: 1, Requests: deployment.Capacity{CPUMillicores: 500, MemoryBytes: 256 << 20}},
		{Component: "smf", ResourcePoolID: poolA, Replicas: 1, Requests: deployment.Capacity{CPUMillicores: 1000, MemoryBytes: 512 << 20}},
	}}
	d.Status.Components = []deployment.ComponentStatus{
		{Name: "amf", ResourcePoolID: poolA, Replicas: 1},
		{Name: "amf", ResourcePoolID: poolB, Replicas: 1},
		{Name: "smf", ResourcePoolID: poolA, Replicas: 1},
	}
	return d
}

func body(t *testing.T, p a1.Policy) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(p.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDesired(t *testing.T) {
	types := map[string]string{a1.QoSOptimization: "1000", a1.TrafficSteering: "1001", a1.Recovery: "1002"}
	tests := []struct {
		name  string
		deps  []deployment.Deployment
		types map[string]string
		want  []string // template/policy id
	}{
		{"running deployment: qos per pool and steering", []deployment.Deployment{dep("d1000000", deployment.PhaseActive)}, types,
			[]string{"qos-optimization/o2ims-d1000000-qos-optimization-aaaaaaaa", "qos-optimization/o2ims-d1000000-qos-optimization-bbbbbbbb", "traffic-steering/o2ims-d1000000-traffic-steering"}},
		{"degraded adds recovery", []deployment.Deployment{dep("d2000000", deployment.PhaseDegraded)}, types,
			[]string{"qos-optimization/o2ims-d2000000-qos-optimization-aaaaaaaa", "qos-optimization/o2ims-d2000000-qos-optimization-bbbbbbbb",
				"traffic-steering/o2ims-d2000000-traffic-steering", "recovery/o2ims-d2000000-recovery"}},
		{"not running: nothing", []deployment.Deployment{dep("d3000000", deployment.PhasePending), dep("d4000000", deployment.PhaseFailed), dep("d5000000", deployment.PhaseDeleting)}, types, nil},
		{"a template without a type is left out", []deployment.Deployment{dep("d6000000", deployment.PhaseScaled)}, map[string]string{a1.TrafficSteering: "1001"},
			[]string{"traffic-steering/o2ims-d6000000-traffic-steering"}},
		{"ordered by deployment", []deployment.Deployment{dep("d8000000", deployment.PhaseScaled), dep("d7000000", deployment.PhaseScaling)}, map[string]string{a1.TrafficSteering: "1001"},
			[]string{"traffic-steering/o2ims-d7000000-traffic-steering", "traffic-steering/o2ims-d8000000-traffic-steering"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range a1.Desired(tt.deps, tt.types) {
				got = append(got, p.Template+"/"+p.ID)
				if p.TypeID != tt.types[p.Template] {
					t.Errorf("%s has type %s", p.ID, p.TypeID)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("policies = %v, want %v", got, tt.want)
			}
		})
	}

	ps := a1.Desired([]deployment.Deployment{dep("d9000000", deployment.PhaseDegraded)}, types)
	qosA := body(t, ps[0])
	if qosA["target_instances"] != float64(2) {
		t.Errorf("pool A instances = %v, want 2 (amf 1 + smf 1)", qosA["target_instances"])
	}
	alloc, _ := qosA["resource_allocation"].(map[string]any)
	if alloc["cpuMillicores"] != float64(1500) || alloc["memoryBytes"] != float64(768<<20) {
		t.Errorf("pool A allocation = %v, want 1500m and 768Mi", alloc)
	}
	scope, _ := qosA["scope"].(map[string]any)
	if scope["resourcePoolId"] != poolA || scope["level"] != "resource-pool" || scope["sliceId"] != "embb-1" {
		t.Errorf("scope = %v", scope)
	}
	if qos, _ := qosA["qosObjectives"].(map[string]any); qos["latency"] != "10ms" {
		t.Errorf("qosObjectives = %v", qos)
	}
	steering, _ := body(t, ps[2])["steering"].([]any)
	if len(steering) != 2 || steering[0].(map[string]any)["weight"].(float64) < 0.66 || steering[0].(map[string]any)["weight"].(float64) > 0.67 {
		t.Errorf("steering = %v, want 2/3 on pool A", steering)
	}
	if rec := body(t, ps[3]); rec["action"] != "recover" || !strings.Contains(rec["reason"].(string), "0 of 1 replicas ready") {
		t.Errorf("recovery = %v", rec)
	}
}

// memDeployments is the syncer's view of the deployments, in memory.
type memDeployments struct {
	mu    sync.Mutex
	deps  []deployment.Deployment
	conds map[string]deployment.Condition
}

func (m *memDeployments) All(context.Context) ([]deployment.Deployment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.deps), nil
}

func (m *memDeployments) SetCondition(_ context.Context, id string, c deployment.Condition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conds[id] = c
	return nil
}

func (m *memDeployments) set(deps ...deployment.Deployment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deps = deps
}

func (m *memDeployments) cond(id string) deployment.Condition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conds[id]
}

// TestSyncOnce keeps a real A1-P server (both the standard's and the O-RAN
// SC mediator's answers) in step through scaling, degradation, an outage
// of the RIC and deletion, and leaves policies of others alone.
func TestSyncOnce(t *testing.T) {
	for _, mode := range []struct {
		name  string
		mode  a1test.Mode
		types map[string]string
	}{
		{"standard", a1test.Standard, map[string]string{a1.QoSOptimization: "qos-optimization", a1.TrafficSteering: "traffic-steering", a1.Recovery: "recovery"}},
		{"mediator", a1test.Mediator, map[string]string{a1.QoSOptimization: "20008", a1.TrafficSteering: "20009", a1.Recovery: "20010"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ric := a1test.New(t, mode.mode)
			for _, id := range mode.types {
				ric.AddType(id, json.RawMessage(`{"type":"object","required":["scope"]}`))
			}
			client, err := a1.NewClient(ric.URL, a1.Options{})
			if err != nil {
				t.Fatal(err)
			}
			deps := &memDeployments{conds: map[string]deployment.Condition{}}
			s := a1.NewSyncer(client, deps, a1.SyncOptions{PolicyTypes: mode.types}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ctx := context.Background()
			qos, steer, rec := mode.types[a1.QoSOptimization], mode.types[a1.TrafficSteering], mode.types[a1.Recovery]

			// Someone else's policy on the RIC is never touched.
			if _, err := client.PutPolicy(ctx, qos, "ric-own-policy", json.RawMessage(`{"scope":{}}`)); err != nil {
				t.Fatal(err)
			}
			d := dep("d1000000", deployment.PhaseActive)
			deps.set(d)
			if err := s.SyncOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(ric.Policies(qos)); n != 3 {
				t.Fatalf("%d qos policies, want 2 of the deployment and the RIC's own", n)
			}
			if len(ric.Policies(steer)) != 1 || len(ric.Policies(rec)) != 0 {
				t.Fatalf("steering %v, recovery %v", ric.Policies(steer), ric.Policies(rec))
			}
			if c := deps.cond(d.DeploymentID); c.Type != a1.CondSynced || c.Status != "True" {
				t.Fatalf("condition %+v", c)
			}

			// Nothing changed: nothing is written again.
			before := len(ric.Requests())
			if err := s.SyncOnce(ctx); err != nil {
				t.Fatal(err)
			}
			for _, r := range ric.Requests()[before:] {
				if !strings.HasPrefix(r, "GET ") {
					t.Errorf("an unchanged sync sent %s", r)
				}
			}

			// Scaled: the pool's policy follows the replicas.
			d.Status.Phase = deployment.PhaseScaled
			d.Status.Components[0].Replicas = 3
			deps.set(d)
			if err := s.SyncOnce(ctx); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			_ = json.Unmarshal(ric.Policies(qos)["o2ims-d1000000-qos-optimization-aaaaaaaa"], &got)
			if got["target_instances"] != float64(4) {
				t.Fatalf("pool A policy after scaling = %v, want 4 instances", got)
			}

			// The RIC is down while the deployment degrades: the
			// condition says so, and the update lands once it is back.
			ric.SetDown(true)
			d.Status.Phase = deployment.PhaseDegraded
			deps.set(d)
			if err := s.SyncOnce(ctx); err == nil {
				t.Fatal("a sync with the RIC down succeeded")
			}
			if c := deps.cond(d.DeploymentID); c.Status != "False" || c.Reason != "RICUnavailable" || !strings.Contains(c.Message, "503") {
				t.Fatalf("condition while the RIC is down: %+v", c)
			}
			ric.SetDown(false)
			if err := s.SyncOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if len(ric.Policies(rec)) != 1 || deps.cond(d.DeploymentID).Status != "True" {
				t.Fatalf("after the RIC is back: recovery %v, condition %+v", ric.Policies(rec), deps.cond(d.DeploymentID))
			}

			// Recovered, then deleted: its policies go, the RIC's stays.
			d.Status.Phase = deployment.PhaseActive
			deps.set(d)
			if err := s.SyncOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if len(ric.Policies(rec)) != 0 {
				t.Fatalf("recovery policy kept after recovery: %v", ric.Policies(rec))
			}
			deps.set()
			if err := s.SyncOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if p := ric.Policies(qos); len(p) != 1 || p["ric-own-policy"] == nil {
				t.Fatalf("qos policies after deletion: %v", p)
			}
			if len(ric.Policies(steer)) != 0 {
				t.Fatalf("steering policies after deletion: %v", ric.Policies(steer))
			}
		})
	}
}
