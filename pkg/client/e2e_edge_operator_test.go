package o2_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/testserver"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// TestEdgeEnrolmentByOperator runs the operator's side of edge enrolment
// end to end, with real "o2ims agent" processes, the SDK and the o2ctl
// binary, against a server with --agent-manual-approval and short-lived
// node certificates:
//   - a token minted through the SDK comes with the agent command that
//     enrols a node with it; the node waits for approval, and is no
//     resource, however often its agent asks;
//   - "o2ctl agent approve" lets it in: it becomes a resource of the
//     token's pool;
//   - its agent killed, the node raises O2IMSEdgeNodeUnreachable and no
//     O2IMSResourceUnhealthy beside it; started again, the alarm clears;
//   - the agent renews its certificate before it expires (the serial
//     changes) and keeps heartbeating;
//   - "o2ctl agent delete" removes the node from the inventory, and its
//     certificate, stolen from the agent's state directory and still
//     within its validity, is refused at the TLS handshake;
//   - a token revoked through the API, and a token used up, enrol
//     nothing: their agents give up with the server's reason.
func TestEdgeEnrolmentByOperator(t *testing.T) {
	e := startEdgeServer(t, "edge-ops", 1, "--agent-listen", "127.0.0.1:0", "--local-provider=false", "--agent-manual-approval",
		"--agent-heartbeat-interval", "500ms", "--agent-heartbeat-grace", "3", "--agent-cert-validity", "20s")
	o2ctl := buildO2ctl(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(o2ctl, append([]string{"--endpoint", "http://" + e.Addr}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("o2ctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := e.Client

	tok, err := c.AgentTokens().Create(ctx, o2.AgentTokenRequest{Pool: "edge-ops", TTL: 10 * time.Minute, Uses: 1, Description: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "o2ims agent --server " + e.AgentURL + " --bootstrap-token " + tok.Token + " --ca-hash " + tok.CAHash + " --pool edge-ops"; tok.AgentCommand != want {
		t.Fatalf("agent command %q, want %q", tok.AgentCommand, want)
	}
	// The agent runs with the arguments of that command.
	e.Token.Token, e.Token.CAHash, e.Token.Pool = tok.Token, tok.CAHash, tok.Pool
	state, root := t.TempDir(), copyMachine(t, 1)
	agent := e.startAgent(t, "edge-node-1", root, state, true)

	// Pending, and no resource, after its agent asked at least twice.
	waitFor(t, "edge-node-1 pending and asked twice", func() bool {
		n, err := c.AgentNodes().Get(ctx, "edge-node-1")
		return err == nil && n.State == o2.AgentNodePendingApproval && len(agent.LogRecords("enrolment waiting for approval")) >= 2
	})
	if n := nodeResources(ctx, t, c, "edge-node-1"); len(n) != 0 {
		t.Fatalf("a node waiting for approval is a resource: %+v", n)
	}
	if pools, err := c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "edge-ops")}); err != nil || len(pools.Items) != 0 {
		t.Fatalf("pool of a node waiting for approval: %+v %v", pools, err)
	}

	// Approved: a resource of the token's pool.
	if out := run("agent", "approve", "edge-node-1"); strings.TrimSpace(out) != "agent/edge-node-1 approved" {
		t.Errorf("approve: %q", out)
	}
	res := e.waitNodes(ctx, t, 1)["edge-node-1"]
	node, err := c.AgentNodes().Get(ctx, "edge-node-1")
	if err != nil || node.State != o2.AgentNodeEnrolled || !node.Reachable || res.ResourceID != node.NodeID || node.CertificateSerial == "" {
		t.Fatalf("after approval: %+v %v; resource %s", node, err, res.ResourceID)
	}
	if out := run("agent", "nodes", "-o", "wide"); !strings.Contains(out, "edge-node-1") || !strings.Contains(out, "enrolled") || !strings.Contains(out, node.NodeID) {
		t.Errorf("agent nodes: %s", out)
	}

	// An outage raises one alarm, the specific one: the node's resource
	// turns unhealthy without O2IMSResourceUnhealthy beside it. Its agent
	// started again from its state directory clears it.
	agent.Kill()
	if got := e.waitAlarms(ctx, t, node.NodeID, 15*time.Second, raised); len(got) != 1 {
		t.Fatalf("no unreachable alarm: %+v", got)
	}
	waitFor(t, "the node's resource to turn unhealthy", func() bool {
		r, err := c.Resources().GetByID(ctx, node.NodeID)
		return err == nil && r.Extensions["healthy"] == false && r.Extensions["healthAlarm"] == "O2IMSEdgeNodeUnreachable"
	})
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		page, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSResourceUnhealthy"), o2.Eq("resourceID", node.NodeID))})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("a second alarm for one outage: %+v %v", page, err)
		}
	}
	e.startAgent(t, "edge-node-1", root, state, false)
	if got := e.waitAlarms(ctx, t, node.NodeID, 15*time.Second, cleared); !cleared(got) {
		t.Fatalf("unreachable alarm after the agent came back: %+v", got)
	}

	// Renewal before expiry (two thirds of 20s): a new serial, and
	// heartbeats go on under it.
	first := node.CertificateSerial
	var renewed *o2.AgentNode
	waitFor(t, "a renewed certificate", func() bool {
		n, err := c.AgentNodes().Get(ctx, "edge-node-1")
		if err == nil && n.CertificateSerial != first {
			renewed = n
		}
		return renewed != nil
	})
	if !renewed.CertificateNotAfter.After(node.CertificateNotAfter) {
		t.Errorf("renewed certificate expires %s, the first %s", renewed.CertificateNotAfter, node.CertificateNotAfter)
	}
	waitFor(t, "a heartbeat after the renewal", func() bool {
		n, err := c.AgentNodes().Get(ctx, "edge-node-1")
		return err == nil && n.Reachable && n.LastHeartbeat.After(renewed.LastHeartbeat) && n.CertificateSerial != first
	})
	if got := e.unreachableAlarms(ctx, t, node.NodeID); !cleared(got) {
		t.Errorf("unreachable alarm across the renewal: %+v", got)
	}

	// The agent's identity, as a thief would copy it; it is accepted at
	// the handshake while the node exists.
	stolen, leaf := readIdentity(t, state)
	caPool := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(state, "ca.pem"))
	if err != nil || !caPool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("the agent's CA: %v", err)
	}
	handshake := func() error {
		tr := &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{stolen}, RootCAs: caPool}, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(e.AgentURL + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := handshake(); err != nil {
		t.Fatalf("the node's own certificate before the deletion: %v", err)
	}

	// Deleted: out of the inventory, its certificate refused.
	if out := run("agent", "delete", "edge-node-1"); strings.TrimSpace(out) != "agent/edge-node-1 deleted" {
		t.Errorf("delete: %q", out)
	}
	err = handshake()
	if err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("the deleted node's certificate: %v", err)
	}
	if !time.Now().Before(leaf.NotAfter) {
		t.Fatalf("the stolen certificate expired before it was tried (%s): the refusal proves nothing", leaf.NotAfter)
	}
	if _, err := c.AgentNodes().Get(ctx, "edge-node-1"); !o2.IsNotFound(err) {
		t.Errorf("deleted node: %v", err)
	}
	waitFor(t, "the node to leave the inventory", func() bool {
		_, err := c.Resources().GetByID(ctx, node.NodeID)
		return o2.IsNotFound(err)
	})
	// The operator removed it: no O2IMSResourceDisappeared.
	if gone, err := c.Alarms().List(ctx, o2.ListOptions{Filter: o2.And(o2.Eq("extensions/alarmName", "O2IMSResourceDisappeared"), o2.Eq("resourceID", node.NodeID))}); err != nil || len(gone.Items) != 0 {
		t.Errorf("alarms of the deleted node: %+v, %v", gone, err)
	}

	// A token revoked through the API enrols nothing.
	revoked, err := c.AgentTokens().Create(ctx, o2.AgentTokenRequest{Pool: "edge-ops", TTL: 10 * time.Minute, Uses: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AgentTokens().Delete(ctx, revoked.TokenID); err != nil {
		t.Fatal(err)
	}
	e.Token.Token = revoked.Token
	refusedAgent(t, e.startAgent(t, "edge-node-2", copyMachine(t, 2), t.TempDir(), true), "the bootstrap token is not valid")

	// A token used up enrols nothing more.
	once, err := c.AgentTokens().Create(ctx, o2.AgentTokenRequest{Pool: "edge-ops", TTL: 10 * time.Minute, Uses: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.Token.Token = once.Token
	e.startAgent(t, "edge-node-3", copyMachine(t, 3), t.TempDir(), true)
	waitFor(t, "edge-node-3 to use the token", func() bool {
		got, err := c.AgentTokens().Get(ctx, once.TokenID)
		return err == nil && got.UsesLeft == 0 && got.Uses == 1
	})
	refusedAgent(t, e.startAgent(t, "edge-node-4", copyMachine(t, 4), t.TempDir(), true), "the bootstrap token has been used as often as it allows")

	// An expired token enrols nothing.
	brief, err := c.AgentTokens().Create(ctx, o2.AgentTokenRequest{Pool: "edge-ops", TTL: time.Second, Uses: 1})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(brief.ExpiresAt) + 100*time.Millisecond)
	e.Token.Token = brief.Token
	refusedAgent(t, e.startAgent(t, "edge-node-5", copyMachine(t, 5), t.TempDir(), true), "the bootstrap token has expired")

	for _, name := range []string{"edge-node-2", "edge-node-4", "edge-node-5"} {
		if _, err := c.AgentNodes().Get(ctx, name); !o2.IsNotFound(err) {
			t.Errorf("%s, refused, is a node: %v", name, err)
		}
	}
}

// buildO2ctl builds the o2ctl binary for a test.
func buildO2ctl(t *testing.T) string {
	t.Helper()
	bin, err := testserver.Build(filepath.Join("..", ".."), t.TempDir(), "./cmd/o2ctl")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// nodeResources lists the resources of the edge node name.
func nodeResources(ctx context.Context, t *testing.T, c *o2.Client, name string) []o2.Resource {
	t.Helper()
	page, err := c.Resources().List(ctx, o2.ListOptions{Filter: o2.Eq("extensions/nodeName", name)})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// readIdentity reads the client certificate and key of the agent's state
// directory.
func readIdentity(t *testing.T, state string) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	pemData, err := os.ReadFile(filepath.Join(state, "identity.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(pemData, pemData)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return cert, leaf
}

// refusedAgent waits for an agent whose enrolment is refused to exit with
// an error naming reason.
func refusedAgent(t *testing.T, a *testserver.Server, reason string) {
	t.Helper()
	select {
	case <-a.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("the agent did not give up:\n%s", a.Logs())
	}
	if a.Err() == nil || !strings.Contains(a.Logs(), reason) {
		t.Errorf("agent exit %v, want a refusal saying %q:\n%s", a.Err(), reason, a.Logs())
	}
}
