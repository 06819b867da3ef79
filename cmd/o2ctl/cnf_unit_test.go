package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

const neph = "/o2ims/v1"

// opJSON is a lifecycle operation in state, with a problem when FAILED.
func opJSON(id, state string) string {
	s := `{"id":"` + id + `","operation":"SCALE","operationState":"` + state + `","cnfInstanceId":"i1",` +
		`"startTime":"2026-11-25T10:00:00.000000Z","stateEnteredTime":"2026-11-25T10:00:01.000000Z"`
	if state == "FAILED" {
		s += `,"error":{"title":"Operation failed","status":422,"detail":"pods of app did not become ready"}`
	}
	return s + "}"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCNFCommandRequests(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == neph+"/cnfPackages":
			return 201, `{"packageId":"p1","name":"app","version":"0.3.1","vnfdInfo":{"vnfdId":"vnfd-app"},"flavours":[{"flavourId":"small"}]}`
		case r.Method == http.MethodPost && r.URL.Path == neph+"/cnfInstances":
			return 201, `{"cnfInstanceId":"i1","vnfdId":"vnfd-app","instantiationState":"NOT_INSTANTIATED","phase":"NOT_INSTANTIATED"}`
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, neph+"/cnfInstances/"):
			return 202, opJSON("op1", "STARTING")
		case r.Method == http.MethodPost && r.URL.Path == neph+"/providers":
			return 201, `{"providerId":"pr1","name":"edge","type":"kubernetes","origin":"api","status":{"providerId":"pr1","name":"edge","healthy":false}}`
		case r.Method == http.MethodDelete:
			return 204, ""
		}
		return 404, `{"status":404,"detail":"no"}`
	})
	meta := writeFile(t, "meta.yaml", "name: app\nversion: 0.3.1\nvnfdInfo: {vnfdId: vnfd-app}\nflavours:\n- {flavourId: small, replicas: 1}\n")
	chart := writeFile(t, "chart.tgz", "CHART-BYTES")
	kubeconfig := writeFile(t, "edge.kubeconfig", "apiVersion: v1\nkind: Config\n")
	token := writeFile(t, "token", "s3cret\n")

	for _, c := range []struct {
		args []string
		out  string
	}{
		{[]string{"cnf", "package", "upload", "--metadata", meta, "--content", chart}, "p1\n"},
		{[]string{"cnf", "create", "--vnfd", "vnfd-app", "--name", "app-1"}, "i1\n"},
		{[]string{"cnf", "instantiate", "i1", "--flavour", "small", "--dm", "dm1", "--pool", "pool1", "--namespace", "ns"}, "op1\n"},
		{[]string{"cnf", "scale", "i1", "--aspect", "app", "--out", "--steps", "2"}, "op1\n"},
		{[]string{"cnf", "scale", "i1", "--aspect", "app", "--in"}, "op1\n"},
		{[]string{"cnf", "terminate", "i1", "--forceful"}, "op1\n"},
		{[]string{"cnf", "terminate", "i1", "--graceful-timeout", "30s"}, "op1\n"},
		{[]string{"cnf", "delete", "i1"}, "cnfinstance/i1 deleted\n"},
		{[]string{"cnf", "package", "delete", "p1"}, "cnfpackage/p1 deleted\n"},
		{[]string{"provider", "add", "edge", "--kubeconfig", kubeconfig, "--kube-context", "admin"}, "pr1\n"},
		{[]string{"provider", "delete", "pr1"}, "provider/pr1 deleted\n"},
		{[]string{"provider", "add", "fleet", "--type", "gitops", "--repository", "https://git.example/fleet.git", "--username", "bot", "--password-file", token, "--target-cluster", "edge"}, "pr1\n"},
		{[]string{"provider", "add", "edge", "--kubeconfig", kubeconfig, "--delivery", "gitops", "--repository", "https://git.example/edge.git"}, "pr1\n"},
		{[]string{"provider", "add", "nephio", "--type", "porch", "--kubeconfig", kubeconfig, "--auto-approve", "--repository", "deploys"}, "pr1\n"},
	} {
		out, errOut, code := runAgainst(t, ims.URL, c.args...)
		if code != 0 || out != c.out || errOut != "" {
			t.Errorf("o2ctl %s: exit %d, stdout %q, stderr %q", strings.Join(c.args, " "), code, out, errOut)
		}
	}

	reqs := ims.requests()
	if len(reqs) != 14 {
		t.Fatalf("%d requests:\n%s", len(reqs), strings.Join(reqs, "\n"))
	}
	upload := reqs[0]
	for _, want := range []string{"POST " + neph + "/cnfPackages multipart/form-data; boundary=",
		`name="metadata"`, `"vnfdInfo":{"vnfdId":"vnfd-app"}`, `"flavours":[{"flavourId":"small","replicas":1}]`,
		`name="content"; filename="chart.tgz"`, "CHART-BYTES"} {
		if !strings.Contains(upload, want) {
			t.Errorf("upload request lacks %q:\n%s", want, upload)
		}
	}
	for i, want := range []string{
		"",
		"POST " + neph + `/cnfInstances application/json {"vnfInstanceName":"app-1","vnfdId":"vnfd-app"}`,
		"POST " + neph + `/cnfInstances/i1/instantiate application/json {"flavourId":"small","deploymentManagerId":"dm1","resourcePoolId":"pool1","namespace":"ns"}`,
		"POST " + neph + `/cnfInstances/i1/scale application/json {"type":"SCALE_OUT","aspectId":"app","numberOfSteps":2}`,
		"POST " + neph + `/cnfInstances/i1/scale application/json {"type":"SCALE_IN","aspectId":"app","numberOfSteps":1}`,
		"POST " + neph + `/cnfInstances/i1/terminate application/json {"terminationType":"FORCEFUL"}`,
		"POST " + neph + `/cnfInstances/i1/terminate application/json {"terminationType":"GRACEFUL","gracefulTerminationTimeout":30}`,
		"DELETE " + neph + "/cnfInstances/i1",
		"DELETE " + neph + "/cnfPackages/p1",
		"POST " + neph + `/providers application/json {"name":"edge","type":"kubernetes","config":{"kubeconfig":"apiVersion: v1\nkind: Config\n","context":"admin"}}`,
		"DELETE " + neph + "/providers/pr1",
		"POST " + neph + `/providers application/json {"name":"fleet","type":"gitops","config":{"repository":"https://git.example/fleet.git","username":"bot","password":"s3cret","targetCluster":"edge"}}`,
		"POST " + neph + `/providers application/json {"name":"edge","type":"kubernetes","config":{"kubeconfig":"apiVersion: v1\nkind: Config\n","delivery":"gitops","repository":"https://git.example/edge.git"}}`,
		"POST " + neph + `/providers application/json {"name":"nephio","type":"porch","config":{"kubeconfig":"apiVersion: v1\nkind: Config\n","repository":"deploys","autoApprove":true}}`,
	} {
		if want != "" && reqs[i] != want {
			t.Errorf("request %d\n got %s\nwant %s", i, reqs[i], want)
		}
	}
}

func TestCNFCommandUsageErrors(t *testing.T) {
	ims := newFakeIMS(t, func(*http.Request) (int, string) { return 500, `{}` })
	chart := writeFile(t, "chart.tgz", "x")
	typo := writeFile(t, "meta.json", `{"name":"app","version":"1","vnfdInfo":{"vnfdId":"v"},"flavors":[{"flavourId":"f"}]}`)
	kubeconfig := writeFile(t, "k", "x")
	for _, args := range [][]string{
		{"cnf", "package", "upload", "--content", chart},
		{"cnf", "package", "upload", "--metadata", typo, "--content", chart}, // "flavors": refused before sending
		{"cnf", "create"},
		{"cnf", "instantiate", "i1", "--flavour", "f"},
		{"cnf", "instantiate", "--dm", "dm1"},
		{"cnf", "scale", "i1", "--aspect", "app"},
		{"cnf", "scale", "i1", "--aspect", "app", "--out", "--in"},
		{"cnf", "scale", "i1", "--out"},
		{"cnf", "scale", "i1", "--aspect", "app", "--out", "--steps", "0"},
		{"cnf", "terminate", "i1", "--forceful", "--graceful-timeout", "5s"},
		{"cnf", "terminate", "i1", "--wait-timeout", "0s"},
		{"cnf", "terminate", "i1", "-o", "table"},
		{"cnf", "delete"},
		{"provider", "add", "edge"},
		{"provider", "add", "edge", "--kubeconfig", kubeconfig, "--kubeconfig-path", "/k"},
		{"provider", "add", "--kubeconfig", kubeconfig},
		{"provider", "add", "fleet", "--type", "gitops"},
		{"provider", "add", "fleet", "--type", "gitops", "--repository", "https://g/x.git", "--kubeconfig", kubeconfig},
		{"provider", "add", "nephio", "--type", "porch", "--repository", "deploys"},
		{"provider", "add", "x", "--type", "aws-ish", "--kubeconfig", kubeconfig},
	} {
		out, errOut, code := runAgainst(t, ims.URL, args...)
		if code != exitError || out != "" || !strings.HasPrefix(errOut, "o2ctl: ") {
			t.Errorf("o2ctl %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	if reqs := ims.requests(); len(reqs) != 0 {
		t.Errorf("requests sent:\n%s", strings.Join(reqs, "\n"))
	}
}

func TestCNFWait(t *testing.T) {
	var final atomic.Value
	var gets atomic.Int32
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		if r.Method == http.MethodPost {
			return 202, opJSON("op1", "STARTING")
		}
		if gets.Add(1) < 2 {
			return 200, opJSON("op1", "PROCESSING")
		}
		return 200, opJSON("op1", final.Load().(string))
	})

	final.Store("COMPLETED")
	out, errOut, code := runAgainst(t, ims.URL, "cnf", "scale", "i1", "--aspect", "app", "--out", "--wait")
	if code != 0 || out != "op1\n" || errOut != "" || gets.Load() < 2 {
		t.Errorf("completed: exit %d, stdout %q, stderr %q after %d GETs", code, out, errOut, gets.Load())
	}

	// -o json prints the operation in its final state.
	gets.Store(0)
	out, _, code = runAgainst(t, ims.URL, "cnf", "terminate", "i1", "--wait", "-o", "json")
	var op o2.LcmOpOcc
	if err := json.Unmarshal([]byte(out), &op); err != nil || code != 0 || op.OperationState != o2.OpCompleted {
		t.Errorf("-o json: exit %d, %v\n%s", code, err, out)
	}

	// A failed operation: the ID is printed, the problem reported, exit 7.
	gets.Store(0)
	final.Store("FAILED")
	out, errOut, code = runAgainst(t, ims.URL, "cnf", "scale", "i1", "--aspect", "app", "--out", "--wait")
	if code != exitOpFailed || out != "op1\n" || !strings.Contains(errOut, "FAILED: 422 Operation failed: pods of app did not become ready") {
		t.Errorf("failed: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// Without --wait nothing is polled.
	gets.Store(0)
	if _, _, code := runAgainst(t, ims.URL, "cnf", "scale", "i1", "--aspect", "app", "--in"); code != 0 || gets.Load() != 0 {
		t.Errorf("no wait: exit %d after %d GETs", code, gets.Load())
	}

	// --wait-timeout bounds the wait: exit 4, like any timeout.
	gets.Store(-1000)
	out, errOut, code = runAgainst(t, ims.URL, "cnf", "scale", "i1", "--aspect", "app", "--out", "--wait", "--wait-timeout", "300ms")
	if code != exitUnavailable || out != "op1\n" || !strings.Contains(errOut, "PROCESSING") {
		t.Errorf("timeout: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestCNFConflictAndUnprocessableExitCodes(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/scale") {
			return 422, `{"status":422,"title":"Unprocessable Entity","detail":"scaling app from level 3 by 1 steps leaves [0, 3]"}`
		}
		return 409, `{"status":409,"title":"Conflict","detail":"an operation is under way on CNF instance \"i1\""}`
	})
	_, errOut, code := runAgainst(t, ims.URL, "cnf", "terminate", "i1")
	if code != exitConflict || !strings.Contains(errOut, "under way") {
		t.Errorf("409: exit %d, %q", code, errOut)
	}
	_, errOut, code = runAgainst(t, ims.URL, "cnf", "scale", "i1", "--aspect", "app", "--out")
	if code != exitUnprocessable || !strings.Contains(errOut, "leaves [0, 3]") {
		t.Errorf("422: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runAgainst(t, ims.URL, "cnf", "delete", "i1"); code != exitConflict {
		t.Errorf("delete: exit %d, %q", code, errOut)
	}
}

func TestCNFExitCodes(t *testing.T) {
	failed := &o2.OperationError{Op: &o2.LcmOpOcc{ID: "op1", OperationState: o2.OpFailed}}
	for err, want := range map[error]int{
		&o2.ProblemError{Status: 422}:                          exitUnprocessable,
		fmt.Errorf("scale: %w", &o2.ProblemError{Status: 422}): exitUnprocessable,
		failed:                            exitOpFailed,
		fmt.Errorf("waiting: %w", failed): exitOpFailed,
		errors.New("o2: empty phase"):     exitError,
		&o2.ProblemError{Status: 409}:     exitConflict,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestCNFTablesAndDescribe(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		switch r.URL.Path {
		case neph + "/cnfInstances":
			return 200, `[{"cnfInstanceId":"3f1e0c4a-5d2b-4b8e-9a47-0c2d1e6f8a90","vnfInstanceName":"app-1","vnfdId":"vnfd-app",
				"packageId":"p1","flavourId":"small","instantiationState":"INSTANTIATED","phase":"SCALING",
				"instantiatedCnfInfo":{"flavourId":"small","deploymentManagerId":"dm1","resourcePoolId":"pool1","namespace":"app",
				"scaleStatus":[{"aspectId":"app","scaleLevel":1}],"replicas":2,"readyReplicas":1,"resources":[]}},
				{"cnfInstanceId":"b2","vnfdId":"vnfd-app","instantiationState":"NOT_INSTANTIATED","phase":"NOT_INSTANTIATED"}]`
		case neph + "/cnfInstances/b2":
			return 200, `{"cnfInstanceId":"b2","vnfInstanceName":"app-2","vnfdId":"vnfd-app","packageId":"p1",
				"instantiationState":"NOT_INSTANTIATED","phase":"FAILED","createdAt":"2026-11-25T10:00:00.000000Z"}`
		case neph + "/lcmOpOccs":
			return 200, "[" + opJSON("op1", "FAILED") + "]"
		case neph + "/providers":
			return 200, `[{"providerId":"pr1","name":"edge","type":"kubernetes","origin":"api","endpoint":"https://10.0.0.1:6443",
				"status":{"providerId":"pr1","name":"edge","healthy":true,"lastSync":"2026-11-25T10:00:00.5Z"}}]`
		case neph + "/cnfPackages":
			return 200, `[{"packageId":"p1","name":"app","version":"0.3.1","contentType":"helm","vnfdInfo":{"vnfdId":"vnfd-app"},
				"flavours":[{"flavourId":"small"},{"flavourId":"large"}],"scalingAspects":[{"aspectId":"app","workload":"app","stepDelta":1,"maxScaleLevel":3}],
				"workloads":[{"kind":"Deployment","name":"app"}],"checksum":"ab12","size":1234}]`
		}
		return 404, `{"status":404}`
	})
	out, _, code := runAgainst(t, ims.URL, "get", "cnf", "-o", "wide")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("get cnf: exit %d\n%s", code, out)
	}
	for _, want := range []string{"ID", "NAME", "VNFD", "STATE", "PHASE", "READY", "NAMESPACE", "DEPLOYMENT MANAGER", "POOL", "SCALE"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header lacks %s: %q", want, lines[0])
		}
	}
	for _, want := range []string{"app-1", "INSTANTIATED", "SCALING", "1/2", "app", "dm1", "pool1", "app=1"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row lacks %s: %q", want, lines[1])
		}
	}
	if !strings.Contains(lines[2], "NOT_INSTANTIATED") || !strings.Contains(lines[2], "<none>") {
		t.Errorf("row of an instance not instantiated: %q", lines[2])
	}

	out, _, _ = runAgainst(t, ims.URL, "get", "ops", "-o", "wide")
	if !strings.Contains(out, "SCALE") || !strings.Contains(out, "FAILED") || !strings.Contains(out, "pods of app did not become ready") {
		t.Errorf("get ops:\n%s", out)
	}
	out, _, _ = runAgainst(t, ims.URL, "get", "providers")
	if !strings.Contains(out, "HEALTHY") || !strings.Contains(out, "true") || !strings.Contains(out, "2026-11-25T10:00:00Z") {
		t.Errorf("get providers:\n%s", out)
	}
	out, _, _ = runAgainst(t, ims.URL, "get", "pkg", "-o", "wide")
	for _, want := range []string{"vnfd-app", "helm", "small,large", "app(0-3)", "Deployment/app", "1234"} {
		if !strings.Contains(out, want) {
			t.Errorf("get pkg lacks %s:\n%s", want, out)
		}
	}
	out, _, code = runAgainst(t, ims.URL, "describe", "cnfinstance", "b2")
	if code != 0 || !strings.HasPrefix(out, "CNF Instance ID:") {
		t.Errorf("describe:\n%s", out)
	}
	for _, want := range []string{"VNF Instance Name:", "app-2", "VNFD ID:", "Phase:", "FAILED"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
}

func TestCNFKindNames(t *testing.T) {
	for name, want := range map[string]string{
		"cnfpackages": "cnfpackages", "cnfpackage": "cnfpackages", "pkg": "cnfpackages",
		"cnfinstances": "cnfinstances", "CnfInstance": "cnfinstances", "cnf": "cnfinstances", "cnfi": "cnfinstances",
		"lcmopoccs": "lcmopoccs", "lcmopocc": "lcmopoccs", "op": "lcmopoccs", "ops": "lcmopoccs",
		"providers": "providers", "provider": "providers", "prov": "providers",
	} {
		k, err := findKind(name)
		if err != nil || k.name != want {
			t.Errorf("findKind(%q) = %v, %v; want %s", name, k, err, want)
		}
	}
}
