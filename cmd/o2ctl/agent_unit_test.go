package main

import (
	"net/http"
	"strings"
	"testing"
)

// The agent commands send the requests of the edge-enrolment API and
// print its answers.
func TestAgentCommandRequests(t *testing.T) {
	ims := newFakeIMS(t, func(r *http.Request) (int, string) {
		switch {
		case r.Method == "POST" && r.URL.Path == neph+"/agents/tokens":
			return 201, `{"tokenId":"abcdef","token":"abcdef.0123456789abcdef","pool":"edge-west","expiresAt":"2026-12-08T02:00:00Z","maxUses":2,"usesLeft":2,` +
				`"caHash":"sha256:00","agentCommand":"o2ims agent --server https://ims:8443 --bootstrap-token abcdef.0123456789abcdef --ca-hash sha256:00 --pool edge-west"}`
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/approve"):
			return 200, `{"nodeId":"5f0c0f0e-0000-4000-8000-000000000001","name":"edge-1","pool":"edge-west","state":"approved","reachable":false}`
		case r.Method == "GET" && r.URL.Path == neph+"/agents/nodes":
			return 200, `[{"nodeId":"5f0c0f0e-0000-4000-8000-000000000001","name":"edge-1","pool":"edge-west","state":"pending-approval","reachable":false,"agentVersion":"1.2"}]`
		case r.Method == "GET" && r.URL.Path == neph+"/agents/tokens":
			return 200, `[{"tokenId":"abcdef","pool":"edge-west","createdAt":"2026-12-08T01:00:00Z","expiresAt":"2026-12-08T02:00:00Z","maxUses":2,"uses":1,"usesLeft":1,"expired":false}]`
		case r.Method == "DELETE":
			return 204, ``
		}
		return 404, `{"status":404,"detail":"no such thing"}`
	})
	for _, c := range []struct {
		name    string
		args    []string
		request string
		stdout  string
	}{
		{"token create", []string{"agent", "token", "create", "--pool", "edge-west", "--ttl", "1h", "--uses", "2", "--description", "rack 4"},
			"POST " + neph + `/agents/tokens application/json {"pool":"edge-west","ttl":"1h0m0s","uses":2,"description":"rack 4"}`,
			"on the node: o2ims agent --server https://ims:8443 --bootstrap-token abcdef.0123456789abcdef"},
		{"token create, defaults", []string{"agent", "token", "create", "--pool", "edge-west"},
			"POST " + neph + `/agents/tokens application/json {"pool":"edge-west","ttl":"24h0m0s","uses":1}`, "token:    abcdef.0123456789abcdef"},
		{"token list", []string{"agent", "token", "list"}, "GET " + neph + "/agents/tokens", "abcdef"},
		{"get agenttokens", []string{"get", "agenttokens"}, "GET " + neph + "/agents/tokens", "edge-west"},
		{"token delete", []string{"agent", "token", "delete", "abcdef"}, "DELETE " + neph + "/agents/tokens/abcdef", "agenttoken/abcdef deleted"},
		{"nodes", []string{"agent", "nodes"}, "GET " + neph + "/agents/nodes", "pending-approval"},
		{"get agents", []string{"get", "agents", "-o", "name"}, "GET " + neph + "/agents/nodes", "agent/5f0c0f0e-0000-4000-8000-000000000001"},
		{"approve", []string{"agent", "approve", "edge-1"}, "POST " + neph + "/agents/nodes/edge-1/approve", "agent/edge-1 approved"},
		{"delete", []string{"agent", "delete", "edge-1"}, "DELETE " + neph + "/agents/nodes/edge-1", "agent/edge-1 deleted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(ims.requests())
			out, errOut, code := runAgainst(t, ims.URL, c.args...)
			if code != exitOK || !strings.Contains(out, c.stdout) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want stdout containing %q", code, out, errOut, c.stdout)
			}
			if reqs := ims.requests(); len(reqs) != before+1 || reqs[before] != c.request {
				t.Errorf("requests %q\nwant %s", reqs[before:], c.request)
			}
		})
	}
}

func TestAgentCommandErrors(t *testing.T) {
	off := newFakeIMS(t, func(*http.Request) (int, string) {
		return 409, `{"status":409,"detail":"edge enrolment is off: the server runs without its agent listener (--agent-listen), so it has no agent tokens or edge nodes"}`
	})
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"agent", "token", "create"}, exitError, "--pool is required"},
		{[]string{"agent", "token", "create", "--pool", "p", "-o", "wide"}, exitError, "unknown output format"},
		{[]string{"agent", "approve"}, exitError, "expected one or more nodes"},
		{[]string{"agent", "token", "delete"}, exitError, "expected one or more IDs"},
		{[]string{"agent", "token", "list"}, exitConflict, "edge enrolment is off"},
		{[]string{"agent", "approve", "edge-1"}, exitConflict, "edge enrolment is off"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, errOut, code := runAgainst(t, off.URL, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}
