package placement

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

const gi = int64(1) << 30

func pool(id string, cpuFree, cpuAlloc int64, mut ...func(*Pool)) Pool {
	p := Pool{
		ID: id, Name: "pool-" + id, Provider: "kubernetes", ProviderName: "k8s-" + id, DeploymentManagerID: "dm-" + id,
		Deployable: true, Healthy: true, HasCapacity: true, Nodes: 3,
		Allocatable: Resources{CPUMillis: cpuAlloc, MemoryBytes: 64 * gi, Pods: 110},
		Free:        Resources{CPUMillis: cpuFree, MemoryBytes: 32 * gi, Pods: 100},
	}
	for _, m := range mut {
		m(&p)
	}
	return p
}

func TestParseResources(t *testing.T) {
	tests := []struct {
		in      string
		want    Resources
		wantErr string
	}{
		{in: "cpu:4,memory:8Gi,pods:10", want: Resources{CPUMillis: 4000, MemoryBytes: 8 * gi, Pods: 10}},
		{in: "cpu:500m", want: Resources{CPUMillis: 500}},
		{in: " memory : 512Mi , cpu:1.5 ", want: Resources{CPUMillis: 1500, MemoryBytes: 512 << 20}},
		{in: "pods:3", want: Resources{Pods: 3}},
		{in: "", wantErr: "names at least one"},
		{in: "cpu", wantErr: "write name:quantity"},
		{in: "cpu:", wantErr: "write name:quantity"},
		{in: "gpu:1", wantErr: `"gpu" is not a resource`},
		{in: "cpu:1,cpu:2", wantErr: "cpu is given twice"},
		{in: "cpu:lots", wantErr: `cpu "lots" is not a quantity`},
		{in: "memory:-1Gi", wantErr: "is negative"},
		{in: "pods:1.5", wantErr: "not a whole number"},
		{in: "cpu:1E30", wantErr: "too large"},
		{in: strings.Repeat("cpu:1,", 50), wantErr: "at most 256 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseResources(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseResources(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseResources(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestResourcesArithmetic(t *testing.T) {
	a := Resources{CPUMillis: 1500, MemoryBytes: gi, Pods: 2}
	need := Resources{CPUMillis: 2000, MemoryBytes: gi, Pods: 3}
	if a.Covers(need) {
		t.Fatal("1500m covers 2 cpu")
	}
	if got, want := a.Shortfall(need), "not enough free cpu (1500m free, 2 needed); not enough free pods (2 free, 3 needed)"; got != want {
		t.Fatalf("Shortfall = %q, want %q", got, want)
	}
	if a.Shortfall(Resources{}) != "" || !a.Covers(Resources{}) {
		t.Fatal("nothing needed is not covered")
	}
	if got := a.Add(a).Sub(a); got != a {
		t.Fatalf("a+a-a = %+v", got)
	}
	if got := a.Times(3); got != (Resources{4500, 3 * gi, 6}) {
		t.Fatalf("Times = %+v", got)
	}
	if got := a.String(); got != "cpu:1500m,memory:1Gi,pods:2" {
		t.Fatalf("String = %q", got)
	}
	if back, err := ParseResources(a.String()); err != nil || back != a {
		t.Fatalf("String does not parse back: %+v, %v", back, err)
	}
}

func TestPlace(t *testing.T) {
	comp := func(name string, replicas int, cpu int64) Component {
		return Component{Name: name, Replicas: replicas, PerReplica: Resources{CPUMillis: cpu, MemoryBytes: gi, Pods: 1}}
	}
	type shard struct {
		component, pool string
		replicas        int
	}
	tests := []struct {
		name    string
		req     Request
		pools   []Pool
		want    []shard
		wantErr []string // fragments of the NoFitError
	}{
		{
			name:  "most headroom wins",
			req:   Request{Components: []Component{comp("amf", 2, 1000)}},
			pools: []Pool{pool("a", 4000, 8000), pool("b", 7000, 8000)},
			want:  []shard{{"amf", "b", 2}},
		},
		{
			name:  "ties go to the lower pool id",
			req:   Request{Components: []Component{comp("amf", 1, 1000)}},
			pools: []Pool{pool("b", 4000, 8000), pool("a", 4000, 8000)},
			want:  []shard{{"amf", "a", 1}},
		},
		{
			name:  "preferred provider outweighs a little headroom",
			req:   Request{Components: []Component{comp("upf", 1, 1000)}, Rules: Rules{PreferProviders: []string{"edge"}}},
			pools: []Pool{pool("a", 4200, 8000), pool("b", 4000, 8000, func(p *Pool) { p.Provider = "edge" })},
			want:  []shard{{"upf", "b", 1}},
		},
		{
			name:  "spread splits evenly, earlier shards larger",
			req:   Request{Components: []Component{comp("amf", 5, 500)}, Rules: Rules{Spread: 2}},
			pools: []Pool{pool("a", 8000, 8000), pool("b", 7000, 8000), pool("c", 6000, 8000)},
			want:  []shard{{"amf", "a", 3}, {"amf", "b", 2}},
		},
		{
			name:  "spread is capped by the replica count",
			req:   Request{Components: []Component{comp("smf", 1, 500)}, Rules: Rules{Spread: 3}},
			pools: []Pool{pool("a", 8000, 8000), pool("b", 8000, 8000)},
			want:  []shard{{"smf", "a", 1}},
		},
		{
			name:  "later components see what earlier ones took",
			req:   Request{Components: []Component{comp("amf", 3, 1000), comp("smf", 2, 1000)}},
			pools: []Pool{pool("a", 4000, 8000), pool("b", 3500, 8000)},
			want:  []shard{{"amf", "a", 3}, {"smf", "b", 2}},
		},
		{
			name: "rules filter by provider, region, labels and ids",
			req: Request{Components: []Component{comp("amf", 1, 100)}, Rules: Rules{
				Providers: []string{"kubernetes"}, Regions: []string{"eu-west"}, Selector: mustSelector(t, "tier=edge"), PoolIDs: []string{"c", "d"},
			}},
			pools: []Pool{
				pool("a", 8000, 8000, func(p *Pool) { p.Region = "eu-west"; p.Labels = map[string]string{"tier": "edge"} }),
				pool("c", 1000, 8000, func(p *Pool) { p.Region = "eu-west"; p.Labels = map[string]string{"tier": "edge"} }),
				pool("d", 8000, 8000, func(p *Pool) { p.Region = "us-east"; p.Labels = map[string]string{"tier": "edge"} }),
			},
			want: []shard{{"amf", "c", 1}},
		},
		{
			name:  "a region takes its numbered parts, not other regions",
			req:   Request{Components: []Component{comp("amf", 1, 100)}, Rules: Rules{Regions: []string{"us-west"}}},
			pools: []Pool{pool("a", 8000, 8000, func(p *Pool) { p.Region = "us-westish" }), pool("b", 1000, 8000, func(p *Pool) { p.Region = "us-west-2" })},
			want:  []shard{{"amf", "b", 1}},
		},
		{
			name:  "provider rule matches the registered provider's name too",
			req:   Request{Components: []Component{comp("amf", 1, 100)}, Rules: Rules{Providers: []string{"k8s-b"}}},
			pools: []Pool{pool("a", 8000, 8000), pool("b", 1000, 8000)},
			want:  []shard{{"amf", "b", 1}},
		},
		{
			name: "unhealthy, undeployable, unmeasured and busy pools are refused with reasons",
			req:  Request{Components: []Component{comp("amf", 1, 100)}, UtilizationThreshold: 0.85, Rules: Rules{MinCapacity: Resources{CPUMillis: 3000}}},
			pools: []Pool{
				pool("a", 8000, 8000, func(p *Pool) { p.Healthy = false }),
				pool("b", 8000, 8000, func(p *Pool) { p.Deployable = false }),
				pool("c", 8000, 8000, func(p *Pool) { p.HasCapacity = false }),
				pool("d", 8000, 8000, func(p *Pool) { p.Utilization = 0.9 }),
				pool("e", 2000, 8000),
			},
			wantErr: []string{"no resource pool is eligible", "pool pool-a: not healthy", "pool pool-b: no deployment manager that runs CNFs serves it",
				"pool pool-c: its capacity is unknown", "pool pool-d: utilization 0.90 is at or above the threshold 0.85",
				"pool pool-e: below minCapacity: not enough free cpu (2 free, 3 needed)"},
		},
		{
			name:    "no room anywhere names each pool's shortfall",
			req:     Request{Components: []Component{comp("upf", 4, 1000)}},
			pools:   []Pool{pool("a", 3000, 8000), pool("b", 1000, 8000)},
			wantErr: []string{"no eligible pool has room for 4 replica(s) of upf", "pool pool-a: cannot take 4 replica(s) of upf: not enough free cpu (3 free, 4 needed)"},
		},
		{
			name:    "spread needs as many eligible pools",
			req:     Request{Components: []Component{comp("amf", 3, 100)}, Rules: Rules{Spread: 3}},
			pools:   []Pool{pool("a", 8000, 8000), pool("b", 8000, 8000), pool("c", 8000, 8000, func(p *Pool) { p.Healthy = false })},
			wantErr: []string{"component amf is spread over 3 pools but only 2 are eligible"},
		},
		{
			name:    "an unknown pool id is reported",
			req:     Request{Components: []Component{comp("amf", 1, 100)}, Rules: Rules{PoolIDs: []string{"zz"}}},
			pools:   []Pool{pool("a", 8000, 8000)},
			wantErr: []string{"pool zz: no such resource pool", "pool pool-a: not among the deployment's resourcePools"},
		},
		{
			name:  "excluded pools are refused with the reason given",
			req:   Request{Components: []Component{comp("amf", 1, 100)}, Rules: Rules{Exclude: map[string]string{"a": "the component's pool failed"}}},
			pools: []Pool{pool("a", 8000, 8000), pool("b", 1000, 8000)},
			want:  []shard{{"amf", "b", 1}},
		},
		{
			name:    "excluding every pool leaves nothing",
			req:     Request{Components: []Component{comp("amf", 1, 100)}, Rules: Rules{Exclude: map[string]string{"a": "runs another part of amf"}}},
			pools:   []Pool{pool("a", 8000, 8000)},
			wantErr: []string{"pool pool-a: runs another part of amf"},
		},
		{
			name:    "no pools at all",
			req:     Request{Components: []Component{comp("amf", 1, 100)}},
			wantErr: []string{"there are no resource pools"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := Place(tt.req, tt.pools)
			if tt.wantErr != nil {
				var nf *NoFitError
				if !errors.As(err, &nf) {
					t.Fatalf("Place error = %v, want a *NoFitError", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if len(nf.Decisions) < len(tt.pools) {
					t.Errorf("decisions for %d pools, want %d", len(nf.Decisions), len(tt.pools))
				}
				return
			}
			if err != nil {
				t.Fatalf("Place: %v", err)
			}
			var got []shard
			for _, a := range plan.Assignments {
				got = append(got, shard{a.Component, a.PoolID, a.Replicas})
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("assignments = %v, want %v", got, tt.want)
			}
			// Reserved is what the assignments take; decisions are by pool id.
			sum := map[string]Resources{}
			for _, a := range plan.Assignments {
				var per Resources
				for _, c := range tt.req.Components {
					if c.Name == a.Component {
						per = c.PerReplica
					}
				}
				if a.Requests != per.Times(int64(a.Replicas)) {
					t.Errorf("assignment %s on %s requests %+v, want %d × %+v", a.Component, a.PoolID, a.Requests, a.Replicas, per)
				}
				sum[a.PoolID] = sum[a.PoolID].Add(a.Requests)
				if a.DeploymentManagerID != "dm-"+a.PoolID || a.Score <= 0 || a.Score > 1 {
					t.Errorf("assignment %+v: wrong deployment manager or score", a)
				}
			}
			for id, r := range sum {
				if plan.Reserved[id] != r {
					t.Errorf("Reserved[%s] = %+v, want %+v", id, plan.Reserved[id], r)
				}
			}
			if !slices.IsSortedFunc(plan.Decisions, func(a, b Decision) int { return strings.Compare(a.PoolID, b.PoolID) }) {
				t.Error("decisions are not sorted by pool id")
			}
			for _, d := range plan.Decisions {
				_, chosen := sum[d.PoolID]
				if d.Chosen != chosen {
					t.Errorf("decision %s chosen = %v, want %v", d.PoolID, d.Chosen, chosen)
				}
				if !d.Eligible && len(d.Reasons) == 0 {
					t.Errorf("ineligible pool %s has no reason", d.PoolID)
				}
			}
		})
	}
}

func TestScore(t *testing.T) {
	p := pool("a", 8000, 8000, func(p *Pool) { p.Utilization = 0.5; p.Provider = "edge" })
	// After taking 2 cpu: headroom min(6000/8000, 32Gi/64Gi, 100/110) = 0.5.
	got := score(Rules{PreferProviders: []string{"edge"}}, p, p.Free.Sub(Resources{CPUMillis: 2000}))
	if want := 0.6*0.5 + 0.3*0.5 + 0.1; got != want {
		t.Fatalf("score = %v, want %v", got, want)
	}
}

func mustSelector(t testing.TB, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// BenchmarkPlace places 4 components of 3 replicas, spread over 2 pools,
// among n pools with different free capacity.
func BenchmarkPlace(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(strconv.Itoa(n)+"-pools", func(b *testing.B) {
			pools := make([]Pool, n)
			for i := range pools {
				pools[i] = pool(fmt.Sprintf("%05d", i), int64(1000+i*37%8000), 16000, func(p *Pool) {
					p.Labels = map[string]string{"tier": []string{"edge", "core"}[i%2]}
					p.Utilization = float64(i%90) / 100
				})
			}
			req := Request{UtilizationThreshold: 0.85, Rules: Rules{Spread: 2, Selector: mustSelector(b, "tier=edge"), PreferProviders: []string{"kubernetes"}}}
			for _, name := range []string{"amf", "smf", "upf", "nrf"} {
				req.Components = append(req.Components, Component{Name: name, Replicas: 3, PerReplica: Resources{CPUMillis: 250, MemoryBytes: gi / 4, Pods: 1}})
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Place(req, pools); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPlaceIsDeterministic places the same request over the same pools
// given in many orders: the plan is always the same.
func TestPlaceIsDeterministic(t *testing.T) {
	var pools []Pool
	for i := range 12 {
		// Pairs of identical pools force the tie-break.
		pools = append(pools, pool(fmt.Sprintf("p%02d", i), int64(2000+(i/2)*500), 8000))
	}
	req := Request{Rules: Rules{Spread: 3}, Components: []Component{
		{Name: "amf", Replicas: 5, PerReplica: Resources{CPUMillis: 300, Pods: 1}},
		{Name: "smf", Replicas: 3, PerReplica: Resources{CPUMillis: 500, Pods: 1}},
	}}
	want, err := Place(req, pools)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		shuffled := slices.Clone(pools)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := Place(req, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("plan differs for another pool order:\n got %+v\nwant %+v", got.Assignments, want.Assignments)
		}
	}
}
