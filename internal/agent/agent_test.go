package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/ims"
)

// Several agents, each on its own machine, enrol into their tokens' pools,
// appear in the provider's snapshot with their devices, report a changed
// device (and nothing while nothing changes), and renew their short-lived
// certificates without missing a lease.
func TestAgentsEnrolReportAndRenew(t *testing.T) {
	// A generous grace: this test is about renewal, not about a busy
	// machine delaying a heartbeat.
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond, HeartbeatGrace: 10, CertValidity: 3 * time.Second})
	west := ts.token("edge-west", time.Hour, 2)
	east := ts.token("edge-east", time.Hour, 1)
	nodes := []struct{ name, pool, token string }{
		{"w1", "edge-west", west.Token},
		{"w2", "edge-west", west.Token},
		{"e1", "edge-east", east.Token},
	}
	roots := map[string]string{}
	agents := map[string]*runningAgent{}
	for i, n := range nodes {
		roots[n.name] = newMachine(t, i+1)
		agents[n.name] = startAgent(t, ts.agentOptions(n.name, roots[n.name], n.token, n.pool))
	}

	// All enrolled, each a resource in its pool, with its devices.
	eventually(t, 10*time.Second, func() error {
		snap := ts.snapshot()
		pools := map[string]string{}
		for _, p := range snap.ResourcePools {
			pools[p.ResourcePoolID] = p.Name
		}
		seen := map[string]bool{}
		for _, r := range snap.Resources {
			if r.ParentID != "" {
				continue
			}
			name, _ := r.Extensions["nodeName"].(string)
			for _, n := range nodes {
				if n.name == name && pools[r.ResourcePoolID] == n.pool && len(r.Elements) >= 5 && r.Extensions["agentVersion"] == "1.0.0-test" {
					seen[name] = true
				}
			}
		}
		if len(seen) != len(nodes) {
			return fmt.Errorf("nodes published in their pools with devices: %v", seen)
		}
		return nil
	})
	snap := ts.snapshot()
	ids := map[string]bool{}
	for _, r := range snap.Resources {
		if ids[r.ResourceID] {
			t.Errorf("resource id %s published twice", r.ResourceID)
		}
		ids[r.ResourceID] = true
	}
	// The server publishes a node a moment before its agent has stored
	// the answer (identity, CA) and removed the enrolment key.
	eventually(t, 5*time.Second, func() error {
		for _, n := range nodes {
			_, err := os.Stat(filepath.Join(agents[n.name].opts.StateDir, enrolKeyFile))
			if agents[n.name].NodeID() == "" || !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s: identity not stored or enrolment key still there (%v)", n.name, err)
			}
		}
		return nil
	})
	for _, n := range nodes {
		st := agents[n.name].opts.StateDir
		if fi, err := os.Stat(st); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: state dir mode %v, %v", n.name, fi.Mode().Perm(), err)
		}
		for _, f := range []string{identityFile, caFile} {
			if fi, err := os.Stat(filepath.Join(st, f)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s mode %v, %v", n.name, f, fi.Mode().Perm(), err)
			}
		}
		if _, err := os.Stat(filepath.Join(st, enrolKeyFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the enrolment key is left behind: %v", n.name, err)
		}
	}

	// Nothing changes, nothing is sent again.
	w2, _ := ts.node("w2")
	before, err := ts.store.Inventory(context.Background(), w2.ID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if after, _ := ts.store.Inventory(context.Background(), w2.ID); !after.ReceivedAt.Equal(before.ReceivedAt) {
		t.Errorf("an unchanged inventory was sent again (%v, then %v)", before.ReceivedAt, after.ReceivedAt)
	}

	// A disk of w1 grows: the device is reported changed.
	writeFile(t, filepath.Join(roots["w1"], sdaSize), "3907029168")
	w1, _ := ts.node("w1")
	eventually(t, 5*time.Second, func() error {
		for _, r := range ts.snapshot().Resources {
			if r.ParentID == w1.ID && r.Extensions["name"] == "sda" {
				// Extensions come back from JSON: numbers are float64.
				if r.Extensions["sizeBytes"] == float64(3907029168*512) {
					return nil
				}
				return fmt.Errorf("sda of w1 has sizeBytes %v", r.Extensions["sizeBytes"])
			}
		}
		return errors.New("w1 has no sda")
	})

	// Certificates of 3 s are renewed before they expire: each node has
	// several, and is still heartbeating once its first has expired.
	firstNotAfter := map[string]time.Time{}
	for _, n := range nodes {
		node, _ := ts.node(n.name)
		certs, _ := ts.store.Certificates(context.Background(), node.ID)
		firstNotAfter[n.name] = certs[0].NotAfter
	}
	for _, n := range nodes {
		time.Sleep(time.Until(firstNotAfter[n.name]) + 300*time.Millisecond)
		node, _ := ts.node(n.name)
		certs, _ := ts.store.Certificates(context.Background(), node.ID)
		if len(certs) < 2 {
			t.Errorf("%s: %d certificates after the first expired", n.name, len(certs))
		}
		if since := time.Since(node.LastHeartbeat); since > time.Second || !node.Reachable {
			t.Errorf("%s: last heartbeat %v ago, reachable %v, after its first certificate expired", n.name, since, node.Reachable)
		}
	}
	if ev := ts.events.all(); len(ev) != 0 {
		t.Errorf("observer events while every agent ran: %v", ev)
	}
}

// A stopped agent's node becomes unreachable within the grace period; the
// agent restarted from its state directory (no token needed) brings it back.
func TestAgentUnreachableAndBack(t *testing.T) {
	interval := 100 * time.Millisecond
	ts := newTestServer(t, edge.Options{HeartbeatInterval: interval, HeartbeatGrace: 3})
	tok := ts.token("edge-west", time.Hour, 1)
	opts := ts.agentOptions("n1", newMachine(t, 1), tok.Token, "edge-west")
	a := startAgent(t, opts)
	eventually(t, 5*time.Second, func() error {
		if n, err := ts.node("n1"); err != nil || n.LastSequence == 0 {
			return fmt.Errorf("no heartbeat yet: %v", err)
		}
		return nil
	})
	id := a.NodeID()
	sent, err := ts.store.Inventory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.stop(); err != nil {
		t.Fatalf("Run returned %v on cancellation", err)
	}
	took := ts.events.wait(t, "unreachable n1", 5*time.Second)
	lease := 3 * interval
	if took > lease+500*time.Millisecond {
		t.Errorf("unreachable after %v, want within the grace of %v (plus a check period and scheduling)", took, lease)
	}

	opts.BootstrapToken, opts.CAHash = "", ""
	b := startAgent(t, opts)
	ts.events.wait(t, "reachable n1", 5*time.Second)
	if b.NodeID() != id {
		t.Errorf("node id %s after the restart, want %s", b.NodeID(), id)
	}
	if st, _ := ts.svc.Tokens(context.Background()); st[0].Uses != 1 {
		t.Errorf("token used %d times; a restart must not enrol again", st[0].Uses)
	}
	// The server holds the inventory of the unchanged node: the restarted
	// agent's heartbeat says so, and nothing is sent.
	time.Sleep(3 * interval)
	if got, _ := ts.store.Inventory(context.Background(), id); !got.ReceivedAt.Equal(sent.ReceivedAt) {
		t.Errorf("the restarted agent sent its unchanged inventory again")
	}
}

// The server restarts (a new process over the same store and CA
// directory) after an outage longer than the grace: the agent backs off,
// resumes heartbeating and does not enrol again (its single-use token could
// not).
func TestAgentSurvivesServerRestart(t *testing.T) {
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond, HeartbeatGrace: 3})
	tok := ts.token("edge-west", time.Hour, 1)
	a := startAgent(t, ts.agentOptions("n1", newMachine(t, 1), tok.Token, "edge-west"))
	eventually(t, 5*time.Second, func() error {
		if n, err := ts.node("n1"); err != nil || n.LastSequence == 0 {
			return fmt.Errorf("no heartbeat yet: %v", err)
		}
		return nil
	})
	ts.restart(time.Second)
	restarted := time.Now()
	eventually(t, 5*time.Second, func() error {
		n, err := ts.node("n1")
		if err != nil || !n.LastHeartbeat.After(restarted) {
			return fmt.Errorf("no heartbeat since the restart: %v", err)
		}
		return nil
	})
	if err, ended := a.ended(0); ended {
		t.Fatalf("the agent gave up: %v", err)
	}
	if n, _ := ts.node("n1"); n.ID != a.NodeID() {
		t.Errorf("node %s, agent %s", n.ID, a.NodeID())
	}
}

func TestAgentRefusals(t *testing.T) {
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond})
	used := ts.token("edge-west", time.Hour, 1)
	first := startAgent(t, ts.agentOptions("first", newMachine(t, 1), used.Token, "edge-west"))
	eventually(t, 5*time.Second, func() error {
		if first.NodeID() == "" {
			return errNotYet
		}
		return nil
	})
	expired := ts.token("edge-west", time.Millisecond, 1)
	time.Sleep(10 * time.Millisecond)
	fresh := ts.token("edge-west", time.Hour, 1)
	wrongHash := "sha256:" + strings.Repeat("ab", 32)

	tests := []struct {
		name    string
		mutate  func(*Options)
		want    error
		wantMsg string
	}{
		{"reused token", func(o *Options) { o.BootstrapToken = used.Token }, ErrTokenRejected, "used as often as it allows"},
		{"expired token", func(o *Options) { o.BootstrapToken = expired.Token }, ErrTokenRejected, "has expired"},
		{"wrong secret", func(o *Options) { o.BootstrapToken = fresh.ID + ".0000000000000000" }, ErrTokenRejected, "is not valid"},
		{"wrong CA hash", func(o *Options) { o.CAHash = wrongHash }, ErrUntrustedServer, "does not match the CA hash " + wrongHash},
		{"no CA hash", func(o *Options) { o.CAHash = "" }, ErrNotEnrolled, "CA hash"},
		{"no token", func(o *Options) { o.BootstrapToken = "" }, ErrNotEnrolled, "no bootstrap token"},
		{"pool not the token's", func(o *Options) { o.Pool = "edge-east" }, ErrEnrolmentRefused, "into pool edge-west, not edge-east"},
		{"name taken", func(o *Options) { o.NodeName = "first" }, ErrEnrolmentRefused, "enrolled already"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ts.agentOptions(fmt.Sprintf("other-%d", i), newMachine(t, 10+i), fresh.Token, "edge-west")
			tt.mutate(&opts)
			err := runToEnd(t, opts)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Run = %v, want %v with %q", err, tt.want, tt.wantMsg)
			}
		})
	}
	toks, _ := ts.svc.Tokens(context.Background())
	for _, tok := range toks {
		if tok.ID == fresh.ID && tok.Uses != 0 {
			t.Errorf("the fresh token was used %d times by refused enrolments", tok.Uses)
		}
	}
}

// A deleted node's certificate is refused at the handshake, even to a
// thief holding the state directory. The agent enrols again while its
// token allows, whether it finds out at the handshake (restarted after the
// deletion) or on an open connection (running through it), and gives up
// once the token is used up.
func TestDeletedNode(t *testing.T) {
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond})
	tok := ts.token("edge-west", time.Hour, 2)
	opts := ts.agentOptions("n1", newMachine(t, 1), tok.Token, "edge-west")
	a := startAgent(t, opts)
	eventually(t, 5*time.Second, func() error {
		if a.NodeID() == "" {
			return errNotYet
		}
		return nil
	})
	firstID := a.NodeID()
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	stolen := stateClient(t, opts.StateDir)
	if err := ts.svc.DeleteNode(context.Background(), firstID); err != nil {
		t.Fatal(err)
	}
	_, err := stolen.Post(ts.url+edge.PathHeartbeat, "application/json", strings.NewReader(`{}`))
	if err == nil || !strings.Contains(err.Error(), "bad certificate") {
		t.Errorf("the deleted node's certificate: err = %v, want refused at the handshake", err)
	}
	if !refusedAtHandshake(err) {
		t.Errorf("refusedAtHandshake(%v) = false", err)
	}

	b := startAgent(t, opts)
	eventually(t, 5*time.Second, func() error {
		n, err := ts.node("n1")
		if err != nil || n.ID == firstID || b.NodeID() != n.ID || n.LastSequence == 0 {
			return fmt.Errorf("not enrolled again: %v", err)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(opts.StateDir, identityFile+refusedSuffix)); err != nil {
		t.Errorf("the refused identity is not kept aside: %v", err)
	}

	if err := ts.svc.DeleteNode(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	err, ended := b.ended(10 * time.Second)
	if !ended {
		t.Fatal("the agent did not give up")
	}
	if !errors.Is(err, ErrTokenRejected) || !strings.Contains(err.Error(), "used as often as it allows") {
		t.Errorf("Run = %v, want the used-up token refused", err)
	}
}

// Reports made with an agent's certificate by hand: one for another node,
// a replay and a clock far off are refused in the API's words.
func TestReportsRefusedOverTheWire(t *testing.T) {
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond, HeartbeatGrace: 10, ClockSkew: time.Minute})
	tok := ts.token("edge-west", time.Hour, 2)
	optsA := ts.agentOptions("a", newMachine(t, 1), tok.Token, "edge-west")
	a := startAgent(t, optsA)
	b := startAgent(t, ts.agentOptions("b", newMachine(t, 2), tok.Token, "edge-west"))
	eventually(t, 5*time.Second, func() error {
		if a.NodeID() == "" || b.NodeID() == "" {
			return errNotYet
		}
		return nil
	})
	c := stateClient(t, optsA.StateDir)
	now := time.Now()
	far := uint64(now.Add(time.Hour).UnixMilli())
	inv := edge.Inventory{Hash: "x", ResourceTypes: []ims.ResourceType{{ResourceTypeID: "t"}}, Resources: []ims.Resource{{ResourceID: "h", ResourceTypeID: "t"}}}
	tests := []struct {
		name       string
		path       string
		body       any
		wantStatus int
		wantDetail string
	}{
		{"heartbeat for another node", edge.PathHeartbeat, edge.HeartbeatRequest{Report: edge.Report{NodeID: b.NodeID(), Sequence: far, Timestamp: now}}, 403, "can only report for itself"},
		{"inventory for another node", edge.PathInventory, edge.InventoryRequest{Report: edge.Report{NodeID: b.NodeID(), Sequence: far, Timestamp: now}, Inventory: inv}, 403, "can only report for itself"},
		{"replayed heartbeat", edge.PathHeartbeat, edge.HeartbeatRequest{Report: edge.Report{Sequence: 1, Timestamp: now}}, 409, "replay"},
		{"clock an hour ahead", edge.PathHeartbeat, edge.HeartbeatRequest{Report: edge.Report{Sequence: far, Timestamp: now.Add(time.Hour)}}, 422, "time synchronisation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(tt.body)
			resp, err := c.Post(ts.url+tt.path, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			var p edge.Problem
			_ = json.Unmarshal(data, &p)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, data, tt.wantStatus, tt.wantDetail)
			}
			if tt.wantStatus == 409 && (p.LastSequence == nil || *p.LastSequence < 2) {
				t.Errorf("replay refusal without the last sequence: %s", data)
			}
		})
	}
	// The agents are unaffected.
	for _, name := range []string{"a", "b"} {
		if n, _ := ts.node(name); !n.Reachable || time.Since(n.LastHeartbeat) > time.Second {
			t.Errorf("%s: reachable %v, last heartbeat %v ago", name, n.Reachable, time.Since(n.LastHeartbeat))
		}
	}
}

// With manual approval the agent waits, asking again with the same key,
// and carries on once approved.
func TestAgentWaitsForApproval(t *testing.T) {
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond, ManualApproval: true})
	tok := ts.token("edge-west", time.Hour, 1)
	a := startAgent(t, ts.agentOptions("n1", newMachine(t, 1), tok.Token, "edge-west"))
	eventually(t, 5*time.Second, func() error {
		if n, err := ts.node("n1"); err != nil || n.State != edge.NodePending {
			return fmt.Errorf("not pending: %+v %v", n, err)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // a few polls
	if a.NodeID() != "" {
		t.Fatal("enrolled before approval")
	}
	if _, err := ts.svc.Approve(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		n, err := ts.node("n1")
		if err != nil || n.State != edge.NodeEnrolled || a.NodeID() != n.ID || n.LastSequence == 0 {
			return fmt.Errorf("not heartbeating after approval: %+v %v", n, err)
		}
		return nil
	})
}

// The server presents a certificate the stored CA did not sign (another
// IMS answers at the address): the agent refuses it.
func TestAgentRefusesAnotherServer(t *testing.T) {
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond})
	tok := ts.token("edge-west", time.Hour, 1)
	opts := ts.agentOptions("n1", newMachine(t, 1), tok.Token, "edge-west")
	a := startAgent(t, opts)
	eventually(t, 5*time.Second, func() error {
		if a.NodeID() == "" {
			return errNotYet
		}
		return nil
	})
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	impostor := newTestServer(t, edge.Options{})
	opts.Server = impostor.url
	err := runToEnd(t, opts)
	if !errors.Is(err, ErrUntrustedServer) || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("Run against another server = %v", err)
	}
}

// LocalAddr is the address the server sees the node's requests come
// from, and OnRequest hears of each request: the enrolment first, then
// heartbeats, each with its duration.
func TestLocalAddrAndOnRequest(t *testing.T) {
	ts := newTestServer(t, edge.Options{HeartbeatInterval: 100 * time.Millisecond, HeartbeatGrace: 10})
	tok := ts.token("edge-west", time.Hour, 1)
	opts := ts.agentOptions("n1", newMachine(t, 1), tok.Token, "edge-west")
	opts.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 7)}
	type request struct {
		path string
		took time.Duration
		err  error
	}
	requests := make(chan request, 1000)
	opts.OnRequest = func(path string, took time.Duration, err error) {
		select {
		case requests <- request{path, took, err}:
		default:
		}
	}
	startAgent(t, opts)
	var got []request
	for len(got) < 4 {
		select {
		case r := <-requests:
			got = append(got, r)
		case <-time.After(10 * time.Second):
			t.Fatalf("requests heard of: %+v", got)
		}
	}
	if got[0].path != edge.PathEnroll || got[0].err != nil {
		t.Errorf("first request %+v, want the enrolment", got[0])
	}
	heartbeats := 0
	for _, r := range got[1:] {
		if r.took <= 0 {
			t.Errorf("request %+v took no time", r)
		}
		if r.path == edge.PathHeartbeat && r.err == nil {
			heartbeats++
		}
	}
	if heartbeats == 0 {
		t.Errorf("no heartbeat among %+v", got)
	}
	if n, err := ts.node("n1"); err != nil || n.RemoteAddress != "127.0.0.7" {
		t.Errorf("the server sees the node at %q (%v), want 127.0.0.7", n.RemoteAddress, err)
	}
}
