// Package a1test runs a real HTTP A1-P v2 server, a stand-in Near-RT RIC,
// for tests: it answers either as the O-RAN standard says or as the O-RAN
// SC A1 mediator does, keeps the policies it is sent and logs every
// request.
package a1test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// Mode chooses whose answers the server gives.
type Mode int

const (
	// Standard answers as O-RAN A1-P v2 says: string type ids, 201 with
	// a Location for a new policy, 200 for a replaced one, 204 for a
	// deletion.
	Standard Mode = iota
	// Mediator answers as the O-RAN SC A1 mediator does: integer type
	// ids and 202 Accepted, without a body, for writes and deletions.
	Mediator
)

// prefix is where the interface lives on the server.
const prefix = "/A1-P/v2"

// maxBody bounds a request body.
const maxBody = 1 << 20

// Server is an A1-P v2 server on a local port.
type Server struct {
	// URL is the server's base URL, without /A1-P/v2.
	URL string

	t    testing.TB
	mode Mode

	mu       sync.Mutex
	types    map[string]*policyType
	down     bool
	requests []string
}

// policyType is a provisioned policy type and its policies.
type policyType struct {
	schema   json.RawMessage
	required []string
	policies map[string]json.RawMessage
}

// New starts a server answering in mode; it is closed when the test ends.
func New(t testing.TB, mode Mode) *Server {
	t.Helper()
	s := &Server{t: t, mode: mode, types: map[string]*policyType{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/policytypes", s.listTypes)
	mux.HandleFunc("GET "+prefix+"/policytypes/{type}", s.getType)
	mux.HandleFunc("GET "+prefix+"/policytypes/{type}/policies", s.listPolicies)
	mux.HandleFunc("PUT "+prefix+"/policytypes/{type}/policies/{policy}", s.putPolicy)
	mux.HandleFunc("GET "+prefix+"/policytypes/{type}/policies/{policy}", s.getPolicy)
	mux.HandleFunc("DELETE "+prefix+"/policytypes/{type}/policies/{policy}", s.deletePolicy)
	mux.HandleFunc("GET "+prefix+"/policytypes/{type}/policies/{policy}/status", s.policyStatus)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "no such resource: "+r.Method+" "+r.URL.EscapedPath())
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.EscapedPath())
		down := s.down
		s.mu.Unlock()
		if down {
			problem(w, http.StatusServiceUnavailable, "the RIC is down")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AddType provisions a policy type, or replaces its schema keeping its
// policies. A top-level "required" list in policySchema names the keys
// every policy of the type must have; nil stands for {"type":"object"}.
// In Mediator mode id must be an integer from 1 to 2147483647.
func (s *Server) AddType(id string, policySchema json.RawMessage) {
	s.t.Helper()
	if id == "" {
		s.t.Fatal("a1test: empty policy type id")
	}
	if s.mode == Mediator {
		n, err := strconv.ParseInt(id, 10, 32)
		if err != nil || n < 1 || strconv.FormatInt(n, 10) != id {
			s.t.Fatalf("a1test: mediator policy type id %q is not an integer from 1 to 2147483647", id)
		}
	}
	if policySchema == nil {
		policySchema = json.RawMessage(`{"type":"object"}`)
	}
	var schema struct {
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(policySchema, &schema); err != nil {
		s.t.Fatalf("a1test: policy schema of type %q: %v", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.types[id]
	if pt == nil {
		pt = &policyType{policies: map[string]json.RawMessage{}}
		s.types[id] = pt
	}
	pt.schema = slices.Clone(policySchema)
	pt.required = schema.Required
}

// Policies returns a copy of the policies of a type by id, nil if the type
// is not provisioned.
func (s *Server) Policies(typeID string) map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.types[typeID]
	if pt == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(pt.policies))
	for id, body := range pt.policies {
		out[id] = slices.Clone(body)
	}
	return out
}

// SetDown makes every request answer 503 while down holds.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Requests returns "METHOD path" of every request received, in order, with
// the path as it was sent (escaped) and without the query.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) listTypes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ids := slices.Collect(maps.Keys(s.types))
	s.mu.Unlock()
	if s.mode == Mediator {
		nums := make([]int64, 0, len(ids))
		for _, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 32) // checked by AddType
			nums = append(nums, n)
		}
		slices.Sort(nums)
		writeJSON(w, http.StatusOK, nums)
		return
	}
	slices.Sort(ids)
	writeJSON(w, http.StatusOK, ids)
}

func (s *Server) getType(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.lookupType(w, r)
	if pt == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"policySchema": pt.schema,
		"statusSchema": json.RawMessage(`{"type":"object","properties":{"enforceStatus":{"type":"string"},"enforceReason":{"type":"string"}}}`),
	})
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.lookupType(w, r)
	if pt == nil {
		return
	}
	ids := slices.Sorted(maps.Keys(pt.policies))
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, ids)
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var fields map[string]json.RawMessage
	if readErr == nil && (json.Unmarshal(body, &fields) != nil || fields == nil) {
		readErr = errors.New("the policy is not a JSON object")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pt := s.lookupType(w, r)
	if pt == nil {
		return
	}
	if readErr != nil {
		problem(w, http.StatusBadRequest, readErr.Error())
		return
	}
	for _, k := range pt.required {
		if _, ok := fields[k]; !ok {
			problem(w, http.StatusBadRequest, fmt.Sprintf("the policy lacks the required property %q", k))
			return
		}
	}
	id := r.PathValue("policy")
	_, existed := pt.policies[id]
	pt.policies[id] = slices.Clone(body)
	switch {
	case s.mode == Mediator:
		w.WriteHeader(http.StatusAccepted)
	case existed:
		writeRaw(w, http.StatusOK, body)
	default:
		w.Header().Set("Location", r.URL.EscapedPath())
		writeRaw(w, http.StatusCreated, body)
	}
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body := s.lookupPolicy(w, r); body != nil {
		writeRaw(w, http.StatusOK, body)
	}
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookupPolicy(w, r) == nil {
		return
	}
	delete(s.types[r.PathValue("type")].policies, r.PathValue("policy"))
	if s.mode == Mediator {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) policyStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lookupPolicy(w, r) == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"enforceStatus": "ENFORCED", "enforceReason": ""})
}

// lookupType returns the request's policy type, or answers 404 and returns
// nil. s.mu must be held.
func (s *Server) lookupType(w http.ResponseWriter, r *http.Request) *policyType {
	id := r.PathValue("type")
	pt := s.types[id]
	if pt == nil {
		problem(w, http.StatusNotFound, fmt.Sprintf("no policy type %q", id))
	}
	return pt
}

// lookupPolicy returns the body of the request's policy, or answers 404
// and returns nil. s.mu must be held.
func (s *Server) lookupPolicy(w http.ResponseWriter, r *http.Request) json.RawMessage {
	pt := s.lookupType(w, r)
	if pt == nil {
		return nil
	}
	id := r.PathValue("policy")
	body, ok := pt.policies[id]
	if !ok {
		problem(w, http.StatusNotFound, fmt.Sprintf("no policy %q of type %q", id, r.PathValue("type")))
		return nil
	}
	return body
}

// problem answers an application/problem+json error.
func problem(w http.ResponseWriter, status int, detail string) {
	b, _ := json.Marshal(map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
		"detail": detail,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
