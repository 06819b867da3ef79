package a1test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// icsPrefix is where the Data Producer API lives on the ICS.
const icsPrefix = "/data-producer/v1"

// ICSType is an information type as a producer registers it
// (producer_info_type_info), spelled out here rather than taken from the
// code under test so that a wrong field name fails.
type ICSType struct {
	InfoJobDataSchema   json.RawMessage `json:"info_job_data_schema"`
	InfoTypeInformation json.RawMessage `json:"info_type_information,omitempty"`
}

// ICSProducer is a producer's registration (producer_registration_info).
type ICSProducer struct {
	InfoJobCallbackURL                 string   `json:"info_job_callback_url"`
	InfoProducerSupervisionCallbackURL string   `json:"info_producer_supervision_callback_url"`
	SupportedInfoTypes                 []string `json:"supported_info_types"`
}

// ICSJob is an information job as a data consumer creates it.
type ICSJob struct {
	ID        string
	TypeID    string
	JobData   json.RawMessage // nil: no job data
	TargetURI string
	Owner     string
}

// producerJobInfo is the body of ICS's job callbacks
// (producer_info_job_request, ProducerJobInfo.java).
type producerJobInfo struct {
	InfoJobIdentity  string          `json:"info_job_identity"`
	InfoTypeIdentity string          `json:"info_type_identity"`
	InfoJobData      json.RawMessage `json:"info_job_data"`
	TargetURI        string          `json:"target_uri"`
	Owner            string          `json:"owner"`
	LastUpdated      string          `json:"last_updated"`
}

func (j ICSJob) wire(updated time.Time) producerJobInfo {
	data := j.JobData
	if data == nil {
		data = json.RawMessage(`{}`)
	}
	return producerJobInfo{InfoJobIdentity: j.ID, InfoTypeIdentity: j.TypeID, InfoJobData: data, TargetURI: j.TargetURI,
		Owner: j.Owner, LastUpdated: updated.UTC().Format(time.RFC3339)}
}

// Registration is one PUT of a type or producer the ICS accepted or
// refused.
type Registration struct {
	// Kind is "type" or "producer".
	Kind string
	ID   string
	Body json.RawMessage
	// Status is what the ICS answered.
	Status int
}

// Answer is what a producer answered to one of the ICS's callbacks.
type Answer struct {
	Producer string
	Status   int // 0 when the producer did not answer
	Body     []byte
	Err      error
}

// ICS is a real HTTP stand-in for the O-RAN SC Non-RT RIC's Information
// Coordination Service: it serves the Data Producer API a producer calls
// (PUT/GET info types and producers, GET a producer's jobs) and lets the
// test act as data consumers do, creating and deleting jobs, which it
// hands to the producers of their type through their callbacks, as ICS
// does. Like ICS it sends every job of a producer's types to the producer
// whenever the producer registers.
type ICS struct {
	// URL is the ICS's base URL, without /data-producer/v1.
	URL string

	t      testing.TB
	client *http.Client

	mu            sync.Mutex
	types         map[string]ICSType
	producers     map[string]ICSProducer
	jobs          map[string]ICSJob
	updated       map[string]time.Time
	registrations []Registration
	requests      []string
	down          bool
	// sending counts job callbacks in flight after a registration.
	sending sync.WaitGroup
}

// NewICS starts an ICS; it is closed when the test ends.
func NewICS(t testing.TB) *ICS {
	t.Helper()
	s := &ICS{t: t, client: &http.Client{Timeout: 10 * time.Second},
		types: map[string]ICSType{}, producers: map[string]ICSProducer{}, jobs: map[string]ICSJob{}, updated: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+icsPrefix+"/info-types", s.listTypes)
	mux.HandleFunc("GET "+icsPrefix+"/info-types/{id}", s.getType)
	mux.HandleFunc("PUT "+icsPrefix+"/info-types/{id}", s.putType)
	mux.HandleFunc("GET "+icsPrefix+"/info-producers/{id}", s.getProducer)
	mux.HandleFunc("PUT "+icsPrefix+"/info-producers/{id}", s.putProducer)
	mux.HandleFunc("GET "+icsPrefix+"/info-producers/{id}/info-jobs", s.producerJobs)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "no such resource: "+r.Method+" "+r.URL.EscapedPath())
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.EscapedPath())
		down := s.down
		s.mu.Unlock()
		if down {
			// Down: the connection closes without an answer.
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			problem(w, http.StatusServiceUnavailable, "ICS is down")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		s.sending.Wait()
	})
	s.URL = srv.URL
	return s
}

// SetDown makes the ICS close every connection without answering while
// down holds.
func (s *ICS) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Restart forgets the producers and the types, as an ICS restarted
// without them does; the jobs, which ICS persists, stay.
func (s *ICS) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.producers = map[string]ICSProducer{}
	s.types = map[string]ICSType{}
}

// Requests returns "METHOD path" of every request the ICS received, down
// or not, in order.
func (s *ICS) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Registrations returns every PUT of a type or producer, in order.
func (s *ICS) Registrations() []Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.registrations)
}

// Type returns a registered type.
func (s *ICS) Type(id string) (ICSType, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.types[id]
	return t, ok
}

// Producer returns a registered producer.
func (s *ICS) Producer(id string) (ICSProducer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.producers[id]
	return p, ok
}

// CreateJob creates or replaces a job, as a data consumer's PUT does, and
// POSTs it to the job callback of every registered producer of its type;
// it returns their answers. A job whose type has no producer yet waits
// for one to register.
func (s *ICS) CreateJob(j ICSJob) []Answer {
	s.t.Helper()
	s.mu.Lock()
	s.jobs[j.ID] = j
	s.updated[j.ID] = time.Now()
	body := j.wire(s.updated[j.ID])
	targets := s.producersOf(j.TypeID)
	s.mu.Unlock()
	var out []Answer
	for _, id := range slices.Sorted(maps.Keys(targets)) {
		out = append(out, s.call(id, http.MethodPost, targets[id].InfoJobCallbackURL, body))
	}
	return out
}

// DeleteJob deletes a job, as a data consumer's DELETE does, and calls
// DELETE {info_job_callback_url}/{infoJobId} of every producer of its
// type; it returns their answers.
func (s *ICS) DeleteJob(id string) []Answer {
	s.t.Helper()
	s.mu.Lock()
	j, ok := s.jobs[id]
	delete(s.jobs, id)
	delete(s.updated, id)
	targets := s.producersOf(j.TypeID)
	s.mu.Unlock()
	if !ok {
		s.t.Fatalf("a1test: ICS has no job %q", id)
	}
	var out []Answer
	for _, pid := range slices.Sorted(maps.Keys(targets)) {
		out = append(out, s.call(pid, http.MethodDelete, targets[pid].InfoJobCallbackURL+"/"+id, nil))
	}
	return out
}

// ForgetJob deletes a job without telling its producers, as when ICS's
// DELETE callback does not reach them.
func (s *ICS) ForgetJob(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.jobs, id)
	delete(s.updated, id)
}

// Supervise calls the supervision callback of every producer, as ICS
// does every few minutes.
func (s *ICS) Supervise() []Answer {
	s.mu.Lock()
	ps := maps.Clone(s.producers)
	s.mu.Unlock()
	var out []Answer
	for _, id := range slices.Sorted(maps.Keys(ps)) {
		out = append(out, s.call(id, http.MethodGet, ps[id].InfoProducerSupervisionCallbackURL, nil))
	}
	return out
}

// producersOf returns the producers of a type by id. s.mu must be held.
func (s *ICS) producersOf(typeID string) map[string]ICSProducer {
	out := map[string]ICSProducer{}
	for id, p := range s.producers {
		if slices.Contains(p.SupportedInfoTypes, typeID) {
			out[id] = p
		}
	}
	return out
}

// call sends one callback to a producer.
func (s *ICS) call(producer, method, u string, body any) Answer {
	a := Answer{Producer: producer}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.Err = err
			return a
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, rd)
	if err != nil {
		a.Err = err
		return a
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		a.Err = err
		return a
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode
	a.Body, a.Err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return a
}

func (s *ICS) record(kind, id string, body []byte, status int) {
	s.registrations = append(s.registrations, Registration{Kind: kind, ID: id, Body: slices.Clone(body), Status: status})
}

func (s *ICS) listTypes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ids := slices.Sorted(maps.Keys(s.types))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, append([]string{}, ids...))
}

func (s *ICS) getType(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t, ok := s.types[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "Information type not found")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// putType refuses, as ICS does, a type without a job data schema.
func (s *ICS) putType(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var t ICSType
	if err == nil {
		err = json.Unmarshal(body, &t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	switch {
	case err != nil:
		s.record("type", id, body, http.StatusBadRequest)
		problem(w, http.StatusBadRequest, "the body is not an info type: "+err.Error())
		return
	case len(t.InfoJobDataSchema) == 0 || string(t.InfoJobDataSchema) == "null":
		s.record("type", id, body, http.StatusBadRequest)
		problem(w, http.StatusBadRequest, "No schema provided")
		return
	}
	status := http.StatusOK
	if _, ok := s.types[id]; !ok {
		status = http.StatusCreated
	}
	s.types[id] = t
	s.record("type", id, body, status)
	w.WriteHeader(status)
}

func (s *ICS) getProducer(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.producers[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "Could not find Information Producer: "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// putProducer refuses, as ICS does, callback URLs that are not absolute
// and types it does not know; then it sends the producer every job of its
// types.
func (s *ICS) putProducer(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var p ICSProducer
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	for _, u := range []string{p.InfoJobCallbackURL, p.InfoProducerSupervisionCallbackURL} {
		if err == nil {
			if pu, perr := url.Parse(u); perr != nil || !pu.IsAbs() {
				err = fmt.Errorf("URI: %q is not absolute", u)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if err != nil {
		s.record("producer", id, body, http.StatusBadRequest)
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	for _, typ := range p.SupportedInfoTypes {
		if _, ok := s.types[typ]; !ok {
			s.record("producer", id, body, http.StatusNotFound)
			problem(w, http.StatusNotFound, "Information type not found: "+typ)
			return
		}
	}
	status := http.StatusOK
	if _, ok := s.producers[id]; !ok {
		status = http.StatusCreated
	}
	s.producers[id] = p
	s.record("producer", id, body, status)
	send := s.jobsOf(p)
	w.WriteHeader(status)
	// After the answer, as ICS's asynchronous startInfoJobs.
	s.sending.Go(func() {
		for _, j := range send {
			if a := s.call(id, http.MethodPost, p.InfoJobCallbackURL, j); a.Err != nil || a.Status != http.StatusOK {
				s.t.Logf("a1test: ICS re-sending job %s to producer %s: %d %s %v", j.InfoJobIdentity, id, a.Status, a.Body, a.Err)
			}
		}
	})
}

func (s *ICS) producerJobs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.producers[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Could not find Information Producer: "+r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, s.jobsOf(p))
}

// jobsOf returns the jobs of a producer's types as ICS sends them, by id.
// s.mu must be held.
func (s *ICS) jobsOf(p ICSProducer) []producerJobInfo {
	out := []producerJobInfo{}
	for _, jid := range slices.Sorted(maps.Keys(s.jobs)) {
		if j := s.jobs[jid]; slices.Contains(p.SupportedInfoTypes, j.TypeID) {
			out = append(out, j.wire(s.updated[jid]))
		}
	}
	return out
}

// Receiver is a real HTTP server that takes the reports POSTed to it.
type Receiver struct {
	// URL is where reports go.
	URL string

	t       testing.TB
	mu      sync.Mutex
	reports []json.RawMessage
	refused int
	down    bool
	arrived chan struct{} // closed and replaced on every report
}

// NewReceiver starts a receiver; it is closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	rc := &Receiver{t: t, arrived: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
		rc.mu.Lock()
		defer rc.mu.Unlock()
		switch {
		case rc.down:
			rc.refused++
			problem(w, http.StatusServiceUnavailable, "the receiver is down")
		case r.Method != http.MethodPost:
			problem(w, http.StatusMethodNotAllowed, "reports are POSTed")
		case err != nil || !json.Valid(body) || r.Header.Get("Content-Type") != "application/json":
			problem(w, http.StatusBadRequest, "a report is a JSON body")
		default:
			rc.reports = append(rc.reports, body)
			close(rc.arrived)
			rc.arrived = make(chan struct{})
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

// SetDown makes the receiver answer 503 to every report while down holds.
func (rc *Receiver) SetDown(down bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.down = down
}

// Refused is how many reports the receiver refused while down.
func (rc *Receiver) Refused() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.refused
}

// Reports returns the reports received, in order.
func (rc *Receiver) Reports() []json.RawMessage {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reports)
}

// Wait returns the reports received once cond holds for them, failing
// the test if it does not within timeout.
func (rc *Receiver) Wait(timeout time.Duration, cond func([]json.RawMessage) bool) []json.RawMessage {
	rc.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		rc.mu.Lock()
		got, arrived := slices.Clone(rc.reports), rc.arrived
		rc.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-arrived:
		case <-deadline.C:
			rc.t.Fatalf("a1test: the reports received did not become as expected within %v (%d received)", timeout, len(got))
			return nil
		}
	}
}
