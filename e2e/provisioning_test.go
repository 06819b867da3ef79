package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testenv"
)

const provBase = "/o2ims-infrastructureProvisioning/v1/provisioningRequests"

// provRequest is a kubernetes-namespace provisioning request's body.
func provRequest(id, dm, ns string, quota map[string]any) map[string]any {
	params := map[string]any{"deploymentManagerId": dm, "namespace": ns}
	if quota != nil {
		params["quota"] = quota
	}
	return map[string]any{"provisioningRequestId": id, "name": "e2e " + ns, "description": "an e2e namespace",
		"templateName": "kubernetes-namespace", "templateVersion": "1.0.0", "templateParameters": params}
}

// provStatus reads a request's status: HTTP status, phase and message.
func provStatus(t testing.TB, s *server, id string) (int, string, string) {
	t.Helper()
	status, _, body := s.get(t, provBase+"/"+id)
	var info struct {
		Status struct {
			ProvisioningPhase string `json:"provisioningPhase"`
			Message           string `json:"message"`
		} `json:"status"`
	}
	_ = json.Unmarshal(body, &info)
	return status, info.Status.ProvisioningPhase, info.Status.Message
}

// waitPhase polls a request until its phase is want (or, for want "",
// until it is gone).
func waitPhase(t testing.TB, s *server, id, want string, until func(msg string) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, phase, msg := provStatus(t, s, id)
		if want == "" && status == 404 {
			return
		}
		if want != "" && phase == want && (until == nil || until(msg)) {
			return
		}
		if phase == "FAILED" && want != "FAILED" || time.Now().After(deadline) {
			t.Fatalf("request %s: %d %s %q, want %q", id, status, phase, msg, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) put(t testing.TB, path string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	return s.send(t, "PUT", path, "application/json", string(b))
}

// TestProvisioning provisions a namespace with its quota on the real
// control plane through the o2ims binary: POST until FULFILLED, a changed
// quota applied again, the problems of a wrong request, a request that
// resumes after a restart of the server, and DELETE until the request and
// the namespace are gone, each phase change notified.
func TestProvisioning(t *testing.T) {
	plane := testenv.Require(t)
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv("O2IMS_SECRETS_KEY", base64.StdEncoding.EncodeToString(key))
	dataDir := t.TempDir()
	s := start(t, "--data-dir", dataDir, "--local-provider=false", "--local-gitops=false")

	rcv := newChangeReceiver(t)
	if status, body := s.post(t, inv+"/v1/subscriptions", map[string]any{"callback": rcv.srv.URL, "filter": "(eq,objectType,ProvisioningRequest)"}); status != 201 {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	if status, body := s.post(t, "/o2ims/v1/providers", map[string]any{
		"name": "e2e-prov", "type": "kubernetes", "config": map[string]any{"kubeconfig": string(plane.RESTConfigBytes)},
	}); status != 201 {
		t.Fatalf("register provider: %d %s", status, body)
	}
	waitHTTP(t, s, inv+"/v1/deploymentManagers?filter=(eq,extensions/providerName,e2e-prov)", "deploymentManagerId")
	_, _, body := s.get(t, inv+"/v1/deploymentManagers?filter=(eq,extensions/providerName,e2e-prov)")
	dms := decodeList(t, body)
	dm, _ := dms[0]["deploymentManagerId"].(string)

	suffix := time.Now().UnixNano() % 1000000
	ns := fmt.Sprintf("e2e-prov-%d", suffix)
	id := fmt.Sprintf("7a1b2c3d-0000-4000-8000-%012d", suffix)
	status, body := s.post(t, provBase, provRequest(id, dm, ns, map[string]any{"cpu": "2", "memory": "1Gi", "pods": 5}))
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	waitPhase(t, s, id, "FULFILLED", nil)
	var quota struct {
		Spec struct {
			Hard map[string]string `json:"hard"`
		} `json:"spec"`
	}
	quotaPath := "/api/v1/namespaces/" + ns + "/resourcequotas/o2ims-quota"
	if err := plane.Do(ctx, "GET", quotaPath, "", nil, &quota); err != nil || quota.Spec.Hard["requests.cpu"] != "2" || quota.Spec.Hard["pods"] != "5" {
		t.Fatalf("the namespace's quota: %v %v", err, quota.Spec.Hard)
	}
	rcv.waitFor(t, "FULFILLED notified", func(n map[string]any) bool {
		ref, _ := n["objectRef"].(string)
		post, _ := n["postObjectState"].(map[string]any)
		st, _ := post["status"].(map[string]any)
		return strings.HasSuffix(ref, provBase+"/"+id) && st["provisioningPhase"] == "FULFILLED"
	})

	// The problems of a wrong request.
	for _, c := range []struct {
		name   string
		status int
		send   func() (int, []byte)
		detail string
	}{
		{"same id twice", 409, func() (int, []byte) { return s.post(t, provBase, provRequest(id, dm, ns, nil)) }, "exists already"},
		{"parameter outside the schema", 400, func() (int, []byte) {
			return s.post(t, provBase, provRequest("7a1b2c3d-0000-4000-8000-000000000001", dm, ns, map[string]any{"gpus": 1}))
		}, "templateParameters.quota.gpus: is not a parameter of template kubernetes-namespace 1.0.0"},
		{"unknown cluster", 400, func() (int, []byte) {
			return s.post(t, provBase, provRequest("7a1b2c3d-0000-4000-8000-000000000001", "no-such-dm", ns, nil))
		}, `no deployment manager "no-such-dm" is registered`},
		{"body id is not the path id", 422, func() (int, []byte) {
			return s.put(t, provBase+"/"+id, provRequest("7a1b2c3d-0000-4000-8000-000000000001", dm, ns, nil))
		}, "is not the"},
	} {
		status, body := c.send()
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(body, &p)
		if status != c.status || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, status, body, c.status, c.detail)
		}
	}

	// A changed quota is applied again.
	if status, body := s.put(t, provBase+"/"+id, provRequest(id, dm, ns, map[string]any{"cpu": "3"})); status != 200 {
		t.Fatalf("put: %d %s", status, body)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, phase, _ := provStatus(t, s, id)
		quota.Spec.Hard = nil
		err := plane.Do(ctx, "GET", quotaPath, "", nil, &quota)
		if phase == "FULFILLED" && err == nil && quota.Spec.Hard["requests.cpu"] == "3" && quota.Spec.Hard["pods"] == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the changed quota was not applied: %s %v %v", phase, err, quota.Spec.Hard)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A request accepted while the cluster is unreachable retries; the
	// server restarts meanwhile, and the next one fulfils it.
	if err := plane.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	ns2 := ns + "-b"
	id2 := fmt.Sprintf("7a1b2c3d-0000-4000-8001-%012d", suffix)
	if status, body := s.post(t, provBase, provRequest(id2, dm, ns2, nil)); status != 201 {
		t.Fatalf("create while the cluster is down: %d %s", status, body)
	}
	waitPhase(t, s, id2, "PROGRESSING", func(msg string) bool { return strings.HasPrefix(msg, "retrying after a transient error") })
	s.stop(t)
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := plane.StartAPIServer(startCtx); err != nil {
		t.Fatal(err)
	}
	s = start(t, "--data-dir", dataDir, "--local-provider=false", "--local-gitops=false")
	waitPhase(t, s, id2, "FULFILLED", nil)
	if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+ns2, "", nil, nil); err != nil {
		t.Fatalf("the resumed request's namespace: %v", err)
	}

	// DELETE: 202, DELETING, then gone with its namespace.
	for _, rid := range []string{id, id2} {
		status, hdr, body := s.do(t, "DELETE", provBase+"/"+rid)
		if status != 202 || hdr.Get("Location") != provBase+"/"+rid {
			t.Fatalf("delete: %d %s %s", status, hdr.Get("Location"), body)
		}
	}
	if status, phase, _ := provStatus(t, s, id); status == 200 && phase != "DELETING" {
		t.Errorf("phase %s after DELETE", phase)
	}
	for _, rid := range []string{id, id2} {
		waitPhase(t, s, rid, "", nil)
	}
	for _, n := range []string{ns, ns2} {
		if err := plane.Do(ctx, "GET", "/api/v1/namespaces/"+n, "", nil, nil); !testenv.IsNotFound(err) {
			t.Errorf("namespace %s is still there: %v", n, err)
		}
	}
	rcv.waitFor(t, "DELETING notified", func(n map[string]any) bool {
		post, _ := n["postObjectState"].(map[string]any)
		st, _ := post["status"].(map[string]any)
		return strings.HasSuffix(fmt.Sprint(n["objectRef"]), "/"+id) && st["provisioningPhase"] == "DELETING"
	})
	rcv.waitFor(t, "deletion notified", func(n map[string]any) bool {
		return strings.HasSuffix(fmt.Sprint(n["objectRef"]), "/"+id) && n["notificationEventType"] == float64(2)
	})
	s.stop(t)
}
