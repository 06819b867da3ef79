package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testenv"
)

// changeReceiver records inventory change notifications.
type changeReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []map[string]any
}

func newChangeReceiver(t testing.TB) *changeReceiver {
	r := &changeReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var n map[string]any
		if err := json.NewDecoder(req.Body).Decode(&n); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.seen = append(r.seen, n)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// waitFor waits for a notification accepted by match.
func (r *changeReceiver) waitFor(t testing.TB, what string, match func(n map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, n := range r.seen {
			if match(n) {
				r.mu.Unlock()
				return n
			}
		}
		r.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no notification: %s", what)
	return nil
}

func nodeName(state any) string {
	m, _ := state.(map[string]any)
	ext, _ := m["extensions"].(map[string]any)
	s, _ := ext["nodeName"].(string)
	return s
}

// TestKubernetesProvider registers a real cluster through the API and
// follows its nodes into the inventory, the notifications and the alarms.
func TestKubernetesProvider(t *testing.T) {
	plane := testenv.Require(t)
	ctx := context.Background()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv("O2IMS_SECRETS_KEY", base64.StdEncoding.EncodeToString(key))
	s := start(t, "--data-dir", t.TempDir(), "--local-provider=false")

	rcv := newChangeReceiver(t)
	if status, body := s.post(t, inv+"/v1/subscriptions", map[string]any{"callback": rcv.srv.URL, "filter": "(eq,objectType,Resource)"}); status != 201 {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	status, body := s.post(t, "/o2ims/v1/providers", map[string]any{
		"name": "e2e-cluster", "type": "kubernetes", "config": map[string]any{"kubeconfig": string(plane.RESTConfigBytes)},
	})
	if status != 201 {
		t.Fatalf("register provider: %d %s", status, body)
	}
	if strings.Contains(string(body), "BEGIN") || strings.Contains(string(body), plane.Token) {
		t.Fatal("the provider representation carries credentials")
	}
	var prov struct {
		ProviderID string `json:"providerId"`
		Endpoint   string `json:"endpoint"`
	}
	_ = json.Unmarshal(body, &prov)
	if prov.Endpoint != plane.APIServerURL {
		t.Errorf("endpoint %q, want %q", prov.Endpoint, plane.APIServerURL)
	}
	// The credentials are encrypted at rest.
	db, err := os.ReadFile(s.DataDir() + "/o2ims.db")
	if err == nil && strings.Contains(string(db), plane.Token) {
		t.Fatal("the kubeconfig token is stored in clear")
	}

	node := fmt.Sprintf("e2e-node-%d", time.Now().UnixNano()%100000)
	if err := plane.CreateNode(ctx, node, map[string]string{"nephoran.io/resource-pool": "e2e-east"}, "2", "4Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), node) })
	created := rcv.waitFor(t, "node created", func(n map[string]any) bool {
		return n["notificationEventType"] == float64(0) && nodeName(n["postObjectState"]) == node
	})
	post, _ := created["postObjectState"].(map[string]any)
	poolID, _ := post["resourcePoolId"].(string)
	status, _, body = s.get(t, inv+"/v1/resourcePools/"+poolID+"/resources?filter=(eq,extensions/nodeName,"+node+")")
	if status != 200 || !strings.Contains(string(body), post["resourceId"].(string)) {
		t.Fatalf("node not in its pool's resources: %d %s", status, body)
	}
	_, _, body = s.get(t, inv+"/v1/resourcePools/"+poolID)
	if !strings.Contains(string(body), `"name":"e2e-east"`) {
		t.Fatalf("pool not named from the label: %s", body)
	}

	if err := plane.LabelNode(ctx, node, map[string]string{"nephoran.io/resource-pool": "e2e-west"}); err != nil {
		t.Fatal(err)
	}
	moved := rcv.waitFor(t, "node moved between pools", func(n map[string]any) bool {
		if n["notificationEventType"] != float64(1) || nodeName(n["postObjectState"]) != node {
			return false
		}
		pre, _ := n["priorObjectState"].(map[string]any)
		pst, _ := n["postObjectState"].(map[string]any)
		return pre["resourcePoolId"] != pst["resourcePoolId"]
	})
	if ref, _ := moved["objectRef"].(string); !strings.Contains(ref, "/resources/"+post["resourceId"].(string)) {
		t.Errorf("objectRef %q", ref)
	}

	// The API server goes away: the provider is reported down and alarmed.
	if err := plane.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, s, "/o2ims/v1/providers/health", `"healthy":false`)
	waitHTTP(t, s, "/o2ims-infrastructureMonitoring/v1/alarms?all_fields&filter=(eq,extensions/alarmName,O2IMSProviderDown);(neq,perceivedSeverity,5)", "e2e-cluster")
	waitHTTP(t, s, "/metrics", `o2ims_provider_health{provider="e2e-cluster"} 0`)
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := plane.StartAPIServer(startCtx); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, s, "/o2ims-infrastructureMonitoring/v1/alarms?all_fields&filter=(eq,extensions/alarmName,O2IMSProviderDown);(eq,perceivedSeverity,5)", "e2e-cluster")
	waitHTTP(t, s, "/metrics", `o2ims_provider_health{provider="e2e-cluster"} 1`)

	if err := plane.DeleteNode(ctx, node); err != nil {
		t.Fatal(err)
	}
	rcv.waitFor(t, "node deleted", func(n map[string]any) bool {
		return n["notificationEventType"] == float64(2) && nodeName(n["priorObjectState"]) == node
	})

	// Deleting the provider removes its inventory.
	if status, _, body := s.do(t, "DELETE", "/o2ims/v1/providers/"+prov.ProviderID); status != 204 {
		t.Fatalf("delete provider: %d %s", status, body)
	}
	waitHTTP(t, s, "/o2ims/v1/deploymentManagers?filter=(eq,name,e2e-cluster)", "[]")
	if status, _, _ := s.get(t, "/o2ims/v1/providers/"+prov.ProviderID); status != 404 {
		t.Errorf("deleted provider still served: %d", status)
	}
	s.stop(t)
}

// waitHTTP polls a GET until its body contains want.
func waitHTTP(t testing.TB, s *server, path, want string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		status, _, body := s.get(t, path)
		if status == 200 && strings.Contains(string(body), want) {
			return
		}
		last = fmt.Sprintf("%d %s", status, body)
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("GET %s never contained %q; last: %.500s", path, want, last)
}
