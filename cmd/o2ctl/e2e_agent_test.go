package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/testserver"
)

// TestAgentCommands: o2ctl's agent commands against a server with its
// agent listener mint, list and revoke bootstrap tokens (the secret shown
// once) and name missing nodes with exit status 2; against the shared
// server, which runs without the listener, they exit with status 5
// saying that edge enrolment is off. (Enrolment by real agents is
// TestEdgeAgents* of the Go SDK.)
func TestAgentCommands(t *testing.T) {
	_, errOut := o2ctl(t, exitConflict, "agent", "token", "list")
	if !strings.Contains(errOut, "edge enrolment is off") {
		t.Errorf("agent listener off: %s", errOut)
	}

	s, err := testserver.Start(o2imsBinary, t.TempDir(), "--local-provider=false", "--agent-listen", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	endpoint := []string{"O2CTL_ENDPOINT=http://" + s.Addr}
	run := func(want int, args ...string) (string, string) {
		t.Helper()
		out, errOut, code := o2ctlRun(endpoint, args...)
		if code != want {
			t.Fatalf("o2ctl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}

	out, _ := run(exitOK, "agent", "token", "create", "--pool", "edge-west", "--ttl", "1h", "--uses", "2", "--description", "rack 4", "-o", "json")
	var tok struct {
		TokenID, Token, Pool, CAHash, AgentCommand string
		MaxUses                                    int
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Pool != "edge-west" || tok.MaxUses != 2 || !strings.HasPrefix(tok.Token, tok.TokenID+".") ||
		!strings.Contains(tok.AgentCommand, "--bootstrap-token "+tok.Token) || !strings.HasPrefix(tok.CAHash, "sha256:") {
		t.Fatalf("token create: %s (%v)", out, err)
	}
	_, secret, _ := strings.Cut(tok.Token, ".")
	text, _ := run(exitOK, "agent", "token", "create", "--pool", "edge-east")
	if !strings.Contains(text, "on the node: o2ims agent --server https://127.0.0.1:") {
		t.Errorf("token create, text: %s", text)
	}

	list, _ := run(exitOK, "agent", "token", "list", "-o", "wide")
	if !strings.Contains(list, tok.TokenID) || !strings.Contains(list, "edge-west") || !strings.Contains(list, "rack 4") || strings.Contains(list, secret) {
		t.Errorf("token list: %s", list)
	}
	one, _ := run(exitOK, "get", "agenttokens", tok.TokenID, "-o", "json")
	if strings.Contains(one, secret) || !strings.Contains(one, `"usesLeft": 2`) {
		t.Errorf("get agenttokens %s: %s", tok.TokenID, one)
	}
	if out, _ := run(exitOK, "agent", "token", "delete", tok.TokenID); strings.TrimSpace(out) != "agenttoken/"+tok.TokenID+" deleted" {
		t.Errorf("token delete: %q", out)
	}
	if _, errOut := run(exitNotFound, "agent", "token", "delete", tok.TokenID); !strings.Contains(errOut, "bootstrap token "+tok.TokenID+" not found") {
		t.Errorf("token delete twice: %s", errOut)
	}
	if _, errOut := run(exitOK, "agent", "nodes"); !strings.Contains(errOut, "No agents found.") {
		t.Errorf("agent nodes: %s", errOut)
	}
	if _, errOut := run(exitNotFound, "agent", "approve", "edge-node-9"); !strings.Contains(errOut, "edge node edge-node-9 not found") {
		t.Errorf("approve: %s", errOut)
	}
	run(exitNotFound, "agent", "delete", "edge-node-9")
	run(exitError, "agent", "token", "create")
}
