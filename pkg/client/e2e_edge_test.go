package o2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/provider/local/localtest"
	"github.com/nephoran/o2ims/internal/testserver"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// TestEdgeAgents runs the server with its agent listener, mints a
// bootstrap token with "o2ims agent token create", and enrols two real
// "o2ims agent" processes, each describing a different fake machine: both
// nodes appear as resources of the token's pool; one agent killed raises
// O2IMSEdgeNodeUnreachable within the grace, and started again (from its
// state directory, without the token) clears it.
func TestEdgeAgents(t *testing.T) {
	e := startEdgeServer(t, "edge-e2e", 2, "--agent-listen", "127.0.0.1:0", "--agent-heartbeat-interval", "500ms", "--agent-heartbeat-grace", "3")

	// Two machines from the local provider's fixture, told apart.
	roots := []string{copyMachine(t, 1), copyMachine(t, 2)}
	states := []string{t.TempDir(), t.TempDir()}
	agents := []*testserver.Server{
		e.startAgent(t, "edge-node-1", roots[0], states[0], true),
		e.startAgent(t, "edge-node-2", roots[1], states[1], true),
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Both nodes are resources of the pool, with their hardware.
	nodes := e.waitNodes(ctx, t, 2)
	n1, n2 := nodes["edge-node-1"], nodes["edge-node-2"]
	if n1.ResourceID == "" || n2.ResourceID == "" || n1.ResourceID == n2.ResourceID || len(n1.Elements) == 0 ||
		n1.Extensions["provider"] != "edge" || n1.Extensions["healthy"] != true {
		t.Fatalf("nodes: %+v\n%+v", n1, n2)
	}
	if got := e.unreachableAlarms(ctx, t, n1.ResourceID); len(got) != 0 {
		t.Fatalf("alarm before the agent stopped: %+v", got)
	}

	// An SMO subscribed to new alarms.
	notes := make(chan o2.AlarmEventNotification, 16)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n o2.AlarmEventNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		notes <- n
		w.WriteHeader(http.StatusNoContent)
	}))
	defer cb.Close()
	if _, err := e.Client.AlarmSubscriptions().Create(ctx, o2.SubscriptionRequest{Callback: cb.URL + "/alarms", Filter: o2.Eq("notificationEventType", o2.AlarmEventNew)}); err != nil {
		t.Fatalf("alarm subscription: %v", err)
	}

	// Agent 1 dies: within the grace (3 × 500ms) and a lease check, the
	// alarm is raised for its node only, and the subscriber is notified.
	agents[0].Kill()
	killed := time.Now()
	alarms := e.waitAlarms(ctx, t, n1.ResourceID, 15*time.Second, raised)
	if len(alarms) != 1 || alarms[0].PerceivedSeverity == o2.SeverityCleared || alarms[0].Extensions["nodeName"] != "edge-node-1" {
		t.Fatalf("after agent 1 was killed: %+v", alarms)
	}
	t.Logf("alarm raised %s after the kill", time.Since(killed).Round(time.Millisecond))
	select {
	case n := <-notes:
		if n.AlarmEventRecordID != alarms[0].AlarmEventRecordID || n.ResourceID != n1.ResourceID || n.NotificationEventType != o2.AlarmEventNew {
			t.Errorf("notification %+v, want the new alarm %s of node 1", n, alarms[0].AlarmEventRecordID)
		}
		t.Logf("notification received %s after the kill", time.Since(killed).Round(time.Millisecond))
	case <-time.After(15 * time.Second):
		t.Fatal("no notification of the unreachable node's alarm")
	}
	if got := e.unreachableAlarms(ctx, t, n2.ResourceID); len(got) != 0 {
		t.Errorf("node 2 alarmed too: %+v", got)
	}

	// Started again from its state directory, without the token (used
	// up by now): the alarm clears.
	e.startAgent(t, "edge-node-1", roots[0], states[0], false)
	alarms = e.waitAlarms(ctx, t, n1.ResourceID, 20*time.Second, cleared)
	if len(alarms) != 1 || alarms[0].PerceivedSeverity != o2.SeverityCleared || alarms[0].AlarmClearedTime.IsZero() {
		t.Fatalf("after agent 1 came back: %+v", alarms)
	}

	// A disk of node 2 grows: its agent reports the changed device, and
	// the node's element shows the new size.
	sda := filepath.Join(roots[1], localtest.SCSI+"block/sda/size")
	if err := os.WriteFile(sda, []byte("3907029168\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		size := elementSize(ctx, t, e.Client, n2.ResourceID, "sda")
		if size == float64(3907029168*512) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sda of edge-node-2 still has sizeBytes %v", size)
		}
	}

	// SIGTERM ends an agent cleanly.
	if err := agents[1].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-agents[1].Done():
		if err := agents[1].Err(); err != nil {
			t.Errorf("agent 2 after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("agent 2 did not stop on SIGTERM")
	}
}

// elementSize is the sizeBytes of the element named name of resource id.
func elementSize(ctx context.Context, t *testing.T, c *o2.Client, id, name string) any {
	t.Helper()
	page, err := c.Resources().List(ctx, o2.ListOptions{Filter: o2.Eq("resourceId", id), AllFields: true})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("resource %s: %+v, %v", id, page, err)
	}
	for _, el := range page.Items[0].Elements {
		if el.Extensions["name"] == name {
			return el.Extensions["sizeBytes"]
		}
	}
	return nil
}

// edgeServer is "o2ims serve" with its agent listener and a bootstrap
// token from "o2ims agent token create": the harness of the edge
// end-to-end tests.
type edgeServer struct {
	*testserver.Server
	// AgentURL is the agent listener's URL, https://host:port.
	AgentURL string
	// Token is the bootstrap token, with its CA hash and pool.
	Token struct{ Token, CAHash, Pool string }
	// Client is the SDK's client of the server's API.
	Client *o2.Client
}

// startEdgeServer starts the server with args, which name its
// --agent-listen, and mints a token enrolling up to uses nodes into pool.
func startEdgeServer(t *testing.T, pool string, uses int, args ...string) *edgeServer {
	t.Helper()
	s, err := testserver.Start(serverBinary, t.TempDir(), args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", s.Logs())
		}
	})
	recs := s.LogRecords("agent listener serving")
	if len(recs) != 1 {
		t.Fatalf("no agent listener in the log:\n%s", s.Logs())
	}
	e := &edgeServer{Server: s, AgentURL: "https://" + recs[0]["addr"].(string)}
	out, err := exec.Command(serverBinary, "agent", "token", "create", "--data-dir", s.DataDir(),
		"--pool", pool, "--uses", fmt.Sprint(uses), "--ttl", "10m", "--log-level", "warn", "-o", "json").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	if err := json.Unmarshal(out, &e.Token); err != nil || e.Token.Token == "" || e.Token.CAHash != recs[0]["ca_hash"] {
		t.Fatalf("token create printed %s (%v); the listener's CA hash is %v", out, err, recs[0]["ca_hash"])
	}
	if e.Client, err = o2.NewClient(&o2.Config{Endpoint: "http://" + s.Addr}); err != nil {
		t.Fatal(err)
	}
	return e
}

// startAgent runs "o2ims agent" for node name, describing the machine
// under root and keeping its identity in state; with the bootstrap token
// and CA hash when withToken. A prefix (such as "ip netns exec NS") runs
// the agent through that command.
func (e *edgeServer) startAgent(t *testing.T, name, root, state string, withToken bool, prefix ...string) *testserver.Server {
	t.Helper()
	args := []string{serverBinary, "agent", "--server", e.AgentURL, "--node-name", name,
		"--root", root, "--state-dir", state, "--log-format", "json"}
	if withToken {
		args = append(args, "--bootstrap-token", e.Token.Token, "--ca-hash", e.Token.CAHash, "--pool", e.Token.Pool)
	}
	args = append(slices.Clone(prefix), args...)
	a, err := testserver.Run(args[0], args[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Kill()
		if t.Failed() {
			t.Logf("agent %s log:\n%s", name, a.Logs())
		}
	})
	return a
}

// waitNodes waits up to 30 seconds for n nodes to be resources of the
// token's pool and returns them by node name, with all their fields.
func (e *edgeServer) waitNodes(ctx context.Context, t *testing.T, n int) map[string]o2.Resource {
	t.Helper()
	var nodes map[string]o2.Resource
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		pools, err := e.Client.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", e.Token.Pool)})
		if err != nil {
			t.Fatal(err)
		}
		nodes = map[string]o2.Resource{}
		if len(pools.Items) == 1 {
			page, err := e.Client.Resources().ListInPool(ctx, pools.Items[0].ResourcePoolID, o2.ListOptions{Filter: o2.Eq("tags", "edge"), AllFields: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Items {
				name, _ := r.Extensions["nodeName"].(string)
				nodes[name] = r
			}
		}
		if len(nodes) == n || time.Now().After(deadline) {
			break
		}
	}
	if len(nodes) != n {
		t.Fatalf("nodes in pool %s: %v, want %d", e.Token.Pool, slices.Sorted(maps.Keys(nodes)), n)
	}
	return nodes
}

// unreachableAlarms lists the O2IMSEdgeNodeUnreachable alarms of the
// node resourceID.
func (e *edgeServer) unreachableAlarms(ctx context.Context, t *testing.T, resourceID string) []o2.AlarmEventRecord {
	t.Helper()
	page, err := e.Client.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSEdgeNodeUnreachable"), o2.Eq("resourceID", resourceID)), AllFields: true})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// waitAlarms polls the node's unreachable alarms until done holds for them
// or within has passed, and returns the last answer.
func (e *edgeServer) waitAlarms(ctx context.Context, t *testing.T, resourceID string, within time.Duration, done func([]o2.AlarmEventRecord) bool) []o2.AlarmEventRecord {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(100 * time.Millisecond) {
		if alarms := e.unreachableAlarms(ctx, t, resourceID); done(alarms) || time.Now().After(deadline) {
			return alarms
		}
	}
}

// raised: an unreachable alarm is there; cleared: there is one, cleared.
func raised(alarms []o2.AlarmEventRecord) bool { return len(alarms) > 0 }
func cleared(alarms []o2.AlarmEventRecord) bool {
	return len(alarms) == 1 && alarms[0].PerceivedSeverity == o2.SeverityCleared
}

// copyMachine is the local provider's test machine with its own
// machine-id and host name.
func copyMachine(t *testing.T, n int) string {
	t.Helper()
	root := localtest.Machine(t)
	for path, content := range map[string]string{
		"etc/machine-id":           fmt.Sprintf("%032x\n", 0xe2e00000+n),
		"proc/sys/kernel/hostname": fmt.Sprintf("edge-node-%d\n", n),
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
