package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/testenv"
)

// uploadPackage registers a package with a multipart upload.
func uploadPackage(t testing.TB, s *server, metadata map[string]any, content []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	meta, _ := json.Marshal(metadata)
	_ = mw.WriteField("metadata", string(meta))
	fw, _ := mw.CreateFormFile("content", "package.tgz")
	_, _ = fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", s.base+"/o2ims/v1/cnfPackages", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func decodeMap(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %s", b)
	}
	return m
}

// waitOp polls an operation until it is no longer STARTING or PROCESSING.
func waitOp(t testing.TB, s *server, opID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		status, _, b := s.get(t, "/o2ims/v1/lcmOpOccs/"+opID)
		if status != 200 {
			t.Fatalf("op %s: %d %s", opID, status, b)
		}
		op := decodeMap(t, b)
		if st := op["operationState"]; st != "STARTING" && st != "PROCESSING" {
			return op
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("operation %s did not finish", opID)
	return nil
}

// clusterSetup registers the test plane with a fresh server and returns
// the server, the deployment manager id and a function finding pools.
func clusterSetup(t *testing.T, plane *testenv.Plane, dataDir string) (*server, string) {
	t.Helper()
	s := start(t, "--data-dir", dataDir, "--local-provider=false", "--cnf-operation-timeout", "60s")
	status, body := s.post(t, "/o2ims/v1/providers", map[string]any{"name": "cnf-cluster", "type": "kubernetes", "config": map[string]any{"kubeconfig": string(plane.RESTConfigBytes)}})
	if status != 201 && status != 409 {
		t.Fatalf("register provider: %d %s", status, body)
	}
	waitHTTP(t, s, "/o2ims/v1/deploymentManagers?filter=(eq,name,cnf-cluster)", "deploymentManagerId")
	_, _, b := s.get(t, "/o2ims/v1/deploymentManagers?filter=(eq,name,cnf-cluster)")
	return s, fmt.Sprint(decodeList(t, b)[0]["deploymentManagerId"])
}

func poolID(t testing.TB, s *server, name string) string {
	t.Helper()
	waitHTTP(t, s, "/o2ims/v1/resourcePools?filter=(eq,name,"+name+")", "resourcePoolId")
	_, _, b := s.get(t, "/o2ims/v1/resourcePools?filter=(eq,name,"+name+")")
	return fmt.Sprint(decodeList(t, b)[0]["resourcePoolId"])
}

// deployment reads a Deployment from the cluster.
func deployment(t testing.TB, plane *testenv.Plane, ns, name string) (replicas int, err error) {
	var d struct {
		Spec struct{ Replicas int } `json:"spec"`
	}
	err = plane.Do(context.Background(), "GET", "/apis/apps/v1/namespaces/"+ns+"/deployments/"+name, "", nil, &d)
	return d.Spec.Replicas, err
}

type podList struct {
	Items []struct {
		Metadata struct{ Name string }     `json:"metadata"`
		Spec     struct{ NodeName string } `json:"spec"`
		Status   struct{ Phase string }    `json:"status"`
	} `json:"items"`
}

func runningPods(t testing.TB, plane *testenv.Plane, ns string) podList {
	var pods podList
	if err := plane.Do(context.Background(), "GET", "/api/v1/namespaces/"+ns+"/pods", "", nil, &pods); err != nil {
		t.Fatal(err)
	}
	var out podList
	for _, p := range pods.Items {
		if p.Status.Phase == "Running" {
			out.Items = append(out.Items, p)
		}
	}
	return out
}

// TestCNFLifecycle is the integration guide's scenario: register a package,
// create an instance, instantiate it onto a pool, scale out one step, scale
// in, terminate — on a real control plane with kwok nodes.
func TestCNFLifecycle(t *testing.T) {
	plane := testenv.Require(t)
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv("O2IMS_SECRETS_KEY", base64.StdEncoding.EncodeToString(key))
	for _, n := range []struct{ name, pool string }{{"cnf-east-1", "cnf-east"}, {"cnf-east-2", "cnf-east"}, {"cnf-west-1", "cnf-west"}} {
		if err := plane.CreateNode(ctx, n.name, map[string]string{"nephoran.io/resource-pool": n.pool}, "4", "8Gi"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), n.name) })
	}
	s, dmID := clusterSetup(t, plane, t.TempDir())
	east := poolID(t, s, "cnf-east")

	chart := cnftest.HelmChart(t)
	status, body := uploadPackage(t, s, map[string]any{
		"name": "app", "version": "0.3.1",
		"vnfdInfo":       map[string]any{"vnfdId": "vnfd-app", "vnfProvider": "Nephoran", "vnfProductName": "app"},
		"flavours":       []map[string]any{{"flavourId": "small", "replicas": 1, "resources": map[string]any{"cpu": "100m", "memory": "64Mi"}}},
		"scalingAspects": []map[string]any{{"aspectId": "app", "workload": "app", "stepDelta": 1, "maxScaleLevel": 3}},
	}, chart)
	if status != 201 {
		t.Fatalf("register package: %d %s", status, body)
	}
	pkg := decodeMap(t, body)
	if pkg["contentType"] != "helm" || len(fmt.Sprint(pkg["checksum"])) != 64 {
		t.Fatalf("package: %s", body)
	}

	status, body = s.post(t, "/o2ims/v1/cnfInstances", map[string]any{"vnfInstanceName": "app-1", "vnfdId": "vnfd-app"})
	if status != 201 {
		t.Fatalf("create instance: %d %s", status, body)
	}
	inst := decodeMap(t, body)
	id := fmt.Sprint(inst["cnfInstanceId"])
	if inst["instantiationState"] != "NOT_INSTANTIATED" {
		t.Fatalf("new instance: %s", body)
	}
	// The package cannot go while an instance uses it.
	if status, _, b := s.do(t, "DELETE", "/o2ims/v1/cnfPackages/"+fmt.Sprint(pkg["packageId"])); status != 409 {
		t.Errorf("delete used package: %d %s", status, b)
	}
	// An unknown pool is refused before anything starts.
	if status, body := s.post(t, "/o2ims/v1/cnfInstances/"+id+"/instantiate", map[string]any{"flavourId": "small", "deploymentManagerId": dmID, "resourcePoolId": "00000000-0000-4000-8000-000000000000"}); status != 422 {
		t.Errorf("unknown pool: %d %s", status, body)
	}

	ns := "cnf-lifecycle"
	status, body = s.post(t, "/o2ims/v1/cnfInstances/"+id+"/instantiate", map[string]any{"flavourId": "small", "deploymentManagerId": dmID, "resourcePoolId": east, "namespace": ns})
	if status != 202 {
		t.Fatalf("instantiate: %d %s", status, body)
	}
	op := decodeMap(t, body)
	// A second operation while the first runs is refused.
	if status, body := s.post(t, "/o2ims/v1/cnfInstances/"+id+"/scale", map[string]any{"type": "SCALE_OUT", "aspectId": "app", "numberOfSteps": 1}); status != 409 {
		t.Errorf("concurrent operation: %d %s", status, body)
	}
	if done := waitOp(t, s, fmt.Sprint(op["id"])); done["operationState"] != "COMPLETED" {
		t.Fatalf("instantiate: %v", done)
	}
	_, _, body = s.get(t, "/o2ims/v1/cnfInstances/"+id)
	inst = decodeMap(t, body)
	info, _ := inst["instantiatedCnfInfo"].(map[string]any)
	if inst["instantiationState"] != "INSTANTIATED" || inst["phase"] != "INSTANTIATED" || info["readyReplicas"] != float64(1) {
		t.Fatalf("after instantiate: %s", body)
	}
	workload := "cnf-" + id[:8] + "-app"

	status, body = s.post(t, "/o2ims/v1/cnfInstances/"+id+"/scale", map[string]any{"type": "SCALE_OUT", "aspectId": "app", "numberOfSteps": 1})
	if status != 202 {
		t.Fatalf("scale out: %d %s", status, body)
	}
	if done := waitOp(t, s, fmt.Sprint(decodeMap(t, body)["id"])); done["operationState"] != "COMPLETED" {
		t.Fatalf("scale out: %v", done)
	}
	if r, err := deployment(t, plane, ns, workload); err != nil || r != 2 {
		t.Fatalf("after SCALE_OUT the Deployment has %d replicas (%v), want 2", r, err)
	}
	pods := runningPods(t, plane, ns)
	if len(pods.Items) != 2 {
		t.Fatalf("%d pods running, want 2", len(pods.Items))
	}
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Spec.NodeName, "cnf-east-") {
			t.Errorf("pod %s on %s, outside pool cnf-east", p.Metadata.Name, p.Spec.NodeName)
		}
	}
	// Beyond maxScaleLevel is refused.
	if status, body := s.post(t, "/o2ims/v1/cnfInstances/"+id+"/scale", map[string]any{"type": "SCALE_OUT", "aspectId": "app", "numberOfSteps": 5}); status != 422 {
		t.Errorf("scale beyond max: %d %s", status, body)
	}
	status, body = s.post(t, "/o2ims/v1/cnfInstances/"+id+"/scale", map[string]any{"type": "SCALE_IN", "aspectId": "app", "numberOfSteps": 1})
	if status != 202 {
		t.Fatalf("scale in: %d %s", status, body)
	}
	if done := waitOp(t, s, fmt.Sprint(decodeMap(t, body)["id"])); done["operationState"] != "COMPLETED" {
		t.Fatalf("scale in: %v", done)
	}
	if r, _ := deployment(t, plane, ns, workload); r != 1 {
		t.Fatalf("after SCALE_IN: %d replicas", r)
	}
	// Deleting an instantiated instance is refused.
	if status, _, _ := s.do(t, "DELETE", "/o2ims/v1/cnfInstances/"+id); status != 409 {
		t.Errorf("delete instantiated: %d", status)
	}
	status, body = s.post(t, "/o2ims/v1/cnfInstances/"+id+"/terminate", map[string]any{"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 5})
	if status != 202 {
		t.Fatalf("terminate: %d %s", status, body)
	}
	if done := waitOp(t, s, fmt.Sprint(decodeMap(t, body)["id"])); done["operationState"] != "COMPLETED" {
		t.Fatalf("terminate: %v", done)
	}
	if _, err := deployment(t, plane, ns, workload); !testenv.IsNotFound(err) {
		t.Fatalf("the Deployment survived termination: %v", err)
	}
	_, _, body = s.get(t, "/o2ims/v1/cnfInstances/"+id)
	if inst := decodeMap(t, body); inst["instantiationState"] != "NOT_INSTANTIATED" {
		t.Fatalf("after terminate: %s", body)
	}
	if status, _, b := s.do(t, "DELETE", "/o2ims/v1/cnfInstances/"+id); status != 204 {
		t.Fatalf("delete instance: %d %s", status, b)
	}
	_, _, body = s.get(t, "/metrics")
	if !strings.Contains(string(body), "o2ims_cnf_instances{state=") {
		t.Error("no o2ims_cnf_instances gauge")
	}
	s.stop(t)
}

// TestCNFFailureAndRestart: a manifest the API server rejects fails the
// operation with the server's message and leaves nothing behind; an
// operation interrupted by a crash resumes on restart.
func TestCNFFailureAndRestart(t *testing.T) {
	plane := testenv.Require(t)
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv("O2IMS_SECRETS_KEY", base64.StdEncoding.EncodeToString(key))
	if err := plane.CreateNode(ctx, "cnf-fail-1", map[string]string{"nephoran.io/resource-pool": "cnf-fail"}, "4", "8Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), "cnf-fail-1") })
	dataDir := t.TempDir()
	s, dmID := clusterSetup(t, plane, dataDir)
	failPool := poolID(t, s, "cnf-fail")

	// A kpt package whose container name the API server refuses.
	bad := cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", func(name string, b []byte) []byte {
		if name == "deployment.yaml" {
			return bytes.Replace(b, []byte("- name: app"), []byte("- name: Bad_Name"), 1)
		}
		return b
	})
	status, body := uploadPackage(t, s, map[string]any{"name": "bad", "version": "1", "vnfdInfo": map[string]any{"vnfdId": "vnfd-bad"}, "flavours": []map[string]any{{"flavourId": "f"}}}, bad)
	if status != 201 {
		t.Fatalf("register bad package: %d %s", status, body)
	}
	_, body = s.post(t, "/o2ims/v1/cnfInstances", map[string]any{"vnfdId": "vnfd-bad"})
	badID := fmt.Sprint(decodeMap(t, body)["cnfInstanceId"])
	status, body = s.post(t, "/o2ims/v1/cnfInstances/"+badID+"/instantiate", map[string]any{"flavourId": "f", "deploymentManagerId": dmID, "resourcePoolId": failPool, "namespace": "cnf-bad"})
	if status != 202 {
		t.Fatalf("instantiate bad: %d %s", status, body)
	}
	done := waitOp(t, s, fmt.Sprint(decodeMap(t, body)["id"]))
	perr, _ := done["error"].(map[string]any)
	if done["operationState"] != "FAILED" || !strings.Contains(fmt.Sprint(perr["detail"]), "Bad_Name") {
		t.Fatalf("bad manifest: %v", done)
	}
	_, _, body = s.get(t, "/o2ims/v1/cnfInstances/"+badID)
	if inst := decodeMap(t, body); inst["instantiationState"] != "NOT_INSTANTIATED" || inst["phase"] != "FAILED" {
		t.Fatalf("instance after a failed instantiate: %s", body)
	}
	var objs struct{ Items []any }
	_ = plane.Do(ctx, "GET", "/apis/apps/v1/namespaces/cnf-bad/deployments", "", nil, &objs)
	if len(objs.Items) != 0 {
		t.Fatalf("rollback left %d deployments", len(objs.Items))
	}
	waitHTTP(t, s, "/o2ims-infrastructureMonitoring/v1/alarms?all_fields&filter=(eq,extensions/alarmName,O2IMSCnfOperationFailed)", badID)

	// Restart during PROCESSING: a pool whose only node is cordoned keeps
	// the workload pending; the server dies; the node is uncordoned; the
	// restarted server finishes the operation.
	good := cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", nil)
	status, body = uploadPackage(t, s, map[string]any{"name": "kapp", "version": "2.1.0", "vnfdInfo": map[string]any{"vnfdId": "vnfd-kapp"}, "flavours": []map[string]any{{"flavourId": "f", "replicas": 1}}}, good)
	if status != 201 {
		t.Fatalf("register kpt package: %d %s", status, body)
	}
	if err := plane.CreateNode(ctx, "cnf-later-0", map[string]string{"nephoran.io/resource-pool": "cnf-later"}, "1", "1Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), "cnf-later-0") })
	later := poolID(t, s, "cnf-later")
	// Cordon the pool's only node so the pod stays pending; the pool stays
	// in the inventory.
	cordon := func(on bool) {
		t.Helper()
		if err := plane.Do(ctx, "PATCH", "/api/v1/nodes/cnf-later-0", "application/merge-patch+json", []byte(fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, on)), nil); err != nil {
			t.Fatal(err)
		}
	}
	cordon(true)
	_, body = s.post(t, "/o2ims/v1/cnfInstances", map[string]any{"vnfdId": "vnfd-kapp"})
	kID := fmt.Sprint(decodeMap(t, body)["cnfInstanceId"])
	status, body = s.post(t, "/o2ims/v1/cnfInstances/"+kID+"/instantiate", map[string]any{"flavourId": "f", "deploymentManagerId": dmID, "resourcePoolId": later, "namespace": "cnf-restart"})
	if status != 202 {
		t.Fatalf("instantiate kpt: %d %s", status, body)
	}
	opID := fmt.Sprint(decodeMap(t, body)["id"])
	waitHTTP(t, s, "/o2ims/v1/lcmOpOccs/"+opID, `"operationState":"PROCESSING"`)
	s.Kill()
	cordon(false)
	s2 := start(t, "--data-dir", dataDir, "--local-provider=false", "--cnf-operation-timeout", "60s")
	if done := waitOp(t, s2, opID); done["operationState"] != "COMPLETED" {
		t.Fatalf("resumed operation: %v", done)
	}
	_, _, body = s2.get(t, "/o2ims/v1/cnfInstances/"+kID)
	if inst := decodeMap(t, body); inst["instantiationState"] != "INSTANTIATED" {
		t.Fatalf("after resume: %s", body)
	}
	status, body = s2.post(t, "/o2ims/v1/cnfInstances/"+kID+"/terminate", map[string]any{"terminationType": "FORCEFUL"})
	if status != 202 {
		t.Fatalf("terminate: %d %s", status, body)
	}
	waitOp(t, s2, fmt.Sprint(decodeMap(t, body)["id"]))
	s2.stop(t)
}
