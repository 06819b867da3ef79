package o2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
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
	s, err := testserver.Start(serverBinary, t.TempDir(),
		"--agent-listen", "127.0.0.1:0", "--agent-heartbeat-interval", "500ms", "--agent-heartbeat-grace", "3")
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
	agentURL := "https://" + recs[0]["addr"].(string)

	out, err := exec.Command(serverBinary, "agent", "token", "create", "--data-dir", s.DataDir(),
		"--pool", "edge-e2e", "--uses", "2", "--ttl", "10m", "--log-level", "warn", "-o", "json").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	var tok struct{ Token, CAHash, Pool string }
	if err := json.Unmarshal(out, &tok); err != nil || tok.Token == "" || tok.CAHash != recs[0]["ca_hash"] {
		t.Fatalf("token create printed %s (%v); the listener's CA hash is %v", out, err, recs[0]["ca_hash"])
	}

	// Two machines from the local provider's fixture, told apart.
	roots := []string{copyMachine(t, 1), copyMachine(t, 2)}
	states := []string{t.TempDir(), t.TempDir()}
	startAgent := func(i int, withToken bool) *testserver.Server {
		args := []string{"agent", "--server", agentURL, "--node-name", fmt.Sprintf("edge-node-%d", i+1),
			"--root", roots[i], "--state-dir", states[i], "--log-format", "json"}
		if withToken {
			args = append(args, "--bootstrap-token", tok.Token, "--ca-hash", tok.CAHash, "--pool", tok.Pool)
		}
		a, err := testserver.Run(serverBinary, args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a.Kill()
			if t.Failed() {
				t.Logf("agent %d log:\n%s", i+1, a.Logs())
			}
		})
		return a
	}
	agents := []*testserver.Server{startAgent(0, true), startAgent(1, true)}

	c, err := o2.NewClient(&o2.Config{Endpoint: "http://" + s.Addr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Both nodes are resources of the pool, with their hardware.
	var pool o2.ResourcePool
	var nodes map[string]o2.Resource
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		pools, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "edge-e2e")})
		if err != nil {
			t.Fatal(err)
		}
		nodes = map[string]o2.Resource{}
		if len(pools.Items) == 1 {
			pool = pools.Items[0]
			page, err := c.Resources().ListInPool(ctx, pool.ResourcePoolID, o2.ListOptions{Filter: o2.Eq("tags", "edge"), AllFields: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Items {
				name, _ := r.Extensions["nodeName"].(string)
				nodes[name] = r
			}
		}
		if len(nodes) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(nodes) != 2 {
		t.Fatalf("nodes in pool edge-e2e: %v", slices.Sorted(maps.Keys(nodes)))
	}
	n1, n2 := nodes["edge-node-1"], nodes["edge-node-2"]
	if n1.ResourceID == "" || n2.ResourceID == "" || n1.ResourceID == n2.ResourceID || len(n1.Elements) == 0 ||
		n1.Extensions["provider"] != "edge" || n1.Extensions["healthy"] != true {
		t.Fatalf("nodes: %+v\n%+v", n1, n2)
	}

	unreachable := func() []o2.AlarmEventRecord {
		t.Helper()
		page, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSEdgeNodeUnreachable"), o2.Eq("resourceID", n1.ResourceID)), AllFields: true})
		if err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
	if got := unreachable(); len(got) != 0 {
		t.Fatalf("alarm before the agent stopped: %+v", got)
	}

	// Agent 1 dies: within the grace (3 × 500ms) and a lease check, the
	// alarm is raised for its node only.
	agents[0].Kill()
	killed := time.Now()
	var alarms []o2.AlarmEventRecord
	for deadline := killed.Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if alarms = unreachable(); len(alarms) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(alarms) != 1 || alarms[0].PerceivedSeverity == o2.SeverityCleared || alarms[0].Extensions["nodeName"] != "edge-node-1" {
		t.Fatalf("after agent 1 was killed: %+v", alarms)
	}
	t.Logf("alarm raised %s after the kill", time.Since(killed).Round(time.Millisecond))
	if page, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSEdgeNodeUnreachable"), o2.Eq("resourceID", n2.ResourceID))}); err != nil || len(page.Items) != 0 {
		t.Errorf("node 2 alarmed too: %+v, %v", page, err)
	}

	// Started again from its state directory, without the token (used
	// up by now): the alarm clears.
	startAgent(0, false)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if alarms = unreachable(); (len(alarms) == 1 && alarms[0].PerceivedSeverity == o2.SeverityCleared) || time.Now().After(deadline) {
			break
		}
	}
	if len(alarms) != 1 || alarms[0].PerceivedSeverity != o2.SeverityCleared || alarms[0].AlarmClearedTime.IsZero() {
		t.Fatalf("after agent 1 came back: %+v", alarms)
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
