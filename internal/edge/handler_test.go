package edge

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// startServer serves svc's handler with its real TLS configuration on a
// loopback port.
func startServer(t *testing.T, svc *Service) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(svc.Handler())
	srv.TLS = svc.TLSConfig()
	srv.Config.ErrorLog = log.New(t.Output(), "http server: ", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// client returns an HTTPS client trusting only the edge CA, presenting
// cert when not nil. Each client has its own connections.
func client(svc *Service, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: svc.ca.Pool(), MinVersion: tls.VersionTLS13}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

func tlsCert(t *testing.T, certPEM string, key crypto.Signer) *tls.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		t.Fatalf("no certificate in %q", certPEM)
	}
	return &tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key}
}

type answer struct {
	status  int
	header  http.Header
	body    []byte
	problem Problem
}

func post(t *testing.T, c *http.Client, url, path, bearer, contentType string, body any) (answer, error) {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	a.body, _ = io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		if err := json.Unmarshal(a.body, &a.problem); err != nil {
			t.Fatalf("problem body %s: %v", a.body, err)
		}
	}
	return a, nil
}

func TestHandlerProblems(t *testing.T) {
	svc, _ := newTestService(t, Options{MaxInventoryBytes: 4096})
	srv := startServer(t, svc)
	tok := mustToken(t, svc, "edge-west", time.Hour, 5)
	enrolled, key := enrol(t, svc, tok.Token, "n1")
	withCert := client(svc, tlsCert(t, enrolled.Certificate, key))
	anon := client(svc, nil)
	csr, _ := newCSR(t, "n2")
	big := InventoryRequest{Report: Report{Sequence: 1, Timestamp: time.Now()}, Inventory: *testInventory(strings.Repeat("x", 5000))}

	tests := []struct {
		name        string
		c           *http.Client
		method      string
		path        string
		bearer      string
		contentType string
		body        any
		wantStatus  int
		wantDetail  string
		wantHeader  [2]string
	}{
		{"enrol without a token", anon, "POST", PathEnroll, "", "application/json", EnrollRequest{NodeName: "n2", CSR: csr}, 401,
			"a bootstrap token is required", [2]string{"WWW-Authenticate", `Bearer realm="o2ims-agent-enrolment"`}},
		{"enrol with a wrong token", anon, "POST", PathEnroll, tok.ID + ".aaaaaaaaaaaaaaaa", "application/json", EnrollRequest{NodeName: "n2", CSR: csr}, 401,
			"the bootstrap token is not valid", [2]string{}},
		{"JSON cut short", anon, "POST", PathEnroll, tok.Token, "application/json", `{"nodeName":`, 400, "body: the JSON value is cut short", [2]string{}},
		{"unknown attribute", anon, "POST", PathEnroll, tok.Token, "application/json", `{"nodeName":"n2","role":"admin"}`, 400, `unknown attribute "role"`, [2]string{}},
		{"two values", anon, "POST", PathEnroll, tok.Token, "application/json", `{} {}`, 400, "only one JSON value", [2]string{}},
		{"not JSON", anon, "POST", PathEnroll, tok.Token, "text/plain", "hello", 415, "must be application/json", [2]string{}},
		{"CSR for another name", anon, "POST", PathEnroll, tok.Token, "application/json", EnrollRequest{NodeName: "n3", CSR: csr}, 422, `is not the node name "n3"`, [2]string{}},
		{"GET", anon, "GET", PathEnroll, "", "", "", 405, "only POST", [2]string{"Allow", "POST"}},
		{"unknown path", anon, "POST", "/agent/v2/enroll", "", "", "", 404, "no such agent protocol resource", [2]string{}},
		{"heartbeat without a certificate", anon, "POST", PathHeartbeat, "", "application/json", HeartbeatRequest{}, 401,
			"a client certificate issued at enrolment is required", [2]string{}},
		{"heartbeat with the token", anon, "POST", PathHeartbeat, tok.Token, "application/json", HeartbeatRequest{}, 401,
			"only accepted for enrolment", [2]string{}},
		{"renew with a CSR for another name", withCert, "POST", PathRenew, "", "application/json", RenewRequest{CSR: csr}, 422,
			`is not the node name "n1"`, [2]string{}},
		{"inventory too large", withCert, "POST", PathInventory, "", "application/json", big, 413, "larger than 4096 bytes", [2]string{}},
		{"timestamp not a date", withCert, "POST", PathHeartbeat, "", "application/json", `{"sequence":1,"timestamp":"yesterday"}`, 400,
			"not an RFC 3339 date-time", [2]string{}},
		{"sequence not a number", withCert, "POST", PathHeartbeat, "", "application/json", `{"sequence":"one"}`, 400,
			"sequence must be an integer", [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a answer
			var err error
			if tt.method == "GET" {
				resp, gerr := tt.c.Get(srv.URL + tt.path)
				if gerr != nil {
					t.Fatal(gerr)
				}
				a.status, a.header = resp.StatusCode, resp.Header
				a.body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				_ = json.Unmarshal(a.body, &a.problem)
			} else if a, err = post(t, tt.c, srv.URL, tt.path, tt.bearer, tt.contentType, tt.body); err != nil {
				t.Fatal(err)
			}
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", a.status, tt.wantStatus, a.body)
			}
			if a.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q", a.header.Get("Content-Type"))
			}
			p := a.problem
			if p.Status != tt.wantStatus || p.Title != http.StatusText(tt.wantStatus) || p.Type != "about:blank" || p.Instance != tt.path {
				t.Errorf("problem %+v", p)
			}
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail %q lacks %q", p.Detail, tt.wantDetail)
			}
			if h := tt.wantHeader; h[0] != "" && a.header.Get(h[0]) != h[1] {
				t.Errorf("%s = %q, want %q", h[0], a.header.Get(h[0]), h[1])
			}
		})
	}
}

// The protocol end to end over HTTPS: enrol, heartbeat, inventory, renew,
// replay refused with the last sequence, another node's report refused, a
// deleted node refused at the handshake.
func TestHandlerFlow(t *testing.T) {
	rec := &recorder{}
	svc, store := newTestService(t, Options{Observer: rec})
	srv := startServer(t, svc)
	tok := mustToken(t, svc, "edge-west", time.Hour, 2)
	anon := client(svc, nil)

	enrolOverHTTP := func(name string) (EnrollResponse, *tls.Certificate) {
		csr, key := newCSR(t, name)
		a, err := post(t, anon, srv.URL, PathEnroll, tok.Token, "application/json",
			EnrollRequest{NodeName: name, CSR: csr, AgentVersion: "1.0", Addresses: []string{"10.0.0.1"}, Inventory: testInventory("h-" + name)})
		if err != nil || a.status != http.StatusCreated {
			t.Fatalf("enrol %s: %v %d %s", name, err, a.status, a.body)
		}
		var resp EnrollResponse
		if err := json.Unmarshal(a.body, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Status != StatusEnrolled || resp.HeartbeatIntervalSeconds != DefaultHeartbeatInterval.Seconds() {
			t.Errorf("enrol %s: %+v", name, resp)
		}
		return resp, tlsCert(t, resp.Certificate, key)
	}
	n1, cert1 := enrolOverHTTP("n1")
	n2, _ := enrolOverHTTP("n2")
	c1 := client(svc, cert1)

	hb := func(seq uint64, nodeID string, hash string) answer {
		a, err := post(t, c1, srv.URL, PathHeartbeat, "", "application/json",
			HeartbeatRequest{Report: Report{NodeID: nodeID, Sequence: seq, Timestamp: time.Now()}, AgentVersion: "1.1", InventoryHash: hash})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := hb(10, n1.NodeID, "h-n1"); a.status != 200 || !strings.Contains(string(a.body), `"heartbeatIntervalSeconds":10`) || strings.Contains(string(a.body), "sendInventory") {
		t.Errorf("heartbeat: %d %s", a.status, a.body)
	}
	if a := hb(11, "", "h-changed"); a.status != 200 || !strings.Contains(string(a.body), `"sendInventory":true`) {
		t.Errorf("heartbeat with another hash: %d %s, want the inventory asked for", a.status, a.body)
	}
	if a := hb(11, "", ""); a.status != 409 || a.problem.LastSequence == nil || *a.problem.LastSequence != 11 {
		t.Errorf("replayed heartbeat: %d %s, want 409 naming 11", a.status, a.body)
	}
	if a := hb(12, n2.NodeID, ""); a.status != 403 || !strings.Contains(a.problem.Detail, "can only report for itself") {
		t.Errorf("heartbeat for n2 with n1's certificate: %d %s", a.status, a.body)
	}
	inv := InventoryRequest{Report: Report{Sequence: 13, Timestamp: time.Now()}, Inventory: *testInventory("h-changed")}
	if a, err := post(t, c1, srv.URL, PathInventory, "", "application/json", inv); err != nil || a.status != 204 {
		t.Errorf("inventory: %v %d %s", err, a.status, a.body)
	}
	if got, _ := store.Inventory(context.Background(), n1.NodeID); got.Hash != "h-changed" {
		t.Errorf("stored inventory hash %q", got.Hash)
	}

	csr, key := newCSR(t, "n1")
	a, err := post(t, c1, srv.URL, PathRenew, "", "application/json", RenewRequest{CSR: csr})
	if err != nil || a.status != 200 {
		t.Fatalf("renew: %v %d %s", err, a.status, a.body)
	}
	var renewed CertificateResponse
	_ = json.Unmarshal(a.body, &renewed)
	c1renewed := client(svc, tlsCert(t, renewed.Certificate, key))
	if a, err := post(t, c1renewed, srv.URL, PathHeartbeat, "", "application/json",
		HeartbeatRequest{Report: Report{Sequence: 14, Timestamp: time.Now()}}); err != nil || a.status != 200 {
		t.Errorf("heartbeat with the renewed certificate: %v %d %s", err, a.status, a.body)
	}

	// Deleting n1 revokes both its certificates: a new connection with
	// either fails at the handshake, an open one is refused by the handler.
	if err := svc.DeleteNode(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	if a := hb(15, "", ""); a.status != 401 || !strings.Contains(a.problem.Detail, "revoked") {
		t.Errorf("deleted node on an open connection: %d %s", a.status, a.body)
	}
	for name, cert := range map[string]*tls.Certificate{"first": cert1, "renewed": tlsCert(t, renewed.Certificate, key)} {
		_, err := post(t, client(svc, cert), srv.URL, PathHeartbeat, "", "application/json",
			HeartbeatRequest{Report: Report{Sequence: 16, Timestamp: time.Now()}})
		if err == nil || !strings.Contains(err.Error(), "bad certificate") {
			t.Errorf("%s certificate of a deleted node: err = %v, want refused at the handshake", name, err)
		}
	}
	if events, _ := rec.snapshot(); len(events) != 1 || events[0] != "deleted n1" {
		t.Errorf("events = %v", events)
	}
	// Enrolment (no client certificate) is unaffected.
	if a, err := post(t, anon, srv.URL, PathEnroll, "", "application/json", EnrollRequest{}); err != nil || a.status != 401 {
		t.Errorf("anonymous connection after a revocation: %v %d", err, a.status)
	}
}

func TestHandlerRateLimits(t *testing.T) {
	svc, _ := newTestService(t, Options{EnrollRequestsPerSecond: 0.001, EnrollBurst: 2, NodeRequestsPerSecond: 0.001, NodeBurst: 3})
	srv := startServer(t, svc)
	tok := mustToken(t, svc, "edge-west", time.Hour, 1)
	anon := client(svc, nil)
	for i, want := range []int{401, 401, 429} {
		a, err := post(t, anon, srv.URL, PathEnroll, "", "application/json", EnrollRequest{})
		if err != nil || a.status != want {
			t.Fatalf("enrolment %d: %v %d, want %d", i, err, a.status, want)
		}
		if want == 429 && (a.header.Get("Retry-After") == "" || !strings.Contains(a.problem.Detail, "Too many requests")) {
			t.Errorf("429 without Retry-After or words: %v %+v", a.header, a.problem)
		}
	}
	resp, key := enrol(t, svc, tok.Token, "n1")
	c := client(svc, tlsCert(t, resp.Certificate, key))
	for i, want := range []int{200, 200, 200, 429} {
		a, err := post(t, c, srv.URL, PathHeartbeat, "", "application/json",
			HeartbeatRequest{Report: Report{Sequence: uint64(i + 1), Timestamp: time.Now()}})
		if err != nil || a.status != want {
			t.Fatalf("heartbeat %d: %v %d %s, want %d", i, err, a.status, a.body, want)
		}
	}
}
