package deployment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/deployment/deploymenttest"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// fixture is a store with two Kubernetes pools (a: 4 cpu allocatable, 1
// requested; b: 8 cpu, 2 requested), a third pool no CNF can run on, the
// test chart as package vnfd-app, and the deployment service on top.
type fixture struct {
	store *sqlstore.Store
	svc   *deployment.Service
	inv   *inventory.Service
	poolA string
	poolB string
	poolC string
}

func newFixture(t testing.TB, b sqlstoretest.Backend, opts deployment.Options) fixture {
	t.Helper()
	ctx := context.Background()
	st := sqlstoretest.Open(t, b)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := fixture{store: st, poolA: "00000000-0000-4000-8000-00000000000a", poolB: "00000000-0000-4000-8000-00000000000b", poolC: "00000000-0000-4000-8000-00000000000c"}
	dmA, dmB, dmC := uuid.NewString(), uuid.NewString(), uuid.NewString()
	deploymenttest.PutDM(t, st, dmA, "kubernetes")
	deploymenttest.PutDM(t, st, dmB, "kubernetes")
	deploymenttest.PutDM(t, st, dmC, "local")
	deploymenttest.PutPool(t, st, deploymenttest.Pool{ID: f.poolA, Name: "edge-a", DM: dmA, Region: "eu-west", Labels: map[string]string{"tier": "edge"}, AllocCPU: 4000, ReqCPU: 1000, Healthy: true})
	deploymenttest.PutPool(t, st, deploymenttest.Pool{ID: f.poolB, Name: "core-b", DM: dmB, Region: "eu-west", Labels: map[string]string{"tier": "core"}, AllocCPU: 8000, ReqCPU: 2000, Healthy: true})
	deploymenttest.PutPool(t, st, deploymenttest.Pool{ID: f.poolC, Name: "host-c", DM: dmC, Region: "eu-west", AllocCPU: 64000, ReqCPU: 0, Healthy: true})
	l := lcm.NewService(st, nil, nil, lcm.Options{}, logger, nil)
	one := 1
	_, err := l.CreatePackage(ctx, lcm.PackageInput{
		Name: "app", Version: "1", VnfdInfo: lcm.VnfdInfo{VnfdID: "vnfd-app"},
		Flavours: []lcm.Flavour{{FlavourID: "small", Replicas: &one, Resources: &lcm.Resources{CPU: "500m", Memory: "256Mi"}}, {FlavourID: "large", Replicas: &one}},
	}, cnftest.HelmChart(t))
	if err != nil {
		t.Fatal(err)
	}
	f.svc = deployment.NewService(st, l, nil, opts, logger, nil)
	f.inv = inventory.NewService(st, inventory.CloudConfig{}, logger)
	return f
}

func spec(name string, comps ...deployment.Component) deployment.Spec {
	return deployment.Spec{Name: name, Components: comps}
}

func comp(name string, replicas int, cpu string) deployment.Component {
	return deployment.Component{Name: name, VnfdID: "vnfd-app", FlavourID: "small", Replicas: replicas, Resources: &lcm.Resources{CPU: cpu, Memory: "256Mi"}}
}

func wantErr(t *testing.T, err error, code string, fragments ...string) {
	t.Helper()
	var e *ims.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Message, f) {
			t.Errorf("message %q lacks %q", e.Message, f)
		}
	}
}

func TestCreateRefusesBadSpecs(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newFixture(t, b, deployment.Options{ReserveByDefault: true})
		ctx := context.Background()
		tests := []struct {
			name      string
			spec      deployment.Spec
			code      string
			fragments []string
		}{
			{"no name", spec("", comp("amf", 1, "100m")), ims.EINVALID, []string{"name is required"}},
			{"name not a DNS label", spec("Core_1", comp("amf", 1, "100m")), ims.EINVALID, []string{`"Core_1" must be a DNS label`}},
			{"no components", spec("core"), ims.EINVALID, []string{"at least one component"}},
			{"component twice", spec("core", comp("amf", 1, "100m"), comp("amf", 1, "100m")), ims.EINVALID, []string{`components[1].name: "amf" is used twice`}},
			{"component name too long", spec("core", comp("a-very-long-component", 1, "100m")), ims.EINVALID, []string{"at most 15 characters"}},
			{"no package", spec("core", deployment.Component{Name: "amf"}), ims.EINVALID, []string{"vnfdId or packageId is required"}},
			{"unknown package", spec("core", deployment.Component{Name: "amf", VnfdID: "vnfd-nope"}), ims.EUNPROCESSABLE, []string{"components[0] (amf)", "vnfd-nope"}},
			{"flavour must be named", spec("core", deployment.Component{Name: "amf", VnfdID: "vnfd-app"}), ims.EUNPROCESSABLE, []string{"has flavours small, large; name one"}},
			{"unknown flavour", spec("core", deployment.Component{Name: "amf", VnfdID: "vnfd-app", FlavourID: "huge"}), ims.EUNPROCESSABLE, []string{`no flavour "huge"`}},
			{"too many replicas", spec("core", comp("amf", 5000, "100m")), ims.EINVALID, []string{"replicas: must be between 1 and 1000"}},
			{"bad cpu", spec("core", comp("amf", 1, "lots")), ims.EINVALID, []string{`components[0].resources: cpu "lots" is not a quantity`}},
			{"bad pool id", deployment.Spec{Name: "core", Components: []deployment.Component{comp("amf", 1, "100m")}, ResourcePools: []string{"../etc"}}, ims.EINVALID, []string{"resourcePools[0]: not a resource pool id"}},
			{"bad selector", deployment.Spec{Name: "core", Components: []deployment.Component{comp("amf", 1, "100m")}, Placement: &deployment.Rules{PoolSelector: "tier in (("}}, ims.EINVALID, []string{"placement.poolSelector: not a valid label selector"}},
			{"bad minCapacity", deployment.Spec{Name: "core", Components: []deployment.Component{comp("amf", 1, "100m")}, Placement: &deployment.Rules{MinCapacity: "gpu:1"}}, ims.EINVALID, []string{`placement.minCapacity: "gpu" is not a resource`}},
			{"spread too wide", deployment.Spec{Name: "core", Components: []deployment.Component{comp("amf", 1, "100m")}, Placement: &deployment.Rules{Spread: 99}}, ims.EINVALID, []string{"placement.spread: must be between 0 and 16"}},
			{"no pool has room", spec("core", comp("upf", 4, "2")), ims.EUNPROCESSABLE, []string{"no placement: no eligible pool has room for 4 replica(s) of upf",
				"pool edge-a: cannot take 4 replica(s) of upf: not enough free cpu (3 free, 8 needed)", "pool host-c: no deployment manager that runs CNFs serves it"}},
			{"selector matches nothing", deployment.Spec{Name: "core", Components: []deployment.Component{comp("amf", 1, "100m")}, Placement: &deployment.Rules{PoolSelector: "tier=far-edge"}}, ims.EUNPROCESSABLE, []string{"no resource pool is eligible", "pool edge-a: labels do not match tier=far-edge"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.Create(ctx, tt.spec)
				wantErr(t, err, tt.code, tt.fragments...)
			})
		}
		page, err := f.svc.List(ctx, collection.Request{})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("refused specs stored something: %d deployments, %v", len(page.Items), err)
		}
	})
}

// reserved reads extensions.capacity of a pool as the API renders it.
func poolCapacity(t *testing.T, f fixture, id string) map[string]any {
	t.Helper()
	obj, err := f.inv.GetPool(context.Background(), inventory.V1, id)
	if err != nil {
		t.Fatal(err)
	}
	// As a client reads it: through JSON.
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Extensions struct {
			Capacity map[string]any `json:"capacity"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.Extensions.Capacity
}

func cpuOf(m map[string]any, which string) int64 {
	v, _ := m[which].(map[string]any)["cpuMillicores"].(float64)
	return int64(v)
}

func TestCreatePlacesReservesAndExplains(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newFixture(t, b, deployment.Options{ReserveByDefault: true})
		ctx := context.Background()
		s := deployment.Spec{Name: "core", Components: []deployment.Component{comp("amf", 3, "1")}, Placement: &deployment.Rules{Spread: 2, Regions: []string{"eu-west"}}}

		// A dry run plans the same and stores nothing.
		s.DryRun = true
		dry, err := f.svc.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if dry.DeploymentID != "" || len(dry.Status.Reservations) != 2 || dry.Status.Reservations[0].State != "PLANNED" {
			t.Fatalf("dry run = id %q, reservations %+v", dry.DeploymentID, dry.Status.Reservations)
		}
		if c := poolCapacity(t, f, f.poolB); cpuOf(c, "reserved") != 0 {
			t.Fatalf("a dry run reserved capacity: %v", c)
		}

		s.DryRun = false
		d, err := f.svc.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if d.DeploymentID == "" || d.Status.Phase != deployment.PhasePending || d.ResourceVersion != 1 {
			t.Fatalf("created = %+v", d)
		}
		// 3 replicas over 2 pools: 2 on core-b (most headroom), 1 on edge-a.
		got := map[string]int{}
		ns := map[string]string{}
		for _, cs := range d.Status.Components {
			got[cs.ResourcePoolName] = cs.Replicas
			ns[cs.ResourcePoolName] = cs.Namespace
			if _, err := uuid.Parse(cs.CnfInstanceID); err != nil || cs.Phase != lcm.NotInstantiated {
				t.Errorf("component status %+v", cs)
			}
		}
		if got["core-b"] != 2 || got["edge-a"] != 1 || ns["core-b"] != "core-amf-1" || ns["edge-a"] != "core-amf-2" {
			t.Fatalf("placement = %v, namespaces %v", got, ns)
		}
		if len(d.Status.Placement.Decisions) != 3 {
			t.Fatalf("decisions = %+v", d.Status.Placement.Decisions)
		}
		for _, dec := range d.Status.Placement.Decisions {
			if dec.ResourcePoolName == "host-c" && (dec.Eligible || !strings.Contains(strings.Join(dec.Reasons, ","), "no deployment manager")) {
				t.Errorf("host-c decision = %+v", dec)
			}
		}
		if len(d.Status.Reservations) != 2 {
			t.Fatalf("reservations = %+v", d.Status.Reservations)
		}
		for _, r := range d.Status.Reservations {
			exp, err := time.Parse(time.RFC3339, r.ExpiresAt)
			if r.State != sqlstore.ReservationHeld || err != nil || time.Until(exp) < 14*time.Minute {
				t.Errorf("reservation %+v", r)
			}
		}

		// The pools show what is held and what is left.
		c := poolCapacity(t, f, f.poolB)
		if cpuOf(c, "reserved") != 2000 || cpuOf(c, "free") != 8000-2000-2000 {
			t.Fatalf("core-b capacity = %v", c)
		}
		page, err := f.inv.ListPools(ctx, inventory.V1, collection.Request{}, "cpu:4500m")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0]["resourcePoolId"] != f.poolC {
			t.Fatalf("pools with 4.5 free cpu = %d (want host-c only; core-b has 4)", len(page.Items))
		}

		// Another deployment can no longer have what is held.
		_, err = f.svc.Create(ctx, spec("edge", comp("upf", 5, "1")))
		wantErr(t, err, ims.EUNPROCESSABLE, "pool core-b: cannot take 5 replica(s) of upf: not enough free cpu (4 free, 5 needed)")
		_, err = f.svc.Create(ctx, s)
		wantErr(t, err, ims.ECONFLICT, `a deployment named "core" exists already`)

		// Expired reservations give the capacity back.
		ids, err := f.store.ExpireReservations(ctx, time.Now().Add(time.Hour))
		if err != nil || len(ids) != 1 || ids[0] != d.DeploymentID {
			t.Fatalf("expired = %v, %v", ids, err)
		}
		if c := poolCapacity(t, f, f.poolB); cpuOf(c, "reserved") != 0 {
			t.Fatalf("after expiry core-b capacity = %v", c)
		}
	})
}

// TestConcurrentCreatesShareTheLastCapacity races deployments for room
// that only one of them fits in: exactly one wins.
func TestConcurrentCreatesShareTheLastCapacity(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newFixture(t, b, deployment.Options{ReserveByDefault: true})
		ctx := context.Background()
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				// 4 cpu: only core-b (6 free) fits one; edge-a has 3.
				_, errs[i] = f.svc.Create(ctx, spec("race-"+string(rune('a'+i)), comp("upf", 4, "1")))
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case ims.ErrorCode(err) != ims.EUNPROCESSABLE:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d deployments got the last capacity, want 1 (%v)", won, errs)
		}
		if c := poolCapacity(t, f, f.poolB); cpuOf(c, "reserved") != 4000 {
			t.Fatalf("core-b capacity = %v", c)
		}
	})
}

func TestUpdateStatusAndDelete(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newFixture(t, b, deployment.Options{})
		ctx := context.Background()
		d, err := f.svc.Create(ctx, spec("core", comp("amf", 1, "100m")))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Status.Reservations) != 0 {
			t.Fatalf("reserved without being asked: %+v", d.Status.Reservations)
		}
		desc := "the core"
		_, err = f.svc.Update(ctx, d.DeploymentID, deployment.Patch{Description: &desc}, `"7"`)
		wantErr(t, err, ims.EPRECONDITION, `If-Match "7" does not match the current version "1"`)
		d2, err := f.svc.Update(ctx, d.DeploymentID, deployment.Patch{Description: &desc}, d.ETag())
		if err != nil || d2.Description != desc || d2.ResourceVersion != 2 {
			t.Fatalf("update = %+v, %v", d2, err)
		}
		_, err = f.svc.Update(ctx, d.DeploymentID, deployment.Patch{Components: []deployment.ComponentPatch{{Name: "amf", Replicas: 2}}}, "")
		wantErr(t, err, ims.ECONFLICT, `deployment "core" is PENDING`)
		_, err = f.svc.Update(ctx, d.DeploymentID, deployment.Patch{Components: []deployment.ComponentPatch{{Name: "amf", Replicas: 0}}}, "")
		wantErr(t, err, ims.EINVALID, "replicas: must be between 1 and 1000")

		stale := int64(1)
		_, err = f.svc.PutStatus(ctx, d.DeploymentID, deployment.StatusUpdate{ResourceVersion: &stale, Phase: deployment.PhaseDeploying}, "")
		wantErr(t, err, ims.ECONFLICT, "resourceVersion 1 is not the current version 2")
		_, err = f.svc.PutStatus(ctx, d.DeploymentID, deployment.StatusUpdate{Phase: "RUNNING"}, "")
		wantErr(t, err, ims.EINVALID, "phase: must be one of PENDING")
		_, err = f.svc.PutStatus(ctx, d.DeploymentID, deployment.StatusUpdate{Phase: deployment.PhaseDeleting}, "")
		wantErr(t, err, ims.EUNPROCESSABLE, "is deleted with DELETE")
		rev, pr := int64(2), "o2ims-core-v1"
		d3, err := f.svc.PutStatus(ctx, d.DeploymentID, deployment.StatusUpdate{ResourceVersion: &rev, PackageRevision: &pr,
			Conditions: []deployment.Condition{{Type: "Proposed", Status: "True"}}}, "")
		if err != nil || d3.Status.PackageRevision != pr || d3.ResourceVersion != 3 || len(d3.Status.Conditions) != 1 || d3.Status.Conditions[0].LastTransitionTime == "" {
			t.Fatalf("status = %+v, %v", d3.Status, err)
		}
		d4, err := f.svc.PutStatus(ctx, d.DeploymentID, deployment.StatusUpdate{Conditions: []deployment.Condition{{Type: "Proposed", Status: "True", Message: "again"}, {Type: "Approved", Status: "False"}}}, d3.ETag())
		if err != nil || len(d4.Status.Conditions) != 2 || d4.Status.Conditions[0].LastTransitionTime != d3.Status.Conditions[0].LastTransitionTime || d4.Status.Conditions[0].Message != "again" {
			t.Fatalf("merged conditions = %+v, %v", d4.Status.Conditions, err)
		}

		del, err := f.svc.Delete(ctx, d.DeploymentID)
		if err != nil || del.Status.Phase != deployment.PhaseDeleting {
			t.Fatalf("delete = %+v, %v", del.Status, err)
		}
		_, err = f.svc.Update(ctx, d.DeploymentID, deployment.Patch{Description: &desc}, "")
		wantErr(t, err, ims.ECONFLICT, "is being deleted")
		_, err = f.svc.Get(ctx, uuid.NewString())
		wantErr(t, err, ims.ENOTFOUND)
	})
}

// BenchmarkCreate accepts deployments (validation, placement over the
// pools, the placement lock and the stored document, with and without
// reservations) on each backend.
func BenchmarkCreate(b *testing.B) {
	for _, backend := range sqlstoretest.Backends() {
		for _, reserve := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/reserve=%v", backend.Name, reserve), func(b *testing.B) {
				f := newFixture(b, backend, deployment.Options{ReserveByDefault: reserve})
				ctx := context.Background()
				i := 0
				for b.Loop() {
					i++
					if i%20 == 0 { // give the held capacity back now and then
						b.StopTimer()
						if _, err := f.store.ExpireReservations(ctx, time.Now().Add(time.Hour)); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					if _, err := f.svc.Create(ctx, spec(fmt.Sprintf("bench-%d", i), comp("amf", 2, "1m"), comp("smf", 1, "1m"))); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
