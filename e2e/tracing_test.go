package e2e

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// span is what the test collector keeps of an exported span.
type span struct {
	name, traceID, spanID, parentID string
}

// collector is an OTLP/HTTP trace receiver: a real HTTP server decoding
// the protobuf export requests the server's exporter sends.
type collector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []span
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP/HTTP trace export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					c.spans = append(c.spans, span{s.Name, hex.EncodeToString(s.TraceId), hex.EncodeToString(s.SpanId), hex.EncodeToString(s.ParentSpanId)})
				}
			}
		}
		c.mu.Unlock()
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// find returns the first span match accepts, waiting up to a deadline.
func (c *collector) find(t *testing.T, what string, match func(span) bool) span {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.mu.Lock()
		for _, s := range c.spans {
			if match(s) {
				c.mu.Unlock()
				return s
			}
		}
		n := len(c.spans)
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s among %d exported spans", what, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTracing runs the real binary exporting to a real OTLP/HTTP
// receiver: a request's span continues the caller's traceparent and its
// log line names the trace; discovery, store operations and deliveries
// are spans; a notification carries the traceparent of the span that
// posted it.
func TestTracing(t *testing.T) {
	col := newCollector(t)
	parents := make(chan string, 16)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parents <- r.Header.Get("Traceparent")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer cb.Close()
	s := start(t, "--tracing-endpoint", col.srv.URL, "--tracing-sampling-rate", "1", "--log-format", "json")

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, _ := http.NewRequest("GET", s.base+inv+"/v1/resourcePools", nil)
	req.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	requestID := resp.Header.Get("X-Request-Id")

	if status, body := s.post(t, inv+"/v2/subscriptions", map[string]any{"callback": cb.URL + "/o2", "filter": "(eq,objectType,Location)"}); status != 201 {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	if status, body := s.post(t, "/o2ims/v1/locations", map[string]any{"globalLocationId": "tr-1", "name": "Traced", "address": "x"}); status != 201 {
		t.Fatalf("create location: %d %s", status, body)
	}
	var traceparent string
	select {
	case traceparent = <-parents:
	case <-time.After(30 * time.Second):
		t.Fatal("no notification")
	}

	server := col.find(t, "server span of the request", func(sp span) bool {
		return sp.name == "GET /o2ims-infrastructureInventory/v1/resourcePools" && sp.traceID == traceID
	})
	if server.parentID != parentID {
		t.Errorf("server span's parent %s, want the caller's %s", server.parentID, parentID)
	}
	col.find(t, "store span within the request", func(sp span) bool {
		return sp.name == "SELECT resource_pools" && sp.traceID == traceID && sp.parentID == server.spanID
	})
	col.find(t, "discovery span", func(sp span) bool { return sp.name == "inventory.sync" })
	deliver := col.find(t, "delivery span", func(sp span) bool { return sp.name == "notification.deliver" })
	// traceparent: 00-<trace id>-<span id>-<flags>, the client span of
	// the POST, a child of the delivery.
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || parts[1] != deliver.traceID {
		t.Fatalf("notification traceparent %q, delivery span %+v", traceparent, deliver)
	}
	post := col.find(t, "client span of the notification", func(sp span) bool { return sp.spanID == parts[2] })
	if post.parentID != deliver.spanID || post.name != "HTTP POST" {
		t.Errorf("notification's span %+v, want a child of the delivery %s", post, deliver.spanID)
	}

	// The request's log line names its trace.
	var logged bool
	for _, line := range strings.Split(s.Logs(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["request_id"] == requestID && rec["msg"] == "request" {
			logged = rec["trace_id"] == traceID && rec["span_id"] == server.spanID
		}
	}
	if !logged {
		t.Errorf("no log line of request %s with trace_id %s and span_id %s", requestID, traceID, server.spanID)
	}
	s.stop(t)
}
