package o2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/a1/a1test"
	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/testenv"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// poolCPU is the CPU a pool reports as which (allocatable, requested,
// reserved, free), failing the test when it reports no capacity.
func poolCPU(t *testing.T, p o2.ResourcePool, which string) int64 {
	t.Helper()
	c, ok := p.Capacity()
	if !ok {
		t.Fatalf("pool %s reports no capacity: %v", p.Name, p.Extensions)
	}
	return map[string]int64{"allocatable": c.Allocatable.CPUMillicores, "requested": c.Requested.CPUMillicores,
		"reserved": c.Reserved.CPUMillicores, "free": c.Free.CPUMillicores}[which]
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after a minute", what)
		}
	}
}

// TestEndToEndDeployments is the integration guide's intent flow through
// the SDK, on the real server and a real control plane with kwok nodes in
// three labelled pools: find pools by provider and free capacity, create
// a two-component deployment spread over two pools, survive a restart of
// the IMS while it deploys, wait for ACTIVE, scale, watch a deployment
// whose package the cluster refuses fail and roll back with an alarm, and
// delete, leaving nothing in the cluster and no capacity held.
func TestEndToEndDeployments(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	uniq := clusterTest(t, "dep")
	run := "e2e.nephoran.io/run"
	pools := map[string]struct {
		nodes int
		cpu   string
	}{uniq + "-a": {2, "4"}, uniq + "-b": {2, "4"}, uniq + "-c": {1, "2"}}
	var poolNodes = map[string][]string{}
	for name, p := range pools {
		for i := range p.nodes {
			n := name + "-n" + string(rune('1'+i))
			labels := map[string]string{"nephoran.io/resource-pool": name, run: uniq, "tier": "edge", "topology.kubernetes.io/region": "eu-west-1"}
			if err := plane.CreateNode(ctx, n, labels, p.cpu, "8Gi"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), n) })
			poolNodes[name] = append(poolNodes[name], n)
		}
	}

	// A Near-RT RIC whose A1 policies follow the deployments.
	ric := a1test.New(t, a1test.Standard)
	for _, typ := range []string{"qos-optimization", "traffic-steering", "recovery"} {
		ric.AddType(typ, json.RawMessage(`{"type":"object","required":["scope"]}`))
	}
	dataDir := t.TempDir()
	catalog := filepath.Join(dataDir, "catalog.yaml")
	if err := os.WriteFile(catalog, []byte("amf: {vnfdId: vnfd-"+uniq+", flavourId: small}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serverArgs := []string{"--local-provider=false", "--cnf-operation-timeout", "90s", "--refresh-interval", "2s", "--data-dir", dataDir,
		"--a1-endpoint", ric.URL, "--a1-sync-interval", "1s", "--catalog", catalog}
	addr, stop := startServerProc(t, serverArgs...)
	c, err := o2.NewClient(&o2.Config{Endpoint: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	provName := uniq + "-cluster"
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: provName, Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}}); err != nil {
		t.Fatalf("register provider: %v", err)
	}

	// The guide's query: pools of the wanted providers with the capacity.
	ourPools := o2.And(o2.In("extensions/provider", "kubernetes", "aws", "edge"), o2.Eq("extensions/providerName", provName))
	var all []o2.ResourcePool
	for deadline := time.Now().Add(time.Minute); len(all) < 3; time.Sleep(200 * time.Millisecond) {
		page, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: ourPools, AllFields: true})
		if err != nil {
			t.Fatal(err)
		}
		all = page.Items
		if time.Now().After(deadline) {
			t.Fatalf("%d of our 3 pools after a minute", len(all))
		}
	}
	for _, p := range all {
		if p.Extensions["region"] != "eu-west-1" || poolCPU(t, p, "allocatable") == 0 || poolCPU(t, p, "free") != poolCPU(t, p, "allocatable")-poolCPU(t, p, "requested") {
			t.Errorf("pool %s extensions %v", p.Name, p.Extensions)
		}
	}
	big, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: ourPools, AllFields: true, MinCapacity: o2.ResourceList{o2.ResourceCPU: "6", o2.ResourceMemory: "8Gi"}})
	if err != nil {
		t.Fatal(err)
	}
	var bigNames []string
	for _, p := range big.Items {
		bigNames = append(bigNames, p.Name)
	}
	slices.Sort(bigNames)
	if !slices.Equal(bigNames, []string{uniq + "-a", uniq + "-b"}) {
		t.Fatalf("pools with 6 free cpu = %v, want %s-a and %s-b", bigNames, uniq, uniq)
	}

	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "app", Version: "1.0.0", VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-" + uniq},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1), Resources: &o2.FlavourResources{CPU: "500m", Memory: "64Mi"}}},
	}, bytes.NewReader(cnftest.HelmChart(t)))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	// The advisor turns the guide's intent into a plan on our pools.
	rec, err := c.Advisor().Recommend(ctx, o2.RecommendationRequest{Intent: "Deploy 5G AMF with high availability in EU West region",
		Constraints: &o2.RecommendationConstraints{PoolSelector: run + "=" + uniq}})
	if err != nil {
		t.Fatalf("recommend: %v", err)
	}
	recPools := map[string]bool{}
	for _, a := range rec.Placement.Assignments {
		recPools[a.ResourcePoolName] = true
	}
	if rec.Source != "rules" || len(rec.Plan.Components) != 1 || rec.Plan.Components[0].Replicas != 2 || len(recPools) != 2 ||
		rec.EstimatedCost.Monthly <= 0 || rec.Requirements.Region != "eu-west" {
		t.Fatalf("recommendation %+v on %v", rec, recPools)
	}
	if got, err := c.Advisor().Get(ctx, rec.RecommendationID); err != nil || got.Plan.Name != rec.Plan.Name {
		t.Errorf("Get recommendation: %+v, %v", got, err)
	}

	spec := &o2.DeploymentSpec{
		Name: uniq, Description: "core of " + uniq,
		Components: []o2.DeploymentComponent{
			{Name: "amf", VnfdID: pkg.VnfdInfo.VnfdID, FlavourID: "small", Replicas: 2},
			{Name: "smf", VnfdID: pkg.VnfdInfo.VnfdID, FlavourID: "small", Replicas: 1},
		},
		Placement: &o2.PlacementRules{
			Providers: []string{"kubernetes"}, PoolSelector: run + "=" + uniq + ",tier=edge", Spread: 2,
			MinCapacity: o2.ResourceList{o2.ResourceCPU: "1"},
		},
		NetworkRequirements: &o2.NetworkRequirements{Bandwidth: "10Gbps", Latency: "10ms", SliceID: "embb-1"},
	}

	// A dry run explains the plan and creates nothing.
	spec.DryRun = true
	plan, err := c.Deployments().Create(ctx, spec)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if plan.DeploymentID != "" || len(plan.Status.Placement.Decisions) < 3 || len(plan.Status.Reservations) != 3 || plan.Status.Reservations[0].State != "PLANNED" {
		t.Fatalf("dry run = %+v", plan.Status)
	}
	spec.DryRun = false

	d, err := c.Deployments().Create(ctx, spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if d.DeploymentID == "" || d.ETag == "" || d.Status.Phase != o2.DeploymentPending || d.NetworkRequirements == nil || d.NetworkRequirements.SliceID != "embb-1" {
		t.Fatalf("created %+v", d)
	}
	if _, err := c.Deployments().Create(ctx, spec); !o2.IsConflict(err) {
		t.Errorf("same name again: %v", err)
	}
	held := 0
	for _, r := range d.Status.Reservations {
		if r.State == "HELD" {
			held++
		}
	}
	if held != 3 {
		t.Errorf("reservations %+v, want 3 HELD", d.Status.Reservations)
	}

	// The IMS crashes while deploying; started again on the same data,
	// it carries on.
	stop()
	addr, _ = startServerProc(t, serverArgs...)
	if c, err = o2.NewClient(&o2.Config{Endpoint: "http://" + addr}); err != nil {
		t.Fatal(err)
	}
	d, err = c.Deployments().Wait(ctx, d.DeploymentID, o2.DeploymentActive)
	if err != nil {
		t.Fatalf("wait for ACTIVE: %v", err)
	}

	amfPools := map[string]bool{}
	for _, cs := range d.Status.Components {
		if cs.ReadyReplicas != cs.Replicas || cs.CNFInstanceID == "" || cs.DeploymentManagerID == "" || cs.Phase != "INSTANTIATED" {
			t.Errorf("component status %+v", cs)
		}
		if cs.Name == "amf" {
			amfPools[cs.ResourcePoolName] = true
		}
		inst, err := c.CNFInstances().Get(ctx, cs.CNFInstanceID)
		if err != nil || inst.InstantiationState != o2.Instantiated || inst.InstantiatedCNFInfo.ResourcePoolID != cs.ResourcePoolID || inst.InstantiatedCNFInfo.Namespace != cs.Namespace {
			t.Errorf("instance of %s: %+v, %v", cs.Name, inst, err)
			continue
		}
		for _, n := range runningPods(ctx, t, plane, cs.Namespace) {
			if !slices.Contains(poolNodes[cs.ResourcePoolName], n) {
				t.Errorf("a pod of %s runs on %s, outside pool %s", cs.Name, n, cs.ResourcePoolName)
			}
		}
	}
	if len(d.Status.Components) != 3 || len(amfPools) != 2 {
		t.Fatalf("components %+v: amf on %d pools, want 2", d.Status.Components, len(amfPools))
	}
	for _, r := range d.Status.Reservations {
		if r.State != "RELEASED" {
			t.Errorf("reservation after ACTIVE: %+v", r)
		}
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `o2ims_deployments{phase="ACTIVE"} 1`) || !strings.Contains(string(metrics), `o2ims_deployments{phase="FAILED"} 0`) {
		t.Errorf("metrics lack the deployment gauge")
	}
	found, err := c.Deployments().List(ctx, o2.ListOptions{Filter: o2.And(o2.Cont("name", uniq), o2.Eq("status/phase", "ACTIVE"))})
	if err != nil || len(found.Items) != 1 || found.Items[0].DeploymentID != d.DeploymentID {
		t.Errorf("list by name and phase: %+v, %v", found, err)
	}

	// The RIC has a qos-optimization policy per pool and a
	// traffic-steering policy, and the deployment says they are there.
	ours := func(typ string) map[string]map[string]any {
		out := map[string]map[string]any{}
		for id, b := range ric.Policies(typ) {
			if strings.Contains(id, d.DeploymentID) {
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				out[id] = m
			}
		}
		return out
	}
	poolsUsed := map[string]bool{}
	for _, cs := range d.Status.Components {
		poolsUsed[cs.ResourcePoolID] = true
	}
	waitFor(t, "A1 policies of the deployment", func() bool {
		return len(ours("qos-optimization")) == len(poolsUsed) && len(ours("traffic-steering")) == 1
	})
	waitFor(t, "the A1PolicySynced condition", func() bool {
		cur, err := c.Deployments().Get(ctx, d.DeploymentID)
		return err == nil && slices.ContainsFunc(cur.Status.Conditions, func(c o2.DeploymentCondition) bool { return c.Type == "A1PolicySynced" && c.Status == "True" })
	})

	// Scale smf to 2 through the lifecycle manager.
	if _, err := c.Deployments().Update(ctx, d.DeploymentID, o2.DeploymentPatch{Components: []o2.ComponentReplicas{{Name: "smf", Replicas: 2}}, IfMatch: `"1"`}); err == nil {
		t.Error("a stale If-Match was accepted")
	}
	if _, err := c.Deployments().Scale(ctx, d.DeploymentID, "smf", 2); err != nil {
		t.Fatalf("scale: %v", err)
	}
	d, err = c.Deployments().Wait(ctx, d.DeploymentID, o2.DeploymentScaled)
	if err != nil {
		t.Fatalf("wait for SCALED: %v", err)
	}
	for _, cs := range d.Status.Components {
		if cs.Name != "smf" {
			continue
		}
		inst, err := c.CNFInstances().Get(ctx, cs.CNFInstanceID)
		if err != nil || inst.InstantiatedCNFInfo.Replicas != 2 || cs.Replicas != 2 {
			t.Errorf("smf after scaling: %+v, %+v, %v", cs, inst, err)
		}
	}

	waitFor(t, "the qos policies to count 4 instances (amf 2, smf 2)", func() bool {
		n := 0.0
		for _, p := range ours("qos-optimization") {
			v, _ := p["target_instances"].(float64)
			n += v
		}
		return n == 4
	})

	// An external controller reports a package revision; read the
	// deployment again first, the A1 condition may have changed it.
	if d, err = c.Deployments().Get(ctx, d.DeploymentID); err != nil {
		t.Fatal(err)
	}
	pr := "o2ims-" + uniq + "-v1"
	upd, err := c.Deployments().UpdateStatus(ctx, d.DeploymentID, o2.DeploymentStatusUpdate{ResourceVersion: d.ResourceVersion, PackageRevision: &pr,
		Conditions: []o2.DeploymentCondition{{Type: "Proposed", Status: "True"}}})
	if err != nil || upd.Status.PackageRevision != pr || upd.ResourceVersion != d.ResourceVersion+1 {
		t.Fatalf("UpdateStatus: %+v, %v", upd, err)
	}
	if _, err := c.Deployments().UpdateStatus(ctx, d.DeploymentID, o2.DeploymentStatusUpdate{ResourceVersion: d.ResourceVersion, Message: &pr}); !o2.IsConflict(err) {
		t.Errorf("stale resourceVersion: %v", err)
	}

	// A package the API server refuses: FAILED with its message, rolled
	// back, an alarm raised, its capacity released.
	bad := cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", func(name string, b []byte) []byte {
		if name == "deployment.yaml" {
			return bytes.Replace(b, []byte("- name: app"), []byte("- name: Bad_Name"), 1)
		}
		return b
	})
	bpkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "bad", Version: "1", VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-bad-" + uniq}, Flavours: []o2.Flavour{{FlavourID: "f", Resources: &o2.FlavourResources{CPU: "100m"}}},
	}, bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	failing, err := c.Deployments().Create(ctx, &o2.DeploymentSpec{Name: uniq + "-bad", Components: []o2.DeploymentComponent{{Name: "upf", VnfdID: bpkg.VnfdInfo.VnfdID}},
		Placement: &o2.PlacementRules{PoolSelector: run + "=" + uniq}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deployments().Wait(ctx, failing.DeploymentID, o2.DeploymentActive); err == nil || !strings.Contains(err.Error(), "Bad_Name") {
		t.Fatalf("waiting on a failing deployment: %v", err)
	}
	var f *o2.Deployment
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if f, err = c.Deployments().Get(ctx, failing.DeploymentID); err != nil {
			t.Fatal(err)
		}
		rolledBack := slices.ContainsFunc(f.Status.Conditions, func(c o2.DeploymentCondition) bool { return c.Type == "RolledBack" && c.Status == "True" })
		if rolledBack || time.Now().After(deadline) {
			break
		}
	}
	if f.Status.Phase != o2.DeploymentFailed || f.Status.Error == nil || !strings.Contains(f.Status.Error.Detail, "Bad_Name") {
		t.Fatalf("failed deployment status %+v", f.Status)
	}
	for _, cs := range f.Status.Components {
		if _, err := c.CNFInstances().Get(ctx, cs.CNFInstanceID); !o2.IsNotFound(err) {
			t.Errorf("the failed deployment's instance %s is still there: %v", cs.CNFInstanceID, err)
		}
		if n := deploymentCount(ctx, t, plane, cs.Namespace); n != 0 {
			t.Errorf("the rollback left %d Deployments in %s", n, cs.Namespace)
		}
	}
	for _, r := range f.Status.Reservations {
		if r.State != "RELEASED" {
			t.Errorf("reservation of the failed deployment %+v", r)
		}
	}
	alarms, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSDeploymentFailed"), o2.Eq("extensions/deploymentId", failing.DeploymentID))})
	if err != nil || len(alarms.Items) != 1 {
		t.Errorf("deployment-failed alarms: %+v, %v", alarms, err)
	}

	// Delete both: nothing is left in the cluster, no capacity held.
	for _, id := range []string{d.DeploymentID, failing.DeploymentID} {
		if err := c.Deployments().Delete(ctx, id); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	for _, id := range []string{d.DeploymentID, failing.DeploymentID} {
		if err := c.Deployments().WaitDeleted(ctx, id); err != nil {
			t.Fatalf("wait deleted: %v", err)
		}
	}
	for _, cs := range d.Status.Components {
		if n := deploymentCount(ctx, t, plane, cs.Namespace); n != 0 {
			t.Errorf("%d Deployments left in %s", n, cs.Namespace)
		}
		if _, err := c.CNFInstances().Get(ctx, cs.CNFInstanceID); !o2.IsNotFound(err) {
			t.Errorf("instance %s after delete: %v", cs.CNFInstanceID, err)
		}
	}
	waitFor(t, "the deployment's A1 policies to go", func() bool {
		return len(ours("qos-optimization"))+len(ours("traffic-steering"))+len(ours("recovery")) == 0
	})
	page, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: ourPools, AllFields: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page.Items {
		if poolCPU(t, p, "reserved") != 0 {
			t.Errorf("pool %s still holds %dm", p.Name, poolCPU(t, p, "reserved"))
		}
	}
}

// TestEndToEndDeploymentFailover removes every node of the pool a
// failover deployment runs on: the IMS re-places the component on the
// other pool, with a new CNF instance, and removes the old one.
func TestEndToEndDeploymentFailover(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	uniq := clusterTest(t, "fo")
	run := "e2e.nephoran.io/run"
	big, small := uniq+"-big", uniq+"-small"
	nodes := map[string][]string{big: {big + "-n1", big + "-n2"}, small: {small + "-n1"}}
	for pool, ns := range nodes {
		for _, n := range ns {
			if err := plane.CreateNode(ctx, n, map[string]string{"nephoran.io/resource-pool": pool, run: uniq}, "4", "8Gi"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), n) })
		}
	}
	endpoint := "http://" + startServer(t, "--local-provider=false", "--cnf-operation-timeout", "90s", "--refresh-interval", "2s")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	provName := uniq + "-cluster"
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: provName, Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		page, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("extensions/providerName", provName)})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 pools after a minute", len(page.Items))
		}
	}
	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "app", Version: "1.0.0", VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-" + uniq},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1), Resources: &o2.FlavourResources{CPU: "100m", Memory: "64Mi"}}},
	}, bytes.NewReader(cnftest.HelmChart(t)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deployments().Create(ctx, &o2.DeploymentSpec{
		Name: uniq, Failover: true,
		Components: []o2.DeploymentComponent{{Name: "upf", VnfdID: pkg.VnfdInfo.VnfdID, Replicas: 1}},
		Placement:  &o2.PlacementRules{PoolSelector: run + "=" + uniq},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, err = c.Deployments().Wait(ctx, d.DeploymentID, o2.DeploymentActive); err != nil {
		t.Fatal(err)
	}
	first := d.Status.Components[0]
	if first.ResourcePoolName != big {
		t.Fatalf("upf placed on %s, want %s (more headroom)", first.ResourcePoolName, big)
	}

	// The big pool loses all its nodes, and so leaves the inventory.
	for _, n := range nodes[big] {
		if err := plane.DeleteNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	var cur *o2.Deployment
	sawDegraded := false
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if cur, err = c.Deployments().Get(ctx, d.DeploymentID); err != nil {
			t.Fatal(err)
		}
		sawDegraded = sawDegraded || cur.Status.Phase == o2.DeploymentDegraded
		cs := cur.Status.Components[0]
		if cur.Status.Phase == o2.DeploymentActive && cs.ResourcePoolName == small && len(cur.Status.RetiredCNFInstances) == 0 {
			break
		}
		if cur.Status.Phase == o2.DeploymentFailed || time.Now().After(deadline) {
			t.Fatalf("no failover: %+v", cur.Status)
		}
	}
	now := cur.Status.Components[0]
	if now.CNFInstanceID == first.CNFInstanceID || now.ReadyReplicas != 1 || !sawDegraded {
		t.Errorf("after failover %+v (degraded seen: %v)", now, sawDegraded)
	}
	if !slices.ContainsFunc(cur.Status.Conditions, func(c o2.DeploymentCondition) bool {
		return c.Type == "FailingOver" && c.Status == "False" && c.Reason == "FailedOver"
	}) {
		t.Errorf("conditions %+v", cur.Status.Conditions)
	}
	if _, err := c.CNFInstances().Get(ctx, first.CNFInstanceID); !o2.IsNotFound(err) {
		t.Errorf("the replaced instance: %v", err)
	}
	inst, err := c.CNFInstances().Get(ctx, now.CNFInstanceID)
	if err != nil || inst.InstantiatedCNFInfo == nil || inst.InstantiatedCNFInfo.ResourcePoolName != small {
		t.Fatalf("new instance %+v, %v", inst, err)
	}
	for _, n := range runningPods(ctx, t, plane, now.Namespace) {
		if n != nodes[small][0] {
			t.Errorf("a pod runs on %s, not on %s", n, nodes[small][0])
		}
	}
	if err := c.Deployments().Delete(ctx, d.DeploymentID); err != nil {
		t.Fatal(err)
	}
	if err := c.Deployments().WaitDeleted(ctx, d.DeploymentID); err != nil {
		t.Fatal(err)
	}
}
