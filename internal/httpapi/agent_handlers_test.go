package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/auth"
	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/httpapi"
	"github.com/nephoran/o2ims/internal/oidctest"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

const agentsAPI = "/o2ims/v1/agents"

// agentEnv serves the API with the edge service of a fresh store (nil
// svc: edge enrolment off), behind bearer authentication by a real
// authorization server.
type agentEnv struct {
	srv *httptest.Server
	svc *edge.Service
	idp *oidctest.Provider
}

func newAgentEnv(t *testing.T, b sqlstoretest.Backend, withEdge bool) *agentEnv {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	idp := oidctest.New(t)
	authn, err := auth.New(ctx, auth.Options{JWKSURL: idp.JWKSURL(), Issuer: idp.URL, Audience: oidctest.Audience}, logger)
	if err != nil {
		t.Fatal(err)
	}
	e := &agentEnv{idp: idp}
	if withEdge {
		ca, err := edge.OpenCA(edge.CAOptions{Dir: filepath.Join(t.TempDir(), "edge"), ServerHosts: []string{"127.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if e.svc, err = edge.Open(ctx, edge.Options{ManualApproval: true}, sqlstoretest.Open(t, b).Edge(), ca, logger); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	h, err := httpapi.New(httpapi.Options{Edge: e.svc, AgentURL: "https://127.0.0.1:8443", Authenticator: authn,
		Registry: reg, Gatherer: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// call sends a request with a token of the given scopes ("" for none)
// and a JSON body (none when empty).
func (e *agentEnv) call(t *testing.T, scopes, method, path, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if scopes != "" {
		req.Header.Set("Authorization", "Bearer "+e.idp.Sign(scopes, time.Hour))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

const rw = "o2ims:read o2ims:write"

// enrolNode enrols a node named name through the service as its agent
// would, returning its CSR so that the same agent can ask again.
func enrolNode(t *testing.T, svc *edge.Service, token, name string) (edge.EnrollResponse, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	resp, err := svc.Enroll(context.Background(), token, edge.EnrollRequest{NodeName: name, CSR: csr, AgentVersion: "1.2.3", Addresses: []string{"192.0.2.7"}}, "192.0.2.7:40000")
	if err != nil {
		t.Fatalf("enrolling %s: %v", name, err)
	}
	return resp, csr
}

func decodeObject(t *testing.T, r response) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode (status %d): %v: %s", r.status, err, r.body)
	}
	return out
}

func TestAgentTokensAPI(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newAgentEnv(t, b, true)

		created := e.call(t, rw, "POST", agentsAPI+"/tokens", `{"pool":"edge-west","ttl":"1h","uses":2,"description":"rack 4"}`)
		if created.status != 201 {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		tok := decodeObject(t, created)
		id, secret := tok["tokenId"].(string), tok["token"].(string)
		if len(id) != 6 || !strings.HasPrefix(secret, id+".") || tok["pool"] != "edge-west" || tok["maxUses"] != 2.0 || tok["usesLeft"] != 2.0 ||
			!strings.HasPrefix(tok["caHash"].(string), "sha256:") || tok["description"] != "rack 4" {
			t.Fatalf("created token: %s", created.body)
		}
		if want := "o2ims agent --server https://127.0.0.1:8443 --bootstrap-token " + secret + " --ca-hash " + tok["caHash"].(string) + " --pool edge-west"; tok["agentCommand"] != want {
			t.Errorf("agentCommand = %q, want %q", tok["agentCommand"], want)
		}
		if loc := created.header.Get("Location"); loc != agentsAPI+"/tokens/"+id {
			t.Errorf("Location %q", loc)
		}
		if exp, _ := time.Parse(time.RFC3339, tok["expiresAt"].(string)); time.Until(exp) < 59*time.Minute || time.Until(exp) > time.Hour {
			t.Errorf("expiresAt %v", tok["expiresAt"])
		}
		_, secretPart, _ := strings.Cut(secret, ".")

		// Defaults: one use, 24 hours.
		def := e.call(t, "o2ims:write", "POST", agentsAPI+"/tokens", `{"pool":"edge-east"}`)
		if def.status != 201 {
			t.Fatalf("create with defaults: %d %s", def.status, def.body)
		}
		if d := decodeObject(t, def); d["maxUses"] != 1.0 {
			t.Errorf("default uses: %s", def.body)
		} else if exp, _ := time.Parse(time.RFC3339, d["expiresAt"].(string)); time.Until(exp) < 23*time.Hour {
			t.Errorf("default ttl: %s", def.body)
		}

		// The secret is never shown again, listed or alone.
		list := e.call(t, "o2ims:read", "GET", agentsAPI+"/tokens?all_fields", "")
		one := e.call(t, "o2ims:read", "GET", agentsAPI+"/tokens/"+id, "")
		for what, r := range map[string]response{"list": list, "get": one} {
			if r.status != 200 || strings.Contains(string(r.body), secretPart) || strings.Contains(string(r.body), `"token"`) {
				t.Errorf("%s: %d %s", what, r.status, r.body)
			}
		}
		if items := list.list(t); len(items) != 2 || !slices.Contains(ids(items, "tokenId"), id) {
			t.Fatalf("list: %s", list.body)
		}
		if got := decodeObject(t, one); got["uses"] != 0.0 || got["usesLeft"] != 2.0 || got["expired"] != false || got["pool"] != "edge-west" {
			t.Errorf("get: %s", one.body)
		}
		if f := e.call(t, "o2ims:read", "GET", agentsAPI+"/tokens?filter=(eq,pool,edge-east)", ""); f.status != 200 || len(f.list(t)) != 1 {
			t.Errorf("filtered: %d %s", f.status, f.body)
		}

		// A use shows; a revoked token is gone and enrols nothing.
		enrolNode(t, e.svc, secret, "node-1")
		if got := decodeObject(t, e.call(t, "o2ims:read", "GET", agentsAPI+"/tokens/"+id, "")); got["uses"] != 1.0 || got["usesLeft"] != 1.0 {
			t.Errorf("after one enrolment: %v", got)
		}
		if r := e.call(t, "o2ims:write", "DELETE", agentsAPI+"/tokens/"+id, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if _, err := e.svc.Enroll(context.Background(), secret, edge.EnrollRequest{NodeName: "node-2"}, ""); err == nil {
			t.Error("a revoked token enrolled a node")
		}

		for _, tc := range []struct {
			name, scopes, method, path, body string
			status                           int
			detail                           string
		}{
			{"missing after delete", "o2ims:read", "GET", agentsAPI + "/tokens/" + id, "", 404, "bootstrap token " + id + " not found"},
			{"delete twice", rw, "DELETE", agentsAPI + "/tokens/" + id, "", 404, "bootstrap token " + id + " not found"},
			{"no token", "", "POST", agentsAPI + "/tokens", `{"pool":"p"}`, 401, ""},
			{"read scope cannot create", "o2ims:read", "POST", agentsAPI + "/tokens", `{"pool":"p"}`, 403, ""},
			{"read scope cannot revoke", "o2ims:read", "DELETE", agentsAPI + "/tokens/abcdef", "", 403, ""},
			{"write scope cannot list", "o2ims:write", "GET", agentsAPI + "/tokens", "", 403, ""},
			{"no pool", rw, "POST", agentsAPI + "/tokens", `{"ttl":"1h"}`, 400, "not a valid pool name"},
			{"bad pool", rw, "POST", agentsAPI + "/tokens", `{"pool":"Edge West"}`, 400, "not a valid pool name"},
			{"bad ttl", rw, "POST", agentsAPI + "/tokens", `{"pool":"p","ttl":"forever"}`, 400, `ttl: "forever" is not a duration`},
			{"ttl too long", rw, "POST", agentsAPI + "/tokens", `{"pool":"p","ttl":"1000h"}`, 400, "ttl must be positive and at most"},
			{"negative ttl", rw, "POST", agentsAPI + "/tokens", `{"pool":"p","ttl":"-1h"}`, 400, "ttl must be positive"},
			{"no uses", rw, "POST", agentsAPI + "/tokens", `{"pool":"p","uses":0}`, 400, "uses must be between 1 and"},
			{"uses as text", rw, "POST", agentsAPI + "/tokens", `{"pool":"p","uses":"two"}`, 400, "uses"},
			{"unknown attribute", rw, "POST", agentsAPI + "/tokens", `{"pool":"p","secret":"x"}`, 400, "secret"},
			{"not JSON", rw, "POST", agentsAPI + "/tokens", `pool=p`, 400, ""},
			{"no body", rw, "POST", agentsAPI + "/tokens", "", 400, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.call(t, tc.scopes, tc.method, tc.path, tc.body)
				if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("%d %s %s", r.status, r.header.Get("Content-Type"), r.body)
				}
				p := decodeObject(t, r)
				if p["status"] != float64(tc.status) || !strings.Contains(p["detail"].(string), tc.detail) || strings.Contains(p["detail"].(string), "json:") {
					t.Errorf("problem %s, want detail containing %q", r.body, tc.detail)
				}
			})
		}
	})
}

func TestAgentNodesAPI(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		e := newAgentEnv(t, b, true)
		tok, err := e.svc.CreateToken(context.Background(), "edge-west", time.Hour, 3, "")
		if err != nil {
			t.Fatal(err)
		}
		respA, _ := enrolNode(t, e.svc, tok.Token, "node-a")
		respB, csrB := enrolNode(t, e.svc, tok.Token, "node-b")
		if respA.Status != edge.StatusPending || respB.Status != edge.StatusPending {
			t.Fatalf("enrolments not pending: %+v %+v", respA, respB)
		}

		list := e.call(t, "o2ims:read", "GET", agentsAPI+"/nodes", "")
		items := list.list(t)
		if len(items) != 2 || !slices.Contains(ids(items, "name"), "node-a") {
			t.Fatalf("nodes: %s", list.body)
		}
		for _, n := range items {
			if n["state"] != "pending-approval" || n["reachable"] != false || n["pool"] != "edge-west" || n["agentVersion"] != "1.2.3" ||
				n["tokenId"] != tok.ID || n["certificateSerial"] != nil {
				t.Errorf("pending node: %v", n)
			}
		}

		// Approve by name; the agent collects its certificate.
		r := e.call(t, "o2ims:write", "POST", agentsAPI+"/nodes/node-b/approve", "")
		if r.status != 200 || decodeObject(t, r)["state"] != "approved" {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		again, err := e.svc.Enroll(context.Background(), tok.Token, edge.EnrollRequest{NodeName: "node-b", CSR: csrB}, "192.0.2.7:40000")
		if err != nil || again.Status != edge.StatusEnrolled {
			t.Fatalf("collecting after approval: %+v %v", again, err)
		}
		got := decodeObject(t, e.call(t, "o2ims:read", "GET", agentsAPI+"/nodes/"+respB.NodeID, ""))
		if got["state"] != "enrolled" || got["reachable"] != true || got["certificateSerial"] == nil || got["certificateNotAfter"] == nil ||
			got["lastHeartbeat"] == nil || got["nodeId"] != respB.NodeID {
			t.Errorf("enrolled node: %v", got)
		}
		if f := e.call(t, "o2ims:read", "GET", agentsAPI+"/nodes?filter=(eq,state,pending-approval)", ""); len(f.list(t)) != 1 {
			t.Errorf("pending nodes: %s", f.body)
		}

		// Delete by id: gone, its certificate revoked.
		if r := e.call(t, rw, "DELETE", agentsAPI+"/nodes/"+respB.NodeID, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}

		for _, tc := range []struct {
			name, scopes, method, path string
			status                     int
			detail                     string
		}{
			{"deleted", "o2ims:read", "GET", agentsAPI + "/nodes/" + respB.NodeID, 404, "edge node " + respB.NodeID + " not found"},
			{"missing by name", "o2ims:read", "GET", agentsAPI + "/nodes/node-z", 404, "edge node node-z not found"},
			{"approve missing", rw, "POST", agentsAPI + "/nodes/node-z/approve", 404, "edge node node-z not found"},
			{"delete missing", rw, "DELETE", agentsAPI + "/nodes/node-z", 404, "edge node node-z not found"},
			{"no token", "", "GET", agentsAPI + "/nodes", 401, ""},
			{"read scope cannot approve", "o2ims:read", "POST", agentsAPI + "/nodes/node-a/approve", 403, ""},
			{"read scope cannot delete", "o2ims:read", "DELETE", agentsAPI + "/nodes/node-a", 403, ""},
			{"bad filter", "o2ims:read", "GET", agentsAPI + "/nodes?filter=(eq,colour,red)", 400, "colour"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.call(t, tc.scopes, tc.method, tc.path, "")
				if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("%d %s", r.status, r.body)
				}
				if p := decodeObject(t, r); !strings.Contains(p["detail"].(string), tc.detail) {
					t.Errorf("problem %s, want detail containing %q", r.body, tc.detail)
				}
			})
		}

		// Approving twice is a conflict; so is approving an enrolled node.
		if r := e.call(t, rw, "POST", agentsAPI+"/nodes/node-a/approve", ""); r.status != 200 {
			t.Fatalf("approve node-a: %d %s", r.status, r.body)
		}
		r = e.call(t, rw, "POST", agentsAPI+"/nodes/node-a/approve", "")
		if p := decodeObject(t, r); r.status != 409 || !strings.Contains(p["detail"].(string), "edge node node-a is not waiting for approval: it is approved") {
			t.Errorf("approve twice: %d %s", r.status, r.body)
		}
	})
}

// Without the agent listener every agent path answers 409 in the API's
// words; authentication and scopes still come first.
func TestAgentAPIWhenEdgeEnrolmentIsOff(t *testing.T) {
	e := newAgentEnv(t, sqlstoretest.Backends()[0], false)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", agentsAPI + "/tokens", ""},
		{"POST", agentsAPI + "/tokens", `{"pool":"p"}`},
		{"GET", agentsAPI + "/tokens/abcdef", ""},
		{"DELETE", agentsAPI + "/tokens/abcdef", ""},
		{"GET", agentsAPI + "/nodes", ""},
		{"GET", agentsAPI + "/nodes/node-a", ""},
		{"POST", agentsAPI + "/nodes/node-a/approve", ""},
		{"DELETE", agentsAPI + "/nodes/node-a", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := e.call(t, rw, tc.method, tc.path, tc.body)
			if r.status != 409 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if p := decodeObject(t, r); !strings.HasPrefix(p["detail"].(string), "edge enrolment is off") {
				t.Errorf("problem %s", r.body)
			}
			if r := e.call(t, "", tc.method, tc.path, tc.body); r.status != 401 {
				t.Errorf("without a token: %d %s", r.status, r.body)
			}
		})
	}
}
