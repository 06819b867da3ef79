package a1_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/a1"
	"github.com/nephoran/o2ims/internal/a1/a1test"
)

// modes are the two ways a RIC answers, each with policy type ids it
// accepts.
var modes = []struct {
	name        string
	mode        a1test.Mode
	typeA       string // provisioned with a schema requiring "scope"
	typeB       string
	wantTypes   []string
	wantCreated bool   // what a PUT of a new policy reports
	listPrefix  string // how the type list starts on the wire
}{
	{"standard", a1test.Standard, "qos", "steering", []string{"qos", "steering"}, true, `["`},
	{"mediator", a1test.Mediator, "20008", "20009", []string{"20008", "20009"}, false, `[2`},
}

const schemaA = `{"type":"object","required":["scope"]}`

// newClient returns a client of url with a short timeout.
func newClient(t *testing.T, url string) *a1.Client {
	t.Helper()
	c, err := a1.NewClient(url, a1.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewClient(%q): %v", url, err)
	}
	return c
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// asError returns err as an *a1.Error, failing the test if it is not one.
func asError(t *testing.T, err error) *a1.Error {
	t.Helper()
	var e *a1.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *a1.Error", err, err)
	}
	return e
}

// TestLifecycle lists, creates, replaces, reads and deletes a policy on
// both kinds of RIC.
func TestLifecycle(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ric := a1test.New(t, m.mode)
			ric.AddType(m.typeB, nil)
			ric.AddType(m.typeA, json.RawMessage(schemaA))
			c := newClient(t, ric.URL)
			ctx := context.Background()

			// The fake answers strings or integers as its mode says, and
			// the client returns strings either way.
			resp, err := http.Get(ric.URL + "/A1-P/v2/policytypes")
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(string(raw), m.listPrefix) {
				t.Fatalf("type list on the wire %s, want it to start %s", raw, m.listPrefix)
			}
			types, err := c.PolicyTypes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(types, m.wantTypes) {
				t.Fatalf("PolicyTypes = %q, want %q", types, m.wantTypes)
			}

			ids, err := c.Policies(ctx, m.typeA)
			if err != nil || len(ids) != 0 {
				t.Fatalf("Policies of an empty type = %q, %v", ids, err)
			}

			v1 := json.RawMessage(`{"scope":{"sliceId":"embb-1"},"target_instances":2}`)
			created, err := c.PutPolicy(ctx, m.typeA, "o2ims-p1", v1)
			if err != nil {
				t.Fatal(err)
			}
			if created != m.wantCreated {
				t.Errorf("create: created = %v, want %v", created, m.wantCreated)
			}
			if got := ric.Policies(m.typeA)["o2ims-p1"]; got == nil || !sameJSON(t, got, v1) {
				t.Fatalf("RIC holds %s after create, want %s", got, v1)
			}

			v2 := json.RawMessage(`{"scope":{"sliceId":"embb-1"},"target_instances":4}`)
			created, err = c.PutPolicy(ctx, m.typeA, "o2ims-p1", v2)
			if err != nil {
				t.Fatal(err)
			}
			if created {
				t.Error("update: created = true")
			}
			if got := ric.Policies(m.typeA)["o2ims-p1"]; !sameJSON(t, got, v2) {
				t.Fatalf("RIC holds %s after update, want %s", got, v2)
			}

			got, err := c.GetPolicy(ctx, m.typeA, "o2ims-p1")
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, v2) {
				t.Fatalf("GetPolicy = %s, want %s", got, v2)
			}

			st, err := c.PolicyStatus(ctx, m.typeA, "o2ims-p1")
			if err != nil {
				t.Fatal(err)
			}
			var status struct{ EnforceStatus string }
			if err := json.Unmarshal(st, &status); err != nil || status.EnforceStatus != "ENFORCED" {
				t.Fatalf("PolicyStatus = %s (%v), want ENFORCED", st, err)
			}

			if _, err := c.PutPolicy(ctx, m.typeA, "o2ims-p0", v1); err != nil {
				t.Fatal(err)
			}
			ids, err = c.Policies(ctx, m.typeA)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"o2ims-p0", "o2ims-p1"}; !reflect.DeepEqual(ids, want) {
				t.Fatalf("Policies = %q, want %q", ids, want)
			}

			if err := c.DeletePolicy(ctx, m.typeA, "o2ims-p1"); err != nil {
				t.Fatal(err)
			}
			if p := ric.Policies(m.typeA); len(p) != 1 || p["o2ims-p1"] != nil {
				t.Fatalf("RIC holds %v after delete", p)
			}
			err = c.DeletePolicy(ctx, m.typeA, "o2ims-p1")
			if !a1.IsNotFound(err) {
				t.Fatalf("second delete: %v, want not found", err)
			}
			if a1.Retryable(err) {
				t.Errorf("not found is retryable")
			}
			if _, err := c.GetPolicy(ctx, m.typeA, "o2ims-p1"); !a1.IsNotFound(err) {
				t.Fatalf("GetPolicy after delete: %v, want not found", err)
			}
			if _, err := c.PolicyStatus(ctx, m.typeA, "o2ims-p1"); !a1.IsNotFound(err) {
				t.Fatalf("PolicyStatus after delete: %v, want not found", err)
			}
		})
	}
}

// TestErrors checks what the client makes of the RIC's refusals and of its
// being down.
func TestErrors(t *testing.T) {
	type call func(ctx context.Context, c *a1.Client, typeA string) error
	tests := []struct {
		name      string
		down      bool
		call      call
		status    int // 0: not an *a1.Error
		notFound  bool
		retryable bool
		detail    string // part of the error's Detail
	}{
		{"policies of an unknown type", false, func(ctx context.Context, c *a1.Client, _ string) error {
			_, err := c.Policies(ctx, "4242")
			return err
		}, 404, true, false, "no policy type"},
		{"put of an unknown type", false, func(ctx context.Context, c *a1.Client, _ string) error {
			_, err := c.PutPolicy(ctx, "4242", "p", json.RawMessage(`{"scope":{}}`))
			return err
		}, 404, true, false, "no policy type"},
		{"get of an unknown type", false, func(ctx context.Context, c *a1.Client, _ string) error {
			_, err := c.GetPolicy(ctx, "4242", "p")
			return err
		}, 404, true, false, "no policy type"},
		{"delete of an unknown policy", false, func(ctx context.Context, c *a1.Client, typeA string) error {
			return c.DeletePolicy(ctx, typeA, "nope")
		}, 404, true, false, "no policy"},
		{"missing required key", false, func(ctx context.Context, c *a1.Client, typeA string) error {
			_, err := c.PutPolicy(ctx, typeA, "p", json.RawMessage(`{"other":1}`))
			return err
		}, 400, false, false, `"scope"`},
		{"body not an object", false, func(ctx context.Context, c *a1.Client, typeA string) error {
			_, err := c.PutPolicy(ctx, typeA, "p", json.RawMessage(`[1,2]`))
			return err
		}, 400, false, false, "not a JSON object"},
		{"down: list types", true, func(ctx context.Context, c *a1.Client, _ string) error {
			_, err := c.PolicyTypes(ctx)
			return err
		}, 503, false, true, "down"},
		{"down: put", true, func(ctx context.Context, c *a1.Client, typeA string) error {
			_, err := c.PutPolicy(ctx, typeA, "p", json.RawMessage(`{"scope":{}}`))
			return err
		}, 503, false, true, "down"},
		{"down: delete", true, func(ctx context.Context, c *a1.Client, typeA string) error {
			return c.DeletePolicy(ctx, typeA, "p")
		}, 503, false, true, "down"},
	}
	for _, m := range modes {
		for _, tt := range tests {
			t.Run(m.name+"/"+tt.name, func(t *testing.T) {
				ric := a1test.New(t, m.mode)
				ric.AddType(m.typeA, json.RawMessage(schemaA))
				ric.SetDown(tt.down)
				err := tt.call(context.Background(), newClient(t, ric.URL), m.typeA)
				if err == nil {
					t.Fatal("no error")
				}
				e := asError(t, err)
				if e.Status != tt.status {
					t.Errorf("status %d, want %d", e.Status, tt.status)
				}
				if !strings.Contains(e.Detail, tt.detail) {
					t.Errorf("detail %q, want it to contain %q", e.Detail, tt.detail)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tt.status)) {
					t.Errorf("message %q lacks the status", err)
				}
				if got := a1.IsNotFound(err); got != tt.notFound {
					t.Errorf("IsNotFound = %v, want %v", got, tt.notFound)
				}
				if got := a1.Retryable(err); got != tt.retryable {
					t.Errorf("Retryable = %v, want %v", got, tt.retryable)
				}
				if p := ric.Policies(m.typeA); len(p) != 0 {
					t.Errorf("a refused call left policies %v", p)
				}
			})
		}
	}
}

// TestUnreachable: a RIC that does not answer is retryable, and not an
// *a1.Error.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := newClient(t, url)
	_, err := c.PolicyTypes(context.Background())
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	var e *a1.Error
	if errors.As(err, &e) {
		t.Fatalf("got an *a1.Error %v from a closed server", e)
	}
	if !a1.Retryable(err) {
		t.Errorf("Retryable(%v) = false", err)
	}
	if a1.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = true", err)
	}
}

// TestTimeout: a RIC that answers too late is retryable, a call the
// caller cancels is not.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	c, err := a1.NewClient(srv.URL, a1.Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PolicyTypes(context.Background()); err == nil || !a1.Retryable(err) {
		t.Errorf("timed out call: %v, want a retryable error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newClient(t, srv.URL).PolicyTypes(ctx); err == nil || a1.Retryable(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled call: %v, want a canceled, not retryable error", err)
	}
}

// TestNewClient accepts absolute http(s) URLs only.
func TestNewClient(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://ric:8080", true},
		{"https://ric.example/a1-mediator/", true},
		{"http://10.0.0.1", true},
		{"", false},
		{"ric:8080", false},
		{"/A1-P/v2", false},
		{"ftp://ric", false},
		{"http://", false},
		{"http:///path", false},
		{"http://ric:8080?x=1", false},
		{"http://ric:8080#frag", false},
		{"http://ric:bad-port", false},
		{"://ric", false},
	}
	for _, tt := range tests {
		c, err := a1.NewClient(tt.url, a1.Options{})
		if (err == nil) != tt.ok {
			t.Errorf("NewClient(%q) error %v, want ok %v", tt.url, err, tt.ok)
		}
		if err == nil && c == nil {
			t.Errorf("NewClient(%q) returned nil and no error", tt.url)
		}
	}
}

// TestBasePath: a base URL with a path of its own keeps it, with or
// without a trailing slash.
func TestBasePath(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.Path)
		_, _ = io.WriteString(w, `[]`)
	}))
	t.Cleanup(srv.Close)
	for _, base := range []string{srv.URL + "/ric", srv.URL + "/ric/"} {
		if _, err := newClient(t, base).PolicyTypes(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"/ric/A1-P/v2/policytypes", "/ric/A1-P/v2/policytypes"}
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %q, want %q", paths, want)
	}
}

// TestEscaping: ids are one path segment each, whatever they hold.
func TestEscaping(t *testing.T) {
	tests := []struct {
		mode     a1test.Mode
		typeID   string
		policyID string
		wantPath string
	}{
		{a1test.Standard, "qos/v1", "o2ims-a/b", "/A1-P/v2/policytypes/qos%2Fv1/policies/o2ims-a%2Fb"},
		{a1test.Standard, "qos v1", "p?x=1#f", "/A1-P/v2/policytypes/qos%20v1/policies/p%3Fx=1%23f"},
		{a1test.Mediator, "20008", "o2ims-a/../b", "/A1-P/v2/policytypes/20008/policies/o2ims-a%2F..%2Fb"},
	}
	for _, tt := range tests {
		t.Run(tt.typeID+"/"+tt.policyID, func(t *testing.T) {
			ric := a1test.New(t, tt.mode)
			ric.AddType(tt.typeID, nil)
			c := newClient(t, ric.URL)
			ctx := context.Background()
			body := json.RawMessage(`{"a":1}`)
			if _, err := c.PutPolicy(ctx, tt.typeID, tt.policyID, body); err != nil {
				t.Fatal(err)
			}
			reqs := ric.Requests()
			if want := "PUT " + tt.wantPath; len(reqs) != 1 || reqs[0] != want {
				t.Fatalf("requests %q, want [%q]", reqs, want)
			}
			if got := ric.Policies(tt.typeID)[tt.policyID]; !sameJSON(t, got, body) {
				t.Fatalf("RIC holds %v, want policy %q", ric.Policies(tt.typeID), tt.policyID)
			}
			ids, err := c.Policies(ctx, tt.typeID)
			if err != nil || len(ids) != 1 || ids[0] != tt.policyID {
				t.Fatalf("Policies = %q, %v", ids, err)
			}
			if _, err := c.GetPolicy(ctx, tt.typeID, tt.policyID); err != nil {
				t.Fatal(err)
			}
			if err := c.DeletePolicy(ctx, tt.typeID, tt.policyID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRefusedLocally: calls that cannot be right are refused before they
// reach the RIC.
func TestRefusedLocally(t *testing.T) {
	ric := a1test.New(t, a1test.Standard)
	ric.AddType("qos", nil)
	c := newClient(t, ric.URL)
	ctx := context.Background()
	calls := map[string]func() error{
		"body not JSON": func() error {
			_, err := c.PutPolicy(ctx, "qos", "p", json.RawMessage(`{"a":`))
			return err
		},
		"nil body": func() error {
			_, err := c.PutPolicy(ctx, "qos", "p", nil)
			return err
		},
		"empty type id":    func() error { _, err := c.Policies(ctx, ""); return err },
		"empty policy id":  func() error { return c.DeletePolicy(ctx, "qos", "") },
		"dot-dot policy":   func() error { _, err := c.GetPolicy(ctx, "qos", ".."); return err },
		"dot type":         func() error { _, err := c.PolicyStatus(ctx, ".", "p"); return err },
		"dot-dot type put": func() error { _, err := c.PutPolicy(ctx, "..", "p", json.RawMessage(`{}`)); return err },
	}
	for name, call := range calls {
		err := call()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if a1.Retryable(err) {
			t.Errorf("%s: %v is retryable", name, err)
		}
	}
	if reqs := ric.Requests(); len(reqs) != 0 {
		t.Errorf("refused calls reached the RIC: %q", reqs)
	}
}

// TestAnswers checks how the client reads answers a RIC may give that the
// fake does not: error bodies that are not problems, odd id lists, huge
// bodies, and the status codes of writes.
func TestAnswers(t *testing.T) {
	long := strings.Repeat("x", 191) + strings.Repeat("é", 10) // 211 bytes; byte 200 is inside an é
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		call        func(ctx context.Context, c *a1.Client) (any, error)
		want        any    // the result when there is no error
		wantStatus  int    // the *a1.Error's status; 0: no *a1.Error
		wantErr     bool   // an error that is not an *a1.Error
		title       string // the *a1.Error's title
		detail      string // the *a1.Error's detail
		errText     string // part of a non-*a1.Error's message
	}{
		{name: "problem", status: 409, contentType: "application/problem+json",
			body: `{"type":"about:blank","title":"Conflict","status":409,"detail":"policy in use","instance":"/x"}`,
			call: putP, wantStatus: 409, title: "Conflict", detail: "policy in use"},
		{name: "plain text error", status: 503, contentType: "text/plain",
			body: "  RIC busy\n", call: putP, wantStatus: 503, detail: "RIC busy"},
		{name: "long plain text error", status: 500, contentType: "text/plain",
			body: long, call: putP, wantStatus: 500, detail: strings.Repeat("x", 191) + strings.Repeat("é", 4)},
		{name: "JSON string error", status: 404, contentType: "application/json",
			body: `"POLICY TYPE NOT FOUND"`, call: putP, wantStatus: 404, detail: "POLICY TYPE NOT FOUND"},
		{name: "JSON error not a problem", status: 507, contentType: "application/json",
			body: `{"error":"disk full"}`, call: putP, wantStatus: 507, detail: `{"error":"disk full"}`},
		{name: "empty error", status: 429, call: putP, wantStatus: 429},
		{name: "put 201", status: 201, body: `{"a":1}`, call: putP, want: true},
		{name: "put 200", status: 200, body: `{"a":1}`, call: putP, want: false},
		{name: "put 202", status: 202, call: putP, want: false},
		{name: "delete 200", status: 200, call: deleteP, want: nil},
		{name: "delete 202", status: 202, call: deleteP, want: nil},
		{name: "delete 204", status: 204, call: deleteP, want: nil},
		{name: "mixed ids", status: 200, body: `["a", 7, 2147483647]`, call: listTypes, want: []string{"a", "7", "2147483647"}},
		{name: "empty id list", status: 200, body: `[]`, call: listTypes, want: []string{}},
		{name: "fractional id", status: 200, body: `[1.5]`, call: listTypes, wantErr: true},
		{name: "boolean id", status: 200, body: `[true]`, call: listTypes, wantErr: true},
		{name: "not a list", status: 200, body: `{"ids":[]}`, call: listTypes, wantErr: true},
		{name: "policy not JSON", status: 200, body: `<html>`, call: getP, wantErr: true},
		{name: "policy too large", status: 200, body: `"` + strings.Repeat("x", 1<<20) + `"`, call: getP, wantErr: true, errText: "larger than"},
		{name: "policy just fits", status: 200, body: `"` + strings.Repeat("x", 1<<20-2) + `"`, call: getLen, want: 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			got, err := tt.call(context.Background(), newClient(t, srv.URL))
			switch {
			case tt.wantStatus != 0:
				e := asError(t, err)
				if e.Status != tt.wantStatus || e.Title != tt.title || e.Detail != tt.detail {
					t.Errorf("error %+v, want status %d, title %q, detail %q", e, tt.wantStatus, tt.title, tt.detail)
				}
			case tt.wantErr:
				var e *a1.Error
				if err == nil || errors.As(err, &e) || a1.Retryable(err) {
					t.Errorf("error %v, want a non-retryable error that is not an *a1.Error", err)
				}
				if err != nil && !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("error %q, want it to contain %q", err, tt.errText)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %#v, want %#v", got, tt.want)
				}
			}
		})
	}
}

func putP(ctx context.Context, c *a1.Client) (any, error) {
	return c.PutPolicy(ctx, "1", "p", json.RawMessage(`{"a":1}`))
}

func deleteP(ctx context.Context, c *a1.Client) (any, error) {
	return nil, c.DeletePolicy(ctx, "1", "p")
}

func listTypes(ctx context.Context, c *a1.Client) (any, error) {
	ids, err := c.PolicyTypes(ctx)
	return ids, err
}

func getP(ctx context.Context, c *a1.Client) (any, error) {
	b, err := c.GetPolicy(ctx, "1", "p")
	return b, err
}

func getLen(ctx context.Context, c *a1.Client) (any, error) {
	b, err := c.GetPolicy(ctx, "1", "p")
	return len(b), err
}

// TestHeaders: the client says who it is and what it sends and accepts.
func TestHeaders(t *testing.T) {
	for _, tt := range []struct{ ua, want string }{{"", "nephoran-o2ims-a1"}, {"smo/1.0", "smo/1.0"}} {
		got := make(chan http.Header, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Clone()
			w.WriteHeader(http.StatusCreated)
		}))
		c, err := a1.NewClient(srv.URL, a1.Options{UserAgent: tt.ua, HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutPolicy(context.Background(), "1", "p", json.RawMessage(`{}`)); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		h := <-got
		if h.Get("User-Agent") != tt.want {
			t.Errorf("User-Agent %q, want %q", h.Get("User-Agent"), tt.want)
		}
		if h.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", h.Get("Content-Type"))
		}
		if !strings.Contains(h.Get("Accept"), "application/problem+json") {
			t.Errorf("Accept %q", h.Get("Accept"))
		}
	}
}

// TestRetryable classifies errors.
func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("something"), false},
		{context.Canceled, false},
		{&a1.Error{Status: 400}, false},
		{&a1.Error{Status: 404}, false},
		{&a1.Error{Status: 409}, false},
		{&a1.Error{Status: 500}, false},
		{&a1.Error{Status: 429}, true},
		{&a1.Error{Status: 502}, true},
		{&a1.Error{Status: 503}, true},
		{&a1.Error{Status: 504}, true},
		{&a1.Error{Status: 507}, true},
		{fmt.Errorf("sync: %w", &a1.Error{Status: 503}), true},
		{fmt.Errorf("sync: %w", &a1.Error{Status: 400}), false},
	}
	for _, tt := range tests {
		if got := a1.Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if !a1.IsNotFound(fmt.Errorf("x: %w", &a1.Error{Status: 404})) || a1.IsNotFound(&a1.Error{Status: 400}) || a1.IsNotFound(nil) {
		t.Error("IsNotFound misclassifies")
	}
}

// TestErrorMessage: the message names the operation, the status and the
// detail (or else the title).
func TestErrorMessage(t *testing.T) {
	tests := []struct {
		e    a1.Error
		want string
	}{
		{a1.Error{Status: 503, Title: "Service Unavailable", Detail: "RIC busy", Op: "PUT policy 1000/o2ims-x"},
			"A1 PUT policy 1000/o2ims-x: 503 Service Unavailable: RIC busy"},
		{a1.Error{Status: 404, Op: "GET policies qos"}, "A1 GET policies qos: 404 Not Found"},
		{a1.Error{Status: 409, Title: "Policy in use", Op: "DELETE policy qos/p"}, "A1 DELETE policy qos/p: 409 Conflict: Policy in use"},
		{a1.Error{Status: 599, Detail: "odd", Op: "GET policy types"}, "A1 GET policy types: 599: odd"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestOpInError: errors from the client say which call failed.
func TestOpInError(t *testing.T) {
	ric := a1test.New(t, a1test.Standard)
	ric.AddType("qos", nil)
	ric.SetDown(true)
	_, err := newClient(t, ric.URL).PutPolicy(context.Background(), "qos", "o2ims-x", json.RawMessage(`{}`))
	want := "A1 PUT policy qos/o2ims-x: 503 Service Unavailable: the RIC is down"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestFakeWire checks the fake's answers on the wire, which other
// packages' tests rely on: status codes, bodies and the Location of each
// mode.
func TestFakeWire(t *testing.T) {
	type answer struct {
		status   int
		body     string // "" for an empty body; else compared as JSON
		location bool
	}
	tests := []struct {
		mode                            a1test.Mode
		typeID                          string
		create, replace, status, delete answer
	}{
		{a1test.Standard, "qos",
			answer{201, `{"scope":1}`, true}, answer{200, `{"scope":2}`, false},
			answer{200, `{"enforceStatus":"ENFORCED","enforceReason":""}`, false}, answer{204, "", false}},
		{a1test.Mediator, "1",
			answer{202, "", false}, answer{202, "", false},
			answer{200, `{"enforceStatus":"ENFORCED","enforceReason":""}`, false}, answer{202, "", false}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.mode), func(t *testing.T) {
			ric := a1test.New(t, tt.mode)
			ric.AddType(tt.typeID, json.RawMessage(schemaA))
			path := "/A1-P/v2/policytypes/" + tt.typeID + "/policies/p"
			check := func(what, method, path, body string, want answer) {
				t.Helper()
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				req, err := http.NewRequest(method, ric.URL+path, rd)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				got, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != want.status {
					t.Errorf("%s: status %d, want %d (%s)", what, resp.StatusCode, want.status, got)
				}
				if want.body == "" && len(got) != 0 || want.body != "" && (len(got) == 0 || !sameJSON(t, got, []byte(want.body))) {
					t.Errorf("%s: body %q, want %q", what, got, want.body)
				}
				if loc := resp.Header.Get("Location"); (loc != "") != want.location || want.location && loc != path {
					t.Errorf("%s: Location %q, want one: %v", what, loc, want.location)
				}
				if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s: Content-Type %q of an error", what, resp.Header.Get("Content-Type"))
				}
			}
			check("create", "PUT", path, `{"scope":1}`, tt.create)
			check("replace", "PUT", path, `{"scope":2}`, tt.replace)
			check("status", "GET", path+"/status", "", tt.status)
			check("delete", "DELETE", path, "", tt.delete)
			check("delete again", "DELETE", path, "", answer{404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"no policy \"p\" of type \"` + tt.typeID + `\""}`, false})
			check("status of a deleted policy", "GET", path+"/status", "", answer{404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"no policy \"p\" of type \"` + tt.typeID + `\""}`, false})
			check("unknown type", "GET", "/A1-P/v2/policytypes/77/policies", "", answer{404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"no policy type \"77\""}`, false})
			check("array body", "PUT", path, `[1]`, answer{400, `{"type":"about:blank","title":"Bad Request","status":400,"detail":"the policy is not a JSON object"}`, false})
			check("trailing garbage", "PUT", path, `{"scope":1} x`, answer{400, `{"type":"about:blank","title":"Bad Request","status":400,"detail":"the policy is not a JSON object"}`, false})
			check("type", "GET", "/A1-P/v2/policytypes/"+tt.typeID, "", answer{200, `{"policySchema":` + schemaA + `,"statusSchema":{"type":"object","properties":{"enforceStatus":{"type":"string"},"enforceReason":{"type":"string"}}}}`, false})
		})
	}
}
