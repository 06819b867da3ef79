// Package httpapi serves the O2 IMS HTTP APIs: it implements the generated
// strict-server interfaces with thin handlers, maps errors to RFC 7807
// problem details, and wraps everything in request id, logging, metrics and
// limits.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/advisor"
	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/auth"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/gitops"
	artapi "github.com/nephoran/o2ims/internal/httpapi/gen/artifacts"
	invapi "github.com/nephoran/o2ims/internal/httpapi/gen/inventory"
	inv2api "github.com/nephoran/o2ims/internal/httpapi/gen/inventoryv2"
	monapi "github.com/nephoran/o2ims/internal/httpapi/gen/monitoring"
	nephapi "github.com/nephoran/o2ims/internal/httpapi/gen/nephoran"
	provapi "github.com/nephoran/o2ims/internal/httpapi/gen/provisioning"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/logging"
	"github.com/nephoran/o2ims/internal/provider"
	"github.com/nephoran/o2ims/internal/provisioning"
	"github.com/nephoran/o2ims/internal/ratelimit"
	"github.com/nephoran/o2ims/internal/report"
	"github.com/nephoran/o2ims/internal/subscription"
	"github.com/nephoran/o2ims/internal/tracing"
)

// Options configure the HTTP handler.
type Options struct {
	Inventory     *inventory.Service
	Subscriptions *subscription.Service
	Alarms        *alarms.Service
	Receiver      *alarms.Receiver
	Providers     *provider.Registry
	LCM           *lcm.Service
	Deployments   *deployment.Service
	Advisor       *advisor.Service
	Report        *report.Builder
	// Provisioning, when set, serves the O2ims_InfrastructureProvisioning
	// and O2ims_InfrastructureArtifacts APIs.
	Provisioning *provisioning.Service
	// Changes, when set, serves changedSince on the feeds' collections.
	Changes ChangeFeed
	// Specs holds the OpenAPI documents served under /openapi/.
	Specs fs.FS
	// Registry receives the API metrics; Gatherer is served on /metrics.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	// Ready reports whether the server can serve traffic (for /readyz).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; 0 means 1 MiB.
	MaxBodyBytes int64
	// DMSCredentials, when set, gives the O2dms profile credentials of the
	// deployment managers of a provider; a deployment manager's own GET
	// shows them to callers holding auth.PermissionDMSCredentials.
	DMSCredentials func(providerName string) (map[string]any, bool)
	// MaxURLBytes bounds the request target; 0 means 8 KiB.
	MaxURLBytes int
	// MaxHeaderBytes bounds the request's header fields; 0 means
	// DefaultMaxHeaderBytes. The http.Server's own limit must be larger
	// (ServerMaxHeaderBytes), so that this one answers with a problem.
	MaxHeaderBytes int
	// Authenticator, when set, requires a bearer token on every path
	// except PublicPaths; GET needs o2ims:read, other methods o2ims:write.
	Authenticator Authenticator
	// PublicPaths are served without authentication (exact paths).
	PublicPaths []string
	// RateLimiter, when set, limits requests per client (per token
	// subject when authenticated, per address otherwise).
	RateLimiter *ratelimit.Limiter
	// TLS adds Strict-Transport-Security to responses.
	TLS bool
	// AccessLogLevel is the level of the "request" line logged for every
	// request: info (the zero value) by default; debug keeps it out of an
	// info log, and a level the logger does not enable costs nothing.
	AccessLogLevel slog.Level
	// GitRepositories are the local GitOps repositories served read-only
	// under GitPathPrefix, by name (without ".git").
	GitRepositories map[string]*gitops.Repository
	// Edge, when set, serves the edge-enrolment admin API (agent tokens
	// and nodes, /o2ims/v1/agents); without it those paths answer 409:
	// edge enrolment is off. AgentURL is the agent listener's URL, for the
	// command a new token comes with.
	Edge     *edge.Service
	AgentURL string
}

// Authenticator authenticates a request's bearer token.
type Authenticator interface {
	Authenticate(r *http.Request) (*auth.Principal, error)
}

// Server is the root HTTP handler.
type Server struct {
	mux     *http.ServeMux
	opts    Options
	logger  *slog.Logger
	metrics *metrics
}

type requestURLKey struct{}

// families gathers only the metric families named.
func families(g prometheus.Gatherer, names []string) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		all, err := g.Gather()
		out := make([]*dto.MetricFamily, 0, len(names))
		for _, f := range all {
			if slices.Contains(names, f.GetName()) {
				out = append(out, f)
			}
		}
		return out, err
	})
}

// Header limits: the handler answers requests whose header fields exceed
// DefaultMaxHeaderBytes with a 431 problem; the http.Server, which answers
// in plain text, is given the larger ServerMaxHeaderBytes.
const (
	DefaultMaxHeaderBytes = 32 << 10
	ServerMaxHeaderBytes  = 1 << 20
)

// headerBytes is the size of the header fields as sent ("Name: value\r\n").
func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// New returns the root handler serving every API.
func New(opts Options) (*Server, error) {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.MaxURLBytes == 0 {
		opts.MaxURLBytes = 8 << 10
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{mux: http.NewServeMux(), opts: opts, logger: opts.Logger, metrics: m}

	onRequestError := func(w http.ResponseWriter, r *http.Request, err error) {
		writeError(w, r, s.logger, paramError(err))
	}
	onResponseError := func(w http.ResponseWriter, r *http.Request, err error) {
		writeError(w, r, s.logger, err)
	}
	strictOpts := invapi.StrictHTTPServerOptions{RequestErrorHandlerFunc: onRequestError, ResponseErrorHandlerFunc: onResponseError}
	v1 := inventoryAPI{v: inventory.V1, inv: opts.Inventory, subs: opts.Subscriptions, kind: subscription.Inventory, dmsCredentials: opts.DMSCredentials}
	v2 := inventoryAPI{v: inventory.V2, inv: opts.Inventory, subs: opts.Subscriptions, kind: subscription.InventoryV2, dmsCredentials: opts.DMSCredentials}
	invapi.HandlerWithOptions(
		invapi.NewStrictHandlerWithOptions(&inventoryHandlers{api: v1},
			[]invapi.StrictMiddlewareFunc{strictBodies[invapi.StrictHandlerFunc]}, strictOpts),
		invapi.StdHTTPServerOptions{BaseRouter: s.mux, ErrorHandlerFunc: onRequestError},
	)
	inv2api.HandlerWithOptions(
		inv2api.NewStrictHandlerWithOptions(&inventoryV2Handlers{api: v2},
			[]inv2api.StrictMiddlewareFunc{strictBodies[inv2api.StrictHandlerFunc]},
			inv2api.StrictHTTPServerOptions{RequestErrorHandlerFunc: onRequestError, ResponseErrorHandlerFunc: onResponseError}),
		inv2api.StdHTTPServerOptions{BaseRouter: s.mux, ErrorHandlerFunc: onRequestError},
	)
	nephapi.HandlerWithOptions(
		nephapi.NewStrictHandlerWithOptions(&nephoranHandlers{inv: opts.Inventory, api: v1, places: v2, alarms: opts.Alarms, providers: opts.Providers, lcm: opts.LCM, deployments: opts.Deployments, advisor: opts.Advisor, report: opts.Report, changes: opts.Changes, edge: opts.Edge, agentURL: opts.AgentURL},
			[]nephapi.StrictMiddlewareFunc{strictBodies[nephapi.StrictHandlerFunc]},
			nephapi.StrictHTTPServerOptions{RequestErrorHandlerFunc: onRequestError, ResponseErrorHandlerFunc: onResponseError}),
		nephapi.StdHTTPServerOptions{BaseRouter: s.mux, ErrorHandlerFunc: onRequestError},
	)

	monapi.HandlerWithOptions(
		monapi.NewStrictHandlerWithOptions(&monitoringHandlers{alarms: opts.Alarms, subs: opts.Subscriptions},
			[]monapi.StrictMiddlewareFunc{strictBodies[monapi.StrictHandlerFunc]},
			monapi.StrictHTTPServerOptions{RequestErrorHandlerFunc: onRequestError, ResponseErrorHandlerFunc: onResponseError}),
		monapi.StdHTTPServerOptions{BaseRouter: s.mux, ErrorHandlerFunc: onRequestError},
	)
	if opts.Provisioning != nil {
		provapi.HandlerWithOptions(
			provapi.NewStrictHandlerWithOptions(&provisioningHandlers{svc: opts.Provisioning},
				[]provapi.StrictMiddlewareFunc{strictBodies[provapi.StrictHandlerFunc]},
				provapi.StrictHTTPServerOptions{RequestErrorHandlerFunc: onRequestError, ResponseErrorHandlerFunc: onResponseError}),
			provapi.StdHTTPServerOptions{BaseRouter: s.mux, ErrorHandlerFunc: onRequestError},
		)
		artapi.HandlerWithOptions(
			artapi.NewStrictHandlerWithOptions(&artifactsHandlers{svc: opts.Provisioning},
				[]artapi.StrictMiddlewareFunc{strictBodies[artapi.StrictHandlerFunc]},
				artapi.StrictHTTPServerOptions{RequestErrorHandlerFunc: onRequestError, ResponseErrorHandlerFunc: onResponseError}),
			artapi.StdHTTPServerOptions{BaseRouter: s.mux, ErrorHandlerFunc: onRequestError},
		)
	}
	if opts.Receiver != nil {
		s.mux.HandleFunc("POST /internal/v1/alertmanager", s.alertmanager)
	}
	if len(opts.GitRepositories) > 0 {
		s.mux.HandleFunc("GET "+GitPathPrefix+"{repo}/info/refs", s.gitInfoRefs)
		s.mux.HandleFunc("POST "+GitPathPrefix+"{repo}/git-upload-pack", s.gitUploadPack)
		s.mux.HandleFunc("POST "+GitPathPrefix+"{repo}/git-receive-pack", s.gitReceivePack)
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if opts.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
		// The integration guide's scrape paths: each only its families.
		s.mux.Handle("GET /o2ims/v1/providers/metrics", promhttp.HandlerFor(families(opts.Gatherer, inventory.ProviderMetrics), promhttp.HandlerOpts{}))
		s.mux.Handle("GET /o2ims/v1/resources/metrics", promhttp.HandlerFor(families(opts.Gatherer, inventory.ResourceMetrics), promhttp.HandlerOpts{}))
	}
	if opts.Specs != nil {
		s.mux.HandleFunc("GET /openapi/{file}", s.openapi)
	}
	return s, nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			s.logger.WarnContext(r.Context(), "not ready", "err", err)
			writeProblem(w, r, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// openapi serves a spec as YAML, or converted to JSON for a .json name.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if (ext != ".yaml" && ext != ".json") || strings.ContainsAny(base, "/\\") {
		writeProblem(w, r, http.StatusNotFound, fmt.Sprintf("no OpenAPI document %q", name))
		return
	}
	b, err := fs.ReadFile(s.opts.Specs, base+".yaml")
	if err != nil || strings.HasSuffix(base, ".cfg") {
		writeProblem(w, r, http.StatusNotFound, fmt.Sprintf("no OpenAPI document %q", name))
		return
	}
	if ext == ".json" {
		// Relative references name the YAML documents; point them at the JSON ones.
		b, err = yaml.YAMLToJSON(b)
		if err != nil {
			writeError(w, r, s.logger, fmt.Errorf("convert %s: %w", name, err))
			return
		}
		b = []byte(strings.ReplaceAll(string(b), `.yaml#`, `.json#`))
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "application/yaml")
	}
	_, _ = w.Write(b)
}

// ServeHTTP routes a request, answering unknown paths and methods with
// problem details, and records the request's id, log line and metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = newRequestID()
	}
	w.Header().Set("X-Request-Id", id)
	// A server span, child of the caller's traceparent when it sends one.
	ctx, span := tracing.StartServer(tracing.Extract(r.Context(), r.Header), r.Method)
	ctx = logging.WithRequestID(ctx, id)
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}

	endpoint := "unmatched"
	defer func() {
		defer tracing.EndServer(span, r.Method, endpoint, rw.status)
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.ErrorContext(ctx, "panic serving request", "panic", v, "path", r.URL.Path)
			if !rw.wrote {
				writeProblem(rw, r, http.StatusInternalServerError, "An internal error occurred.")
			}
		}
		d := time.Since(start)
		s.metrics.observe(r.Method, endpoint, rw.status, d)
		if s.logger.Enabled(ctx, s.opts.AccessLogLevel) {
			s.logger.LogAttrs(ctx, s.opts.AccessLogLevel, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("endpoint", endpoint), slog.Int("status", rw.status),
				slog.Int64("bytes", rw.bytes), slog.Duration("duration", d))
		}
	}()

	if n := headerBytes(r.Header); n > s.opts.MaxHeaderBytes {
		writeProblem(rw, r, http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("the request's header fields are larger than %d bytes", s.opts.MaxHeaderBytes))
		return
	}
	if len(r.RequestURI) > s.opts.MaxURLBytes {
		writeProblem(rw, r, http.StatusRequestURITooLong, fmt.Sprintf("the request target is longer than %d bytes", s.opts.MaxURLBytes))
		return
	}
	// SOL013 joins filter terms with ';', which net/url treats as a
	// forbidden separator (dropping the whole parameter). Encoding it keeps
	// the parameter intact.
	if strings.Contains(r.URL.RawQuery, ";") {
		r.URL.RawQuery = strings.ReplaceAll(r.URL.RawQuery, ";", "%3B")
	}
	trimTrailingSlash(r.URL)
	if r.Body != nil {
		limit := s.opts.MaxBodyBytes
		if r.Method == http.MethodPost && r.URL.Path == "/o2ims/v1/cnfPackages" {
			limit = max(limit, MaxPackageBytes+1<<20)
		}
		r.Body = http.MaxBytesReader(rw, r.Body, limit)
	}
	ctx = context.WithValue(ctx, requestURLKey{}, r.URL)
	r = r.WithContext(ctx)

	setSecurityHeaders(rw.Header(), s.opts.TLS)

	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		endpoint = pattern
		if _, p, ok := strings.Cut(pattern, " "); ok {
			endpoint = p
		}
	}
	subject := ""
	if s.opts.Authenticator != nil && !slices.Contains(s.opts.PublicPaths, r.URL.Path) {
		p, err := s.opts.Authenticator.Authenticate(r)
		if err == nil {
			method := r.Method
			if isGitRead(r) {
				method = http.MethodGet // a fetch reads
			}
			err = auth.Require(p, method)
		}
		if err != nil {
			if ims.ErrorCode(err) == ims.EUNAUTHENTICATED || ims.ErrorCode(err) == ims.EFORBIDDEN {
				rw.Header().Set("WWW-Authenticate", auth.ChallengeHeader(err))
			}
			s.logger.InfoContext(ctx, "request refused", "reason", err.Error(), "path", r.URL.Path)
			writeError(rw, r, s.logger, err)
			return
		}
		subject = p.Subject
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
	}
	if s.opts.RateLimiter != nil {
		if ok, wait := s.opts.RateLimiter.Allow(ratelimit.ClientKey(r, subject)); !ok {
			rw.Header().Set("Retry-After", ratelimit.RetryAfterSeconds(wait))
			writeError(rw, r, s.logger, ratelimit.TooMany(wait))
			return
		}
	}
	if pattern == "" {
		s.notRouted(rw, r, h)
		return
	}
	if strings.HasPrefix(r.URL.Path, GitPathPrefix) {
		// git's own protocol: neither JSON nor conditional.
		s.mux.ServeHTTP(rw, r)
		return
	}
	// Read only once the client is authenticated and within its rate.
	r, err := captureJSONBody(r)
	if err != nil {
		writeError(rw, r, s.logger, bodyError("body", err))
		return
	}
	if r.Method == http.MethodGet {
		serveConditional(rw, r, s.mux)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// setSecurityHeaders sets headers that keep browsers from misusing API
// responses.
func setSecurityHeaders(h http.Header, tls bool) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if tls {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// notRouted answers a request the mux has no route for: 405 with Allow when
// the path exists under another method, 404 otherwise.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request, muxHandler http.Handler) {
	rec := httptest.NewRecorder()
	muxHandler.ServeHTTP(rec, r)
	switch rec.Code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.Header().Get("Allow"))
		writeProblem(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, rec.Header().Get("Allow")))
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
	default:
		writeProblem(w, r, http.StatusNotFound, fmt.Sprintf("no resource at %s", r.URL.Path))
	}
}

// trimTrailingSlash makes a path with a trailing slash name the same
// resource as without: O2ims clients (the O-RAN SC compliance suite, which
// reads the O-Cloud at /o2ims-infrastructureInventory/v1/) send both.
func trimTrailingSlash(u *url.URL) {
	if len(u.Path) > 1 && strings.HasSuffix(u.Path, "/") {
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
