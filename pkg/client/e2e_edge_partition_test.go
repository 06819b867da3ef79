package o2_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testenv"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// TestEdgeNetworkPartition cuts an edge node off the network rather than
// killing its agent: a real "o2ims agent" runs in a network namespace of
// its own, joined to the host by a veth pair, and the server's agent
// listener is bound to the host's end. With the host's end down, the node
// raises O2IMSEdgeNodeUnreachable within the grace while the agent outside
// the namespace stays healthy; with it up again, the same agent's
// heartbeats get through and clear the alarm, without enrolling again.
func TestEdgeNetworkPartition(t *testing.T) {
	ip := testenv.RequireNetns(t)
	link := newPartitionableLink(t, ip)

	e := startEdgeServer(t, "edge-partition", 2, "--agent-listen", link.hostAddr+":0", "--agent-hosts", link.hostAddr,
		"--agent-heartbeat-interval", "500ms", "--agent-heartbeat-grace", "3")
	inside := e.startAgent(t, "edge-node-1", copyMachine(t, 1), t.TempDir(), true, ip, "netns", "exec", link.netns)
	e.startAgent(t, "edge-node-2", copyMachine(t, 2), t.TempDir(), true)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes := e.waitNodes(ctx, t, 2)
	n1, n2 := nodes["edge-node-1"], nodes["edge-node-2"]
	if addrs := fmt.Sprint(n1.Extensions["addresses"]); !strings.Contains(addrs, link.nodeAddr) {
		t.Errorf("node 1 reports the addresses %s, not its namespace's %s", addrs, link.nodeAddr)
	}
	if got := e.unreachableAlarms(ctx, t, n1.ResourceID); len(got) != 0 {
		t.Fatalf("alarm before the partition: %+v", got)
	}

	// The partition: node 1's heartbeats are lost on the way, its agent
	// runs on.
	link.set(t, "down")
	cut := time.Now()
	alarms := e.waitAlarms(ctx, t, n1.ResourceID, 15*time.Second, raised)
	if len(alarms) != 1 || alarms[0].PerceivedSeverity == o2.SeverityCleared || alarms[0].Extensions["nodeName"] != "edge-node-1" {
		t.Fatalf("after the link went down: %+v", alarms)
	}
	t.Logf("alarm raised %s after the link went down", time.Since(cut).Round(time.Millisecond))
	if got := e.unreachableAlarms(ctx, t, n2.ResourceID); len(got) != 0 {
		t.Errorf("node 2, outside the namespace, alarmed too: %+v", got)
	}
	select {
	case <-inside.Done():
		t.Fatalf("the agent in the namespace exited during the partition: %v", inside.Err())
	default:
	}

	// Healed: the agent's retries (TCP's and its own backoff) get
	// through and clear the alarm.
	link.set(t, "up")
	healed := time.Now()
	alarms = e.waitAlarms(ctx, t, n1.ResourceID, 90*time.Second, cleared)
	if len(alarms) != 1 || alarms[0].PerceivedSeverity != o2.SeverityCleared || alarms[0].AlarmClearedTime.IsZero() {
		t.Fatalf("after the link came back: %+v", alarms)
	}
	t.Logf("alarm cleared %s after the link came back", time.Since(healed).Round(time.Millisecond))

	// The same enrolment: one "enrolled" in the agent's log, and the
	// node is the same resource.
	if recs := inside.LogRecords("enrolled"); len(recs) != 1 {
		t.Errorf("the agent in the namespace enrolled %d times", len(recs))
	}
	after := e.waitNodes(ctx, t, 2)
	if after["edge-node-1"].ResourceID != n1.ResourceID {
		t.Errorf("node 1 is resource %s after the partition, %s before", after["edge-node-1"].ResourceID, n1.ResourceID)
	}
	if got := e.unreachableAlarms(ctx, t, n2.ResourceID); len(got) != 0 {
		t.Errorf("node 2 alarmed: %+v", got)
	}
}

// partitionableLink is a network namespace joined to the host by a veth
// pair with a /30 between them: hostAddr on the host's end (hostLink),
// nodeAddr in the namespace.
type partitionableLink struct {
	ip                 string
	netns, hostLink    string
	hostAddr, nodeAddr string
}

// newPartitionableLink makes the namespace and the pair, with names and a
// subnet of 10.203.0.0/16 of their own, and removes them when the test
// ends, whatever its outcome.
func newPartitionableLink(t *testing.T, ip string) *partitionableLink {
	t.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(suffix) // interface names: at most 15 bytes
	l := &partitionableLink{ip: ip, netns: "o2ims-part-" + id, hostLink: "o2h" + id}
	nsLink := "o2n" + id
	t.Cleanup(func() {
		// Deleting the namespace destroys its end of the pair and so
		// the pair; the link is deleted too in case the namespace was
		// never made.
		_ = exec.Command(ip, "netns", "delete", l.netns).Run()
		_ = exec.Command(ip, "link", "delete", l.hostLink).Run()
	})
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		n, rerr := rand.Int(rand.Reader, big.NewInt(64*256))
		if rerr != nil {
			t.Fatal(rerr)
		}
		// A /30 of 10.203.0.0/16 that no interface of the host uses.
		base := int(n.Int64()) * 4
		l.hostAddr = fmt.Sprintf("10.203.%d.%d", base/256, base%256+1)
		l.nodeAddr = fmt.Sprintf("10.203.%d.%d", base/256, base%256+2)
		out, _ := exec.Command(ip, "-o", "addr", "show").Output()
		if strings.Contains(string(out), " "+l.hostAddr+"/") || strings.Contains(string(out), " "+l.nodeAddr+"/") {
			err = fmt.Errorf("%s is taken", l.hostAddr)
			continue
		}
		err = nil
		break
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"netns", "add", l.netns},
		{"link", "add", l.hostLink, "type", "veth", "peer", "name", nsLink},
		{"link", "set", nsLink, "netns", l.netns},
		{"addr", "add", l.hostAddr + "/30", "dev", l.hostLink},
		{"link", "set", l.hostLink, "up"},
		{"-n", l.netns, "addr", "add", l.nodeAddr + "/30", "dev", nsLink},
		{"-n", l.netns, "link", "set", nsLink, "up"},
		{"-n", l.netns, "link", "set", "lo", "up"},
	} {
		l.run(t, args...)
	}
	// The host's end takes a moment to come up (carrier on both ends).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err := exec.Command(ip, "-o", "link", "show", l.hostLink).Output()
		if err == nil && strings.Contains(string(out), "state UP") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %s", l.hostLink, out)
		}
	}
	return l
}

// set sets the host's end of the pair "up" or "down".
func (l *partitionableLink) set(t *testing.T, state string) {
	t.Helper()
	l.run(t, "link", "set", l.hostLink, state)
}

func (l *partitionableLink) run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(l.ip, args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}
