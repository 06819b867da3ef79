package tracing

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

func TestSetupRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Endpoint: "http://127.0.0.1:4318", SamplingRate: 1.5}, "between 0 and 1"},
		{Options{Endpoint: "http://127.0.0.1:4318", SamplingRate: -0.1}, "between 0 and 1"},
		{Options{Endpoint: "ftp://collector:21", SamplingRate: 1}, "scheme"},
		{Options{Endpoint: "collector:4318", SamplingRate: 1}, "not a URL"},
		{Options{Endpoint: "http://", SamplingRate: 1}, "not a URL"},
	} {
		if _, err := Setup(context.Background(), tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Setup(%+v) = %v, want an error with %q", tc.opts, err, tc.want)
		}
	}
}

func TestTracesPath(t *testing.T) {
	for in, want := range map[string]string{
		"http://c:4318":            "http://c:4318/v1/traces",
		"http://c:4318/":           "http://c:4318/v1/traces",
		"https://c/otlp/v1/traces": "https://c/otlp/v1/traces",
	} {
		u, _ := url.Parse(in)
		if got := withTracesPath(u); got != want {
			t.Errorf("withTracesPath(%s) = %s, want %s", in, got, want)
		}
	}
}

// Transport makes a client span per request, a child of the caller's,
// and sends its context as traceparent to a real HTTP server.
func TestTransportPropagates(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Traceparent")
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()

	ctx, parent := Start(context.Background(), "parent")
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/cb?token=secret", nil)
	resp, err := (&http.Client{Transport: Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()

	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	client := spans[0]
	header := <-got
	if client.Name() != "HTTP POST" || client.Parent().SpanID() != parent.SpanContext().SpanID() ||
		!strings.Contains(header, client.SpanContext().SpanID().String()) || !strings.Contains(header, client.SpanContext().TraceID().String()) {
		t.Errorf("client span %s (parent %s), traceparent %q", client.Name(), client.Parent().SpanID(), header)
	}
	if client.Status().Code.String() != "Error" {
		t.Errorf("a 502 answer: status %v", client.Status())
	}
	for _, kv := range client.Attributes() {
		if strings.Contains(kv.Value.Emit(), "secret") {
			t.Errorf("attribute %s carries the query: %s", kv.Key, kv.Value.Emit())
		}
	}
	if traceID, spanID := IDs(ctx); traceID != parent.SpanContext().TraceID().String() || spanID != parent.SpanContext().SpanID().String() {
		t.Errorf("IDs = %s %s", traceID, spanID)
	}
}

// traceService is an OTLP/gRPC trace receiver.
type traceService struct {
	coltrace.UnimplementedTraceServiceServer
	names chan string
}

func (s *traceService) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				s.names <- sp.Name
			}
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// Setup with a grpc:// endpoint exports over OTLP/gRPC to a real gRPC
// server; shutting down flushes what is batched.
func TestSetupExportsOverGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc := &traceService{names: make(chan string, 16)}
	srv := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(srv, svc)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()

	shutdown, err := Setup(context.Background(), Options{Endpoint: "grpc://" + ln.Addr().String(), SamplingRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, sp := Start(context.Background(), "over-grpc")
	sp.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-svc.names:
		if name != "over-grpc" {
			t.Errorf("exported %q", name)
		}
	case <-ctx.Done():
		t.Fatal("nothing exported")
	}
}
