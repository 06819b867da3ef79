// Package tracing sets up OpenTelemetry tracing for the server: an OTLP
// exporter (HTTP or gRPC), a parent-based ratio sampler, the W3C trace
// context propagator, and the helpers the server's packages use to start
// spans and to carry trace context over HTTP.
//
// The OpenTelemetry API keeps the tracer provider and the propagator
// process-wide (otel.SetTracerProvider); Setup installs them, so that the
// packages instrumented here and the libraries that follow the API share
// one pipeline. Without Setup every span is a no-op.
package tracing

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentationName names the tracer of the server's own spans.
const InstrumentationName = "github.com/nephoran/o2ims"

// Options configure tracing.
type Options struct {
	// Endpoint is the OTLP collector: http(s)://host:4318 (OTLP/HTTP, the
	// path /v1/traces is added when absent) or grpc://host:4317 (gRPC,
	// grpcs:// for TLS). Empty takes the standard OTEL_EXPORTER_OTLP_*
	// environment variables; with neither, tracing is off.
	Endpoint string
	// SamplingRate is the share of new traces recorded, 0 to 1; a request
	// that arrives with a sampled parent is always recorded.
	SamplingRate float64
	// ServiceName is the service.name resource attribute ("o2ims").
	ServiceName string
	// Version is the service.version resource attribute.
	Version string
}

// Enabled reports whether o (or the environment) names a collector.
func (o Options) Enabled() bool {
	return o.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the tracer provider and the W3C propagator for the
// process and returns the function that flushes and stops them. When no
// collector is configured only the propagator is installed (incoming
// trace context still reaches outgoing requests and log lines).
func Setup(ctx context.Context, o Options) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !o.Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	if o.SamplingRate < 0 || o.SamplingRate > 1 {
		return nil, fmt.Errorf("tracing sampling rate must be between 0 and 1, got %v", o.SamplingRate)
	}
	exp, err := exporter(ctx, o.Endpoint)
	if err != nil {
		return nil, err
	}
	name := o.ServiceName
	if name == "" {
		name = "o2ims"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(name), semconv.ServiceVersion(o.Version)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SamplingRate))),
	)
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// exporter builds the OTLP exporter endpoint names; an empty endpoint
// leaves everything to the OTEL_EXPORTER_OTLP_* variables (OTLP/HTTP
// unless OTEL_EXPORTER_OTLP_PROTOCOL says grpc).
func exporter(ctx context.Context, endpoint string) (sdktrace.SpanExporter, error) {
	if endpoint == "" {
		if p := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"); p == "grpc" || (p == "" && os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc") {
			return otlptracegrpc.New(ctx)
		}
		return otlptracehttp.New(ctx)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("tracing endpoint %q: not a URL such as http://collector:4318 or grpc://collector:4317", endpoint)
	}
	switch u.Scheme {
	case "http", "https":
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(withTracesPath(u))}
		return otlptracehttp.New(ctx, opts...)
	case "grpc", "grpcs":
		opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(u.Host)}
		if u.Scheme == "grpc" {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		return otlptracegrpc.New(ctx, opts...)
	}
	return nil, fmt.Errorf("tracing endpoint %q: the scheme must be http, https, grpc or grpcs", endpoint)
}

// withTracesPath adds OTLP/HTTP's /v1/traces to an endpoint given as a
// bare collector address.
func withTracesPath(u *url.URL) string {
	c := *u
	if c.Path == "" || c.Path == "/" {
		c.Path = "/v1/traces"
	}
	return c.String()
}

// Start starts a span of the server's tracer.
func Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return otel.Tracer(InstrumentationName).Start(ctx, name, trace.WithAttributes(attrs...))
}

// StartServer starts the server span of an incoming request; EndServer
// names it by its route once routing has found one.
func StartServer(ctx context.Context, method string) (context.Context, trace.Span) {
	return otel.Tracer(InstrumentationName).Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method)))
}

// EndServer ends a server span with its route and response status.
func EndServer(span trace.Span, method, route string, status int) {
	span.SetName(method + " " + route)
	span.SetAttributes(semconv.HTTPRoute(route), semconv.HTTPResponseStatusCode(status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// End ends span, recording err (if any) as its error.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Extract returns ctx with the trace context of incoming headers h.
func Extract(ctx context.Context, h http.Header) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(h))
}

// Inject writes the trace context of ctx into outgoing headers h.
func Inject(ctx context.Context, h http.Header) {
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(h))
}

// IDs returns the trace and span ids of the span in ctx, empty when ctx
// has no valid span context.
func IDs(ctx context.Context) (traceID, spanID string) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", ""
	}
	return sc.TraceID().String(), sc.SpanID().String()
}

// Transport wraps an http.RoundTripper with a client span per request and
// the request's trace context in its headers (W3C traceparent).
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return transport{base}
}

type transport struct{ base http.RoundTripper }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, span := otel.Tracer(InstrumentationName).Start(r.Context(), "HTTP "+r.Method,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.ServerAddress(r.URL.Hostname()),
			semconv.URLFull(redact(r.URL))))
	r = r.Clone(ctx)
	Inject(ctx, r.Header)
	resp, err := t.base.RoundTrip(r)
	switch {
	case err != nil:
		End(span, err)
	default:
		span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, resp.Status)
		}
		span.End()
	}
	return resp, err
}

// redact drops a URL's credentials and query (they may hold secrets).
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}
