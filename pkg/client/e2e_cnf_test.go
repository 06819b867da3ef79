package o2_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/testenv"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// firstOf polls list until it returns an object, for inventory the IMS
// discovers asynchronously, and fails the test after a minute.
func firstOf[T any](ctx context.Context, t *testing.T, what string, list func() (*o2.Page[T], error)) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		page, err := list()
		if err != nil {
			t.Fatalf("listing %s: %v", what, err)
		}
		if len(page.Items) > 0 {
			return page.Items[0]
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s after a minute", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// deploymentReplicas reads spec.replicas of a Deployment from the cluster.
func deploymentReplicas(ctx context.Context, plane *testenv.Plane, ns, name string) (int, error) {
	var d struct {
		Spec struct {
			Replicas int `json:"replicas"`
		} `json:"spec"`
	}
	err := plane.Do(ctx, "GET", "/apis/apps/v1/namespaces/"+ns+"/deployments/"+name, "", nil, &d)
	return d.Spec.Replicas, err
}

// runningPods returns the nodes of the Running pods of namespace ns.
func runningPods(ctx context.Context, t *testing.T, plane *testenv.Plane, ns string) []string {
	t.Helper()
	var pods struct {
		Items []struct {
			Spec   struct{ NodeName string } `json:"spec"`
			Status struct{ Phase string }    `json:"status"`
		} `json:"items"`
	}
	if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+ns+"/pods", "", nil, &pods); err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, p := range pods.Items {
		if p.Status.Phase == "Running" {
			nodes = append(nodes, p.Spec.NodeName)
		}
	}
	return nodes
}

// deploymentCount returns the number of Deployments in namespace ns.
func deploymentCount(ctx context.Context, t *testing.T, plane *testenv.Plane, ns string) int {
	t.Helper()
	var list struct{ Items []any }
	if err := plane.Do(ctx, "GET", "/apis/apps/v1/namespaces/"+ns+"/deployments", "", nil, &list); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

// waitCompleted waits for operation op and fails the test unless it
// completes.
func waitCompleted(ctx context.Context, t *testing.T, c *o2.Client, op *o2.LcmOpOcc) *o2.LcmOpOcc {
	t.Helper()
	done, err := c.LcmOpOccs().Wait(ctx, op.ID)
	if err != nil {
		t.Fatalf("%s operation %s: %v", op.Operation, op.ID, err)
	}
	if done.OperationState != o2.OpCompleted || done.Operation != op.Operation || done.CNFInstanceID != op.CNFInstanceID {
		t.Fatalf("operation %+v", done)
	}
	return done
}

// clusterTest gives the servers t starts a fresh secrets key (to store
// kubeconfigs) and returns a name of t's own, prefix-<8 hex digits>: the
// control plane is shared by the tests of this binary.
func clusterTest(t *testing.T, prefix string) string {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv("O2IMS_SECRETS_KEY", base64.StdEncoding.EncodeToString(key))
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return prefix + "-" + hex.EncodeToString(suffix)
}

// TestEndToEndCNFLifecycle is the integration guide's CNF scenario through
// the SDK, against the real server and a real Kubernetes control plane
// with kwok nodes: register the cluster, upload a Helm chart, create an
// instance, instantiate it onto a pool, scale out and in, terminate,
// delete; then a kpt package.
func TestEndToEndCNFLifecycle(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	uniq := clusterTest(t, "sdk")
	poolName := uniq + "-pool"
	nodes := []string{uniq + "-node-1", uniq + "-node-2"}
	for _, n := range nodes {
		if err := plane.CreateNode(ctx, n, map[string]string{"nephoran.io/resource-pool": poolName}, "4", "8Gi"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), n) })
	}

	endpoint := "http://" + startServer(t, "--local-provider=false", "--cnf-operation-timeout", "90s")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}

	// Register the plane as a provider.
	provName := uniq + "-cluster"
	prov, err := c.Providers().Create(ctx, o2.ProviderRequest{
		Name:   provName,
		Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)},
	})
	if err != nil {
		t.Fatalf("register provider: %v", err)
	}
	if prov.ProviderID == "" || prov.Type != o2.ProviderTypeKubernetes || prov.Origin != o2.ProviderFromAPI || strings.TrimRight(prov.Endpoint, "/") != plane.APIServerURL {
		t.Errorf("provider %+v", prov)
	}
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: provName, Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}}); !o2.IsConflict(err) {
		t.Errorf("second provider of the same name: %v", err)
	}
	if got, err := c.Providers().Get(ctx, prov.ProviderID); err != nil || got.Name != provName {
		t.Errorf("Get provider: %+v, %v", got, err)
	}

	// The deployment manager and the pool, found through the SDK.
	dm := firstOf(ctx, t, "deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
		return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", provName)})
	})
	pool := firstOf(ctx, t, "resource pool", func() (*o2.Page[o2.ResourcePool], error) {
		return c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", poolName)})
	})
	health, err := c.Providers().Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	healthy := false
	for _, h := range health {
		healthy = healthy || h.ProviderID == prov.ProviderID && h.Healthy && !h.LastSync.IsZero()
	}
	if !healthy {
		t.Errorf("provider not healthy once its inventory is there: %+v", health)
	}

	// Upload the Helm chart.
	chart := cnftest.HelmChart(t)
	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "app", Version: "0.3.1",
		VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-" + uniq, VnfProvider: "Nephoran", VnfProductName: "app"},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1),
			Resources: &o2.FlavourResources{CPU: "100m", Memory: "64Mi"}}},
		ScalingAspects: []o2.ScalingAspect{{AspectID: "app", Workload: "app", StepDelta: 1, MaxScaleLevel: 3}},
	}, bytes.NewReader(chart))
	if err != nil {
		t.Fatalf("upload chart: %v", err)
	}
	if pkg.ContentType != o2.PackageHelm || len(pkg.Checksum) != 64 || pkg.Size != int64(len(chart)) || len(pkg.Workloads) == 0 {
		t.Errorf("package %+v", pkg)
	}
	if got, err := c.CNFPackages().Get(ctx, pkg.PackageID); err != nil || got.Checksum != pkg.Checksum {
		t.Errorf("Get package: %+v, %v", got, err)
	}

	// Create the instance.
	inst, err := c.CNFInstances().Create(ctx, o2.CreateCNFInstanceRequest{VnfInstanceName: "app-1", VnfdID: pkg.VnfdInfo.VnfdID})
	if err != nil {
		t.Fatalf("create instance: %v", err)
	}
	id := inst.CNFInstanceID
	if inst.InstantiationState != o2.NotInstantiated || inst.PackageID != pkg.PackageID {
		t.Fatalf("new instance %+v", inst)
	}
	if err := c.CNFPackages().Delete(ctx, pkg.PackageID); !o2.IsConflict(err) {
		t.Errorf("deleting a package in use: %v", err)
	}
	if _, err := c.CNFInstances().Create(ctx, o2.CreateCNFInstanceRequest{VnfdID: "no-such-vnfd"}); !o2.IsUnprocessable(err) {
		t.Errorf("unknown VNFD: %v", err)
	}
	if _, err := c.CNFInstances().Instantiate(ctx, id, o2.InstantiateRequest{FlavourID: "small",
		DeploymentManagerID: dm.DeploymentManagerID, ResourcePoolID: "00000000-0000-4000-8000-000000000000"}); !o2.IsUnprocessable(err) {
		t.Errorf("unknown pool: %v", err)
	}

	// Instantiate onto the pool; a second operation meanwhile conflicts.
	ns := uniq + "-app"
	op, err := c.CNFInstances().Instantiate(ctx, id, o2.InstantiateRequest{
		FlavourID: "small", DeploymentManagerID: dm.DeploymentManagerID, ResourcePoolID: pool.ResourcePoolID, Namespace: ns,
	})
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	if op.Operation != o2.OpInstantiate || op.CNFInstanceID != id || op.OperationState.Final() {
		t.Errorf("instantiate operation %+v", op)
	}
	if _, err := c.CNFInstances().Scale(ctx, id, o2.ScaleRequest{Type: o2.ScaleOut, AspectID: "app", NumberOfSteps: 1}); !o2.IsConflict(err) {
		t.Errorf("second operation while instantiating: %v", err)
	}
	waitCompleted(ctx, t, c, op)
	inst, err = c.CNFInstances().WaitForState(ctx, id, "INSTANTIATED")
	if err != nil {
		t.Fatal(err)
	}
	info := inst.InstantiatedCNFInfo
	if inst.InstantiationState != o2.Instantiated || info == nil || info.Namespace != ns || info.ResourcePoolID != pool.ResourcePoolID || info.ResourcePoolName != poolName ||
		info.DeploymentManagerID != dm.DeploymentManagerID || info.FlavourID != "small" || info.ReadyReplicas != 1 {
		t.Fatalf("instantiated %+v, info %+v", inst, info)
	}
	workload := "cnf-" + id[:8] + "-app"

	// Scale out one step: two replicas, both on nodes of the pool.
	op, err = c.CNFInstances().Scale(ctx, id, o2.ScaleRequest{Type: o2.ScaleOut, AspectID: "app", NumberOfSteps: 1})
	if err != nil {
		t.Fatalf("scale out: %v", err)
	}
	waitCompleted(ctx, t, c, op)
	if r, err := deploymentReplicas(ctx, plane, ns, workload); err != nil || r != 2 {
		t.Fatalf("after SCALE_OUT the Deployment %s/%s has %d replicas (%v), want 2", ns, workload, r, err)
	}
	var running []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if running = runningPods(ctx, t, plane, ns); len(running) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(running) != 2 {
		t.Fatalf("%d pods running, want 2", len(running))
	}
	for _, n := range running {
		if n != nodes[0] && n != nodes[1] {
			t.Errorf("a pod runs on %s, outside pool %s", n, poolName)
		}
	}
	inst, err = c.CNFInstances().Get(ctx, id)
	if err != nil || len(inst.InstantiatedCNFInfo.ScaleStatus) != 1 || inst.InstantiatedCNFInfo.ScaleStatus[0].ScaleLevel != 1 {
		t.Errorf("scale status after SCALE_OUT: %+v, %v", inst, err)
	}
	if _, err := c.CNFInstances().Scale(ctx, id, o2.ScaleRequest{Type: o2.ScaleOut, AspectID: "app", NumberOfSteps: 5}); !o2.IsUnprocessable(err) {
		t.Errorf("scaling beyond the maximum level: %v", err)
	}

	// Scale in again.
	op, err = c.CNFInstances().Scale(ctx, id, o2.ScaleRequest{Type: o2.ScaleIn, AspectID: "app"})
	if err != nil {
		t.Fatalf("scale in: %v", err)
	}
	waitCompleted(ctx, t, c, op)
	if r, err := deploymentReplicas(ctx, plane, ns, workload); err != nil || r != 1 {
		t.Fatalf("after SCALE_IN: %d replicas (%v), want 1", r, err)
	}
	if err := c.CNFInstances().Delete(ctx, id); !o2.IsConflict(err) {
		t.Errorf("deleting an instantiated instance: %v", err)
	}

	// Terminate: nothing is left in the namespace.
	op, err = c.CNFInstances().Terminate(ctx, id, o2.TerminateRequest{TerminationType: o2.Graceful, GracefulTerminationTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("terminate: %v", err)
	}
	waitCompleted(ctx, t, c, op)
	if n := deploymentCount(ctx, t, plane, ns); n != 0 {
		t.Fatalf("%d Deployments left in %s after termination", n, ns)
	}
	if _, err := deploymentReplicas(ctx, plane, ns, workload); !testenv.IsNotFound(err) {
		t.Errorf("the Deployment survived termination: %v", err)
	}
	if inst, err := c.CNFInstances().WaitForState(ctx, id, o2.PhaseNotInstantiated); err != nil || inst.InstantiatedCNFInfo != nil {
		t.Errorf("after termination: %+v, %v", inst, err)
	}

	// Every operation of the instance is on record, completed.
	var ops []o2.LcmOperation
	for o, err := range c.LcmOpOccs().All(ctx, o2.ListOptions{Filter: o2.Eq("cnfInstanceId", id), Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if o.OperationState != o2.OpCompleted {
			t.Errorf("operation %+v", o)
		}
		ops = append(ops, o.Operation)
	}
	if len(ops) != 4 {
		t.Errorf("operations of the instance: %v, want INSTANTIATE, SCALE twice, TERMINATE", ops)
	}

	if err := c.CNFInstances().Delete(ctx, id); err != nil {
		t.Fatalf("delete instance: %v", err)
	}
	if _, err := c.CNFInstances().Get(ctx, id); !o2.IsNotFound(err) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := c.CNFPackages().Delete(ctx, pkg.PackageID); err != nil {
		t.Errorf("delete package: %v", err)
	}

	t.Run("kpt package", func(t *testing.T) {
		content := cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", nil)
		kpkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
			Name: "kapp", Version: "2.1.0", ContentType: o2.PackageKpt,
			VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-k-" + uniq},
			Flavours: []o2.Flavour{{FlavourID: "f", Replicas: new(1)}},
		}, bytes.NewReader(content))
		if err != nil {
			t.Fatalf("upload kpt package: %v", err)
		}
		if kpkg.ContentType != o2.PackageKpt {
			t.Errorf("kpt package %+v", kpkg)
		}
		kinst, err := c.CNFInstances().Create(ctx, o2.CreateCNFInstanceRequest{VnfdID: kpkg.VnfdInfo.VnfdID, FlavourID: "f"})
		if err != nil {
			t.Fatal(err)
		}
		kns := uniq + "-kpt"
		// The flavour is the one the instance was created with.
		op, err := c.CNFInstances().Instantiate(ctx, kinst.CNFInstanceID, o2.InstantiateRequest{
			DeploymentManagerID: dm.DeploymentManagerID, ResourcePoolID: pool.ResourcePoolID, Namespace: kns,
		})
		if err != nil {
			t.Fatalf("instantiate kpt: %v", err)
		}
		waitCompleted(ctx, t, c, op)
		got, err := c.CNFInstances().Get(ctx, kinst.CNFInstanceID)
		if err != nil || got.InstantiatedCNFInfo == nil || got.InstantiatedCNFInfo.FlavourID != "f" {
			t.Fatalf("kpt instance: %+v, %v", got, err)
		}
		var deployments []string
		for _, r := range got.InstantiatedCNFInfo.Resources {
			if r.Kind == "Deployment" {
				deployments = append(deployments, r.Name)
				if n, err := deploymentReplicas(ctx, plane, kns, r.Name); err != nil || n != 1 {
					t.Errorf("Deployment %s/%s: %d replicas, %v", kns, r.Name, n, err)
				}
			}
		}
		if len(deployments) != 1 {
			t.Errorf("Deployments of the kpt instance: %v (resources %+v)", deployments, got.InstantiatedCNFInfo.Resources)
		}
		op, err = c.CNFInstances().Terminate(ctx, kinst.CNFInstanceID, o2.TerminateRequest{TerminationType: o2.Forceful})
		if err != nil {
			t.Fatalf("terminate kpt: %v", err)
		}
		waitCompleted(ctx, t, c, op)
		if n := deploymentCount(ctx, t, plane, kns); n != 0 {
			t.Errorf("%d Deployments left in %s", n, kns)
		}
		if err := c.CNFInstances().Delete(ctx, kinst.CNFInstanceID); err != nil {
			t.Error(err)
		}
	})

	t.Run("a failed operation surfaces its problem", func(t *testing.T) {
		// A container name the API server refuses: the operation fails,
		// rolled back, with the server's message.
		bad := cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", func(name string, b []byte) []byte {
			if name == "deployment.yaml" {
				return bytes.Replace(b, []byte("- name: app"), []byte("- name: Bad_Name"), 1)
			}
			return b
		})
		bpkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
			Name: "bad", Version: "1", VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-bad-" + uniq}, Flavours: []o2.Flavour{{FlavourID: "f"}},
		}, bytes.NewReader(bad))
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		binst, err := c.CNFInstances().Create(ctx, o2.CreateCNFInstanceRequest{VnfdID: bpkg.VnfdInfo.VnfdID})
		if err != nil {
			t.Fatal(err)
		}
		bns := uniq + "-bad"
		op, err := c.CNFInstances().Instantiate(ctx, binst.CNFInstanceID, o2.InstantiateRequest{
			FlavourID: "f", DeploymentManagerID: dm.DeploymentManagerID, ResourcePoolID: pool.ResourcePoolID, Namespace: bns,
		})
		if err != nil {
			t.Fatal(err)
		}
		done, err := c.LcmOpOccs().Wait(ctx, op.ID)
		var oe *o2.OperationError
		if !errors.As(err, &oe) || done.OperationState != o2.OpFailed || done.Error == nil ||
			!strings.Contains(done.Error.Detail, "Bad_Name") || !strings.Contains(err.Error(), "Bad_Name") {
			t.Fatalf("Wait: %+v, %v", done, err)
		}
		// Waiting for the instance to be instantiated ends at once.
		if inst, err := c.CNFInstances().WaitForState(ctx, binst.CNFInstanceID, o2.PhaseInstantiated); err == nil || inst.Phase != o2.PhaseFailed {
			t.Errorf("WaitForState after a failed instantiation: %+v, %v", inst, err)
		}
		if n := deploymentCount(ctx, t, plane, bns); n != 0 {
			t.Errorf("the rollback left %d Deployments", n)
		}
		if _, err := c.LcmOpOccs().Wait(ctx, "00000000-0000-4000-8000-000000000000"); !o2.IsNotFound(err) {
			t.Errorf("Wait on an unknown operation: %v", err)
		}
	})

	// Removing the provider removes its inventory.
	if err := c.Providers().Delete(ctx, prov.ProviderID); err != nil {
		t.Fatalf("delete provider: %v", err)
	}
	if _, err := c.Providers().Get(ctx, prov.ProviderID); !o2.IsNotFound(err) {
		t.Errorf("Get after Delete: %v", err)
	}
	page, err := c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", provName)})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("deployment managers after deleting the provider: %+v, %v", page, err)
	}
}
