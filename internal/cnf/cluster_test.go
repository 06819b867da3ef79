package cnf

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/testenv"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Nodes of the two pools. Every test that needs them creates them if
// missing; tests share the plane and so the nodes.
var poolNodes = map[string]string{"cnf-test-node-a": "pool-a", "cnf-test-node-b": "pool-b"}

// tWriter sends log output to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// setup returns the shared plane with the pool nodes Ready, a Cluster for
// it, and a fresh namespace name and instance id.
func setup(t *testing.T) (*testenv.Plane, *Cluster, string, string) {
	t.Helper()
	p := testenv.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for node, pool := range poolNodes {
		err := p.CreateNode(ctx, node, map[string]string{LabelPool: pool}, "16", "64Gi")
		var se *testenv.StatusError
		if err != nil && !(errors.As(err, &se) && se.Code == http.StatusConflict) {
			t.Fatal(err)
		}
	}
	for node := range poolNodes {
		if err := p.WaitNodeReady(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(p.RESTConfigBytes)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := NewCluster(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suffix := hex.EncodeToString(b)
	return p, c, "cnf-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))[:min(30, len(t.Name()))] + "-" + suffix, "inst-" + suffix
}

// pod is the part of a Pod the tests look at.
type pod struct {
	Metadata struct {
		Name              string  `json:"name"`
		DeletionTimestamp *string `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

func listPods(t *testing.T, p *testenv.Plane, ns, id string) []pod {
	t.Helper()
	var list struct{ Items []pod }
	path := "/api/v1/namespaces/" + ns + "/pods?labelSelector=" + url.QueryEscape(LabelInstance+"="+id)
	if err := p.Do(t.Context(), http.MethodGet, path, "", nil, &list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// checkPods verifies that exactly want live pods of the instance run, all
// on nodes of pool.
func checkPods(t *testing.T, p *testenv.Plane, ns, id, pool string, want int) {
	t.Helper()
	var running []pod
	for _, pd := range listPods(t, p, ns, id) {
		if pd.Metadata.DeletionTimestamp == nil {
			running = append(running, pd)
		}
	}
	if len(running) != want {
		t.Fatalf("%d live pods, want %d: %+v", len(running), want, running)
	}
	for _, pd := range running {
		if pd.Status.Phase != "Running" {
			t.Errorf("pod %s is %s", pd.Metadata.Name, pd.Status.Phase)
		}
		n, err := p.GetNode(t.Context(), pd.Spec.NodeName)
		if err != nil {
			t.Fatalf("pod %s on node %q: %v", pd.Metadata.Name, pd.Spec.NodeName, err)
		}
		if got := n.Metadata.Labels[LabelPool]; got != pool {
			t.Errorf("pod %s runs on %s of pool %q, want pool %q", pd.Metadata.Name, n.Metadata.Name, got, pool)
		}
	}
}

// checkGone verifies that no object of the instance is left in ns.
func checkGone(t *testing.T, p *testenv.Plane, ns, id string) {
	t.Helper()
	sel := "?labelSelector=" + url.QueryEscape(LabelInstance+"="+id)
	for _, path := range []string{
		"/apis/apps/v1/namespaces/" + ns + "/deployments",
		"/apis/apps/v1/namespaces/" + ns + "/replicasets",
		"/apis/apps/v1/namespaces/" + ns + "/statefulsets",
		"/api/v1/namespaces/" + ns + "/pods",
		"/api/v1/namespaces/" + ns + "/services",
		"/api/v1/namespaces/" + ns + "/configmaps",
		"/apis/discovery.k8s.io/v1/namespaces/" + ns + "/endpointslices",
	} {
		var list struct {
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
			}
		}
		if err := p.Do(t.Context(), http.MethodGet, path+sel, "", nil, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 0 {
			t.Errorf("%s still holds %+v", path, list.Items)
		}
	}
}

func TestHelmLifecycle(t *testing.T) {
	t.Parallel()
	p, c, ns, id := setup(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	chart := helmChart(t)
	params := RenderParams{InstanceID: id, ReleaseName: "cnf-h1", Namespace: ns, Pool: "pool-a",
		Resources: &Resources{CPU: "100m", Memory: "64Mi"}}
	objs, err := Render(ctx, KindHelm, chart, params)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := c.Apply(ctx, ns, objs)
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := []ObjectRef{
		{APIVersion: "v1", Kind: "Service", Namespace: ns, Name: "cnf-h1-app"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "cnf-h1-app"},
	}
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Errorf("refs = %+v, want %+v", refs, wantRefs)
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 2*time.Minute)
	defer waitCancel()
	if err := c.WaitReady(waitCtx, refs); err != nil {
		t.Fatal(err)
	}
	checkPods(t, p, ns, id, "pool-a", 1)

	// Scale out by re-rendering with a replica override.
	params.Replicas = map[string]int{"cnf-h1-app": 2}
	objs, err = Render(ctx, KindHelm, chart, params)
	if err != nil {
		t.Fatal(err)
	}
	if refs, err = c.Apply(ctx, ns, objs); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(waitCtx, refs); err != nil {
		t.Fatal(err)
	}
	var dep struct {
		Spec struct{ Replicas int } `json:"spec"`
	}
	if err := p.Do(ctx, http.MethodGet, "/apis/apps/v1/namespaces/"+ns+"/deployments/cnf-h1-app", "", nil, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.Spec.Replicas != 2 {
		t.Errorf("deployment spec.replicas = %d, want 2", dep.Spec.Replicas)
	}
	checkPods(t, p, ns, id, "pool-a", 2)
	st, err := c.Status(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := WorkloadStatus{Replicas: 2, ReadyReplicas: 2,
		Workloads: []WorkloadReplicas{{Kind: "Deployment", Name: "cnf-h1-app", Replicas: 2, ReadyReplicas: 2}}}
	if !reflect.DeepEqual(st, wantStatus) {
		t.Errorf("Status = %+v, want %+v", st, wantStatus)
	}

	// An object of the instance that is not among refs, as left by an
	// earlier render, is deleted too.
	extra := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "leftover", "labels": map[string]string{LabelInstance: id}},
	}
	if err := p.Do(ctx, http.MethodPost, "/api/v1/namespaces/"+ns+"/configmaps", "", extra, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Delete(ctx, id, ns, refs, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("Delete took %v", time.Since(start).Round(time.Millisecond))
	checkGone(t, p, ns, id)
	st, err = c.Status(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	if st.Replicas != 0 || st.ReadyReplicas != 0 || len(st.Workloads) != 1 {
		t.Errorf("Status after Delete = %+v, want the workload with zero replicas", st)
	}
	// Deleting again finds nothing to do.
	if err := c.Delete(ctx, id, ns, refs, nil); err != nil {
		t.Fatal(err)
	}
}

func TestKptLifecycle(t *testing.T) {
	t.Parallel()
	p, c, ns, id := setup(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	params := RenderParams{InstanceID: id, ReleaseName: "cnf-k1", Namespace: ns, Pool: "pool-b",
		Values: map[string]any{"replicas": 2, "tag": "2.0"}}
	objs, err := Render(ctx, KindKpt, kptPackageTgz(t), params)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := c.Apply(ctx, ns, objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 {
		t.Fatalf("refs = %+v", refs)
	}
	if err := c.WaitReady(ctx, refs); err != nil {
		t.Fatal(err)
	}
	checkPods(t, p, ns, id, "pool-b", 2)
	st, err := c.Status(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	if st.Replicas != 2 || st.ReadyReplicas != 2 || len(st.Workloads) != 1 || st.Workloads[0].Name != "cnf-k1" {
		t.Errorf("Status = %+v", st)
	}
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct{ Image string } `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := p.Do(ctx, http.MethodGet, "/apis/apps/v1/namespaces/"+ns+"/deployments/cnf-k1", "", nil, &dep); err != nil {
		t.Fatal(err)
	}
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != "registry.invalid/cnf/kapp:2.0" {
		t.Errorf("image = %q", got)
	}

	// Scale in.
	params.Replicas = map[string]int{"cnf-k1": 1}
	if objs, err = Render(ctx, KindKpt, kptPackageTgz(t), params); err != nil {
		t.Fatal(err)
	}
	if refs, err = c.Apply(ctx, ns, objs); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(ctx, refs); err != nil {
		t.Fatal(err)
	}
	if st, err = c.Status(ctx, refs); err != nil || st.Replicas != 1 || st.ReadyReplicas != 1 {
		t.Errorf("Status after scale in = %+v, %v", st, err)
	}

	zero := int64(0)
	if err := c.Delete(ctx, id, ns, refs, &zero); err != nil {
		t.Fatal(err)
	}
	checkGone(t, p, ns, id)
}

// TestApplyRejected checks that an object the API server rejects fails
// Apply with EUNPROCESSABLE and the server's message, and that the dry run
// kept the valid objects of the same call from being created.
func TestApplyRejected(t *testing.T) {
	t.Parallel()
	p, c, ns, id := setup(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	objs, err := parseManifests("bad.yaml", []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
data:
  a: b
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  selector:
    matchLabels: {app: bad}
  template:
    metadata:
      labels: {app: bad}
    spec:
      containers:
        - name: Bad_Name
          image: registry.invalid/x:1
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := decorate(objs, RenderParams{InstanceID: id, Namespace: ns}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Apply(ctx, ns, objs)
	wantCode(t, err, ims.EUNPROCESSABLE, "Deployment", "bad", "Bad_Name", "Invalid value")
	t.Log(ims.ErrorMessage(err))
	if err := p.Do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns+"/configmaps/fine", "", nil, nil); !testenv.IsNotFound(err) {
		t.Errorf("the valid ConfigMap was applied despite the rejected Deployment (err %v)", err)
	}

	unknown := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "widgets.example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"},
	}}
	_, err = c.Apply(ctx, ns, []*unstructured.Unstructured{unknown})
	wantCode(t, err, ims.EUNPROCESSABLE, "does not serve", "Widget")
}

// TestApplyCRD applies a CustomResourceDefinition and a resource of its
// kind in one call: the resource waits until the API serves the kind.
func TestApplyCRD(t *testing.T) {
	t.Parallel()
	p, c, ns, id := setup(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	group := strings.TrimPrefix(id, "inst-") + ".cnf.example.com"
	objs, err := parseManifests("crd.yaml", []byte(fmt.Sprintf(`apiVersion: %[1]s/v1
kind: Gadget
metadata:
  name: g1
spec:
  size: 3
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.%[1]s
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`, group)))
	if err != nil {
		t.Fatal(err)
	}
	if err := decorate(objs, RenderParams{InstanceID: id, Namespace: ns}); err != nil {
		t.Fatal(err)
	}
	refs, err := c.Apply(ctx, ns, objs)
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectRef{
		{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition", Name: "gadgets." + group},
		{APIVersion: group + "/v1", Kind: "Gadget", Namespace: ns, Name: "g1"},
	}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("refs = %+v, want %+v", refs, want)
	}
	if err := p.Do(ctx, http.MethodGet, "/apis/"+group+"/v1/namespaces/"+ns+"/gadgets/g1", "", nil, nil); err != nil {
		t.Errorf("the Gadget was not created: %v", err)
	}
	if err := c.Delete(ctx, id, ns, refs, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Do(ctx, http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets."+group, "", nil, nil); !testenv.IsNotFound(err) {
		t.Errorf("the CRD is still there (err %v)", err)
	}
}

// TestWaitReadyTimeout checks the error of a workload that cannot become
// ready: its pods match no node.
func TestWaitReadyTimeout(t *testing.T) {
	t.Parallel()
	_, c, ns, id := setup(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	objs, err := Render(ctx, KindHelm, helmChart(t), RenderParams{InstanceID: id, ReleaseName: "stuck", Namespace: ns, Pool: "no-such-pool"})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := c.Apply(ctx, ns, objs)
	if err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	err = c.WaitReady(short, refs)
	wantCode(t, err, ims.EUNAVAILABLE, "Deployment "+ns+"/stuck-app", "0 of 1 replicas ready")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap the deadline", err)
	}
	t.Log(ims.ErrorMessage(err))
	st, err := c.Status(ctx, refs)
	if err != nil || st.Replicas != 1 || st.ReadyReplicas != 0 {
		t.Errorf("Status = %+v, %v; want 0 of 1 ready", st, err)
	}
	if err := c.Delete(ctx, id, ns, refs, nil); err != nil {
		t.Fatal(err)
	}
}

// TestClusterUnreachable checks the error classes when no API server
// answers; it needs no control plane.
func TestClusterUnreachable(t *testing.T) {
	c, err := NewCluster(&rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	objs, err := Render(ctx, KindHelm, helmChart(t), baseParams())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Apply(ctx, "cnf-ns", objs)
	wantCode(t, err, ims.EUNAVAILABLE)
	_, err = c.Status(ctx, []ObjectRef{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "x", Name: "y"}})
	wantCode(t, err, ims.EUNAVAILABLE)
	wantCode(t, c.Delete(ctx, "", "x", nil, nil), ims.EINVALID)
	_, err = NewCluster(nil, nil)
	wantCode(t, err, ims.EINVALID)
}
