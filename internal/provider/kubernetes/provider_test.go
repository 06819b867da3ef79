package kubernetes_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider/kubernetes"
	"github.com/nephoran/o2ims/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newProvider(t *testing.T, plane *testenv.Plane, name string) *kubernetes.Provider {
	t.Helper()
	p, err := kubernetes.New(kubernetes.Options{Name: name, Kubeconfig: plane.RESTConfigBytes}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// nodeOf finds the resource of a node in a snapshot.
func nodeOf(snap ims.Snapshot, node string) (ims.Resource, bool) {
	for _, r := range snap.Resources {
		if r.Extensions["nodeName"] == node {
			return r, true
		}
	}
	return ims.Resource{}, false
}

func poolByName(snap ims.Snapshot, name string) (ims.ResourcePool, bool) {
	for _, p := range snap.ResourcePools {
		if p.Name == name {
			return p, true
		}
	}
	return ims.ResourcePool{}, false
}

// eventually retries Discover until check accepts the snapshot.
func eventually(t *testing.T, p *kubernetes.Provider, what string, check func(ims.Snapshot) bool) ims.Snapshot {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last ims.Snapshot
	var lastErr error
	for time.Now().Before(deadline) {
		snap, err := p.Discover(context.Background())
		if err == nil && check(snap) {
			return snap
		}
		last, lastErr = snap, err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not reached; last error %v, last snapshot %d resources %d pools", what, lastErr, len(last.Resources), len(last.ResourcePools))
	return last
}

func TestNodesPoolsAndLifecycle(t *testing.T) {
	plane := testenv.Require(t)
	ctx := context.Background()
	p := newProvider(t, plane, "edge-1")
	a, b := "lifecycle-a", "lifecycle-b"
	if err := plane.CreateNode(ctx, a, map[string]string{kubernetes.PoolLabel: "site-east", kubernetes.SiteLabel: "berlin-1", kubernetes.LocationLabel: "DE-BER", "node.kubernetes.io/instance-type": "m5.large"}, "4", "8Gi"); err != nil {
		t.Fatal(err)
	}
	if err := plane.CreateNode(ctx, b, nil, "2", "4Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.DeleteNode(ctx, a); _ = plane.DeleteNode(ctx, b) })
	for _, n := range []string{a, b} {
		if err := plane.WaitNodeReady(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	snap := eventually(t, p, "both nodes present and healthy", func(s ims.Snapshot) bool {
		ra, okA := nodeOf(s, a)
		rb, okB := nodeOf(s, b)
		return okA && okB && ra.Extensions["healthy"] == true && rb.Extensions["healthy"] == true
	})
	east, ok := poolByName(snap, "site-east")
	if !ok {
		t.Fatalf("no pool from the %s label: %+v", kubernetes.PoolLabel, snap.ResourcePools)
	}
	def, ok := poolByName(snap, "edge-1-default")
	if !ok {
		t.Fatal("unlabelled node did not land in the default pool")
	}
	ra, _ := nodeOf(snap, a)
	rb, _ := nodeOf(snap, b)
	if ra.Extensions["operationalState"] != "ENABLED" || ra.Extensions["adminState"] != "UNLOCKED" || ra.Extensions["usageState"] == nil {
		t.Errorf("O2ims states of a ready node: %v", ra.Extensions)
	}
	if ra.ResourcePoolID != east.ResourcePoolID || rb.ResourcePoolID != def.ResourcePoolID {
		t.Fatalf("pools: a in %s (want %s), b in %s (want %s)", ra.ResourcePoolID, east.ResourcePoolID, rb.ResourcePoolID, def.ResourcePoolID)
	}
	var typeOK bool
	for _, ty := range snap.ResourceTypes {
		if ty.ResourceTypeID == ra.ResourceTypeID && ty.Model == "m5.large" {
			typeOK = true
		}
	}
	if !typeOK {
		t.Errorf("node type not derived from the instance type: %+v", snap.ResourceTypes)
	}
	if len(snap.DeploymentManagers) != 1 || snap.DeploymentManagers[0].ServiceURI != plane.APIServerURL {
		t.Fatalf("deployment manager: %+v", snap.DeploymentManagers)
	}
	dm := snap.DeploymentManagers[0]
	if dm.Capabilities["kubernetesVersion"] == "" || dm.Capacity["cpuMillicores"] == nil {
		t.Errorf("deployment manager capabilities/capacity: %+v %+v", dm.Capabilities, dm.Capacity)
	}
	// The site label puts the pool in a site of that name at the
	// location label's location; the unlabelled pool names no site (the
	// inventory puts it in the provider's default site).
	if len(snap.Sites) != 1 || snap.Sites[0].Name != "berlin-1" || snap.Sites[0].GlobalLocationID != "DE-BER" || east.OCloudSiteID != snap.Sites[0].OCloudSiteID {
		t.Errorf("sites %+v, pool east in site %q", snap.Sites, east.OCloudSiteID)
	}
	if def.OCloudSiteID != "" {
		t.Errorf("default pool in site %q, want none", def.OCloudSiteID)
	}

	// Relabelling moves the node to another pool under the same id.
	if err := plane.LabelNode(ctx, b, map[string]string{kubernetes.PoolLabel: "site-east"}); err != nil {
		t.Fatal(err)
	}
	snap = eventually(t, p, "b moved to site-east", func(s ims.Snapshot) bool {
		r, ok := nodeOf(s, b)
		return ok && r.ResourcePoolID == east.ResourcePoolID
	})
	if r, _ := nodeOf(snap, b); r.ResourceID != rb.ResourceID {
		t.Fatalf("relabelling changed the resource id: %s -> %s", rb.ResourceID, r.ResourceID)
	}

	// A second provider instance (a restart) derives the same ids.
	p2 := newProvider(t, plane, "edge-1")
	snap2 := eventually(t, p2, "restarted provider sees a", func(s ims.Snapshot) bool { _, ok := nodeOf(s, a); return ok })
	if r, _ := nodeOf(snap2, a); r.ResourceID != ra.ResourceID {
		t.Fatalf("ids not stable across restarts: %s vs %s", r.ResourceID, ra.ResourceID)
	}

	// Deleting a node removes it.
	if err := plane.DeleteNode(ctx, a); err != nil {
		t.Fatal(err)
	}
	eventually(t, p, "a removed", func(s ims.Snapshot) bool { _, ok := nodeOf(s, a); return !ok })
}

func TestWatchSignalsChanges(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newProvider(t, plane, "watch-1")
	changed := make(chan struct{}, 100)
	go p.Watch(ctx, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	// Let the initial list settle, then drain.
	if _, err := p.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	for len(changed) > 0 {
		<-changed
	}
	name := "watch-node"
	if err := plane.CreateNode(ctx, name, nil, "1", "1Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), name) })
	select {
	case <-changed:
	case <-time.After(30 * time.Second):
		t.Fatal("no change signalled for a new node")
	}
}

func TestUtilizationFollowsPods(t *testing.T) {
	plane := testenv.Require(t)
	ctx := context.Background()
	p := newProvider(t, plane, "util-1")
	node := "util-node"
	if err := plane.CreateNode(ctx, node, map[string]string{kubernetes.PoolLabel: "util-pool"}, "4", "8Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.DeleteNode(ctx, node) })
	if err := plane.WaitNodeReady(ctx, node); err != nil {
		t.Fatal(err)
	}
	util := func(s ims.Snapshot) (float64, float64) {
		pool, ok := poolByName(s, "util-pool")
		if !ok {
			return -1, -1
		}
		u, _ := pool.Extensions["utilization"].(map[string]any)
		cpu, _ := u["cpu"].(float64)
		mem, _ := u["memory"].(float64)
		return cpu, mem
	}
	eventually(t, p, "idle pool", func(s ims.Snapshot) bool { c, m := util(s); return c == 0 && m == 0 })
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "util-pod", "namespace": "default"},
		"spec": map[string]any{
			"nodeSelector": map[string]string{kubernetes.PoolLabel: "util-pool"},
			"tolerations":  []map[string]any{{"operator": "Exists"}},
			"containers": []map[string]any{{"name": "c", "image": "busybox",
				"resources": map[string]any{"requests": map[string]string{"cpu": "2", "memory": "2Gi"}}}},
		},
	}
	if err := plane.Do(ctx, "POST", "/api/v1/namespaces/default/pods", "application/json", pod, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = plane.Do(context.Background(), "DELETE", "/api/v1/namespaces/default/pods/util-pod?gracePeriodSeconds=0", "", nil, nil)
	})
	snap := eventually(t, p, "pod requests counted", func(s ims.Snapshot) bool { c, _ := util(s); return c > 0 })
	cpu, mem := util(snap)
	if cpu != 0.5 || mem != 0.25 {
		t.Fatalf("utilization cpu %v memory %v, want 0.5 and 0.25 (2 of 4 CPUs, 2 of 8 GiB)", cpu, mem)
	}
}

func TestAPIServerOutage(t *testing.T) {
	plane := testenv.Require(t)
	ctx := context.Background()
	p := newProvider(t, plane, "outage-1")
	if _, err := p.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := plane.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	_, err := p.Discover(ctx)
	if ims.ErrorCode(err) != ims.EUNAVAILABLE {
		t.Fatalf("discover with the API server down: %v", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := plane.StartAPIServer(startCtx); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("after-outage-%d", time.Now().UnixNano()%1000)
	if err := plane.CreateNode(ctx, name, nil, "1", "1Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), name) })
	eventually(t, p, "resynced after the outage", func(s ims.Snapshot) bool { _, ok := nodeOf(s, name); return ok })
}

func TestBadKubeconfig(t *testing.T) {
	for _, kc := range []string{"not yaml: [", "apiVersion: v1\nkind: Config\n"} {
		_, err := kubernetes.New(kubernetes.Options{Name: "bad", Kubeconfig: []byte(kc)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if ims.ErrorCode(err) != ims.EINVALID {
			t.Errorf("kubeconfig %q: %v", kc, err)
		}
	}
	_, err := kubernetes.New(kubernetes.Options{Name: "bad", Kubeconfig: []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n"), Context: "nope"}, nil)
	if ims.ErrorCode(err) != ims.EINVALID {
		t.Errorf("unknown context: %v", err)
	}
}

// TestSelfContainedKubeconfig: a kubeconfig sent through the API may not
// run a program or read a file of the server.
func TestSelfContainedKubeconfig(t *testing.T) {
	const head = "apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	const cluster = "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
	tests := []struct {
		name, kubeconfig, want string
	}{
		{"inline credentials", head + cluster + "users: [{name: u, user: {token: abc}}]\n", ""},
		{"exec", head + cluster + "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, id]}}}]\n", `user "u" runs a program`},
		{"auth provider", head + cluster + "users: [{name: u, user: {auth-provider: {name: oidc}}}]\n", "auth-provider plugin"},
		{"token file", head + cluster + "users: [{name: u, user: {tokenFile: /etc/shadow}}]\n", "reads a file"},
		{"client key file", head + cluster + "users: [{name: u, user: {client-certificate: /etc/hostname, client-key: /etc/shadow}}]\n", "reads a file"},
		{"CA file", head + "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority: /etc/passwd}}]\nusers: [{name: u, user: {token: abc}}]\n", `cluster "c" reads a file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kubernetes.New(kubernetes.Options{Name: "api", Kubeconfig: []byte(tt.kubeconfig), SelfContained: true}, slog.New(slog.DiscardHandler))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("a self-contained kubeconfig was refused: %v", err)
				}
				return
			}
			if ims.ErrorCode(err) != ims.EINVALID || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "/etc/") {
				t.Fatalf("err = %v, want EINVALID naming %q and no path", err, tt.want)
			}
		})
	}
}
