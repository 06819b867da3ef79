package edge

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/ratelimit"
)

// limiters holds the request budgets: per node for the authenticated
// calls, per client address for enrolment (the calls that come before any
// identity).
type limiters struct {
	node, enroll *ratelimit.Limiter
}

func newLimiters(o Options) limiters {
	return limiters{
		node:   ratelimit.New(ratelimit.Options{RequestsPerSecond: o.NodeRequestsPerSecond, Burst: o.NodeBurst}),
		enroll: ratelimit.New(ratelimit.Options{RequestsPerSecond: o.EnrollRequestsPerSecond, Burst: o.EnrollBurst}),
	}
}

// Handler returns the agent protocol's http.Handler, to be served with
// TLSConfig on the agent listener. Handlers only parse, authenticate, make
// one Service call and write the answer.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathEnroll, s.handleEnroll)
	mux.HandleFunc("POST "+PathRenew, s.nodeHandler(func(w http.ResponseWriter, r *http.Request, n Node) error {
		var req RenewRequest
		if err := decodeBody(w, r, maxSmallBody, &req); err != nil {
			return err
		}
		resp, err := s.Renew(r.Context(), n, req)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	}))
	mux.HandleFunc("POST "+PathHeartbeat, s.nodeHandler(func(w http.ResponseWriter, r *http.Request, n Node) error {
		var req HeartbeatRequest
		if err := decodeBody(w, r, maxSmallBody, &req); err != nil {
			return err
		}
		resp, err := s.Heartbeat(r.Context(), n, req, remoteIP(r))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	}))
	mux.HandleFunc("POST "+PathInventory, s.nodeHandler(func(w http.ResponseWriter, r *http.Request, n Node) error {
		var req InventoryRequest
		if err := decodeBody(w, r, s.opts.MaxInventoryBytes, &req); err != nil {
			return err
		}
		if err := s.ReportInventory(r.Context(), n, req); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains([]string{PathEnroll, PathRenew, PathHeartbeat, PathInventory}, r.URL.Path) {
			w.Header().Set("Allow", http.MethodPost)
			writeProblem(w, r, Problem{Status: http.StatusMethodNotAllowed, Detail: "only POST is allowed on " + r.URL.Path})
			return
		}
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Detail: "no such agent protocol resource: " + r.URL.Path})
	})
	return mux
}

func (s *Service) handleEnroll(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		if err := rateLimited(s.limits.enroll, ratelimit.ClientKey(r, "")); err != nil {
			return err
		}
		bearer := bearerToken(r.Header.Get("Authorization"))
		if bearer == "" {
			return ims.Errorf(ims.EUNAUTHENTICATED, "a bootstrap token is required: Authorization: Bearer <id>.<secret>")
		}
		var req EnrollRequest
		if err := decodeBody(w, r, s.opts.MaxInventoryBytes+maxSmallBody, &req); err != nil {
			return err
		}
		resp, err := s.Enroll(r.Context(), bearer, req, remoteIP(r))
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if resp.Status == StatusPending {
			status = http.StatusAccepted
			w.Header().Set("Retry-After", ratelimit.RetryAfterSeconds(Duration(resp.RetryAfterSeconds)))
		}
		writeJSON(w, status, resp)
		return nil
	}()
	if err != nil {
		if ims.ErrorCode(err) == ims.EUNAUTHENTICATED {
			w.Header().Set("WWW-Authenticate", `Bearer realm="o2ims-agent-enrolment"`)
		}
		writeError(w, r, s.log, err)
	}
}

// nodeHandler authenticates the node by its client certificate and limits
// its rate before fn runs.
func (s *Service) nodeHandler(fn func(http.ResponseWriter, *http.Request, Node) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			// A bearer token here is a token used outside its scope.
			if r.Header.Get("Authorization") != "" {
				return ims.Errorf(ims.EUNAUTHENTICATED, "a bootstrap token is only accepted for enrolment; this call needs the node's client certificate")
			}
			n, err := s.authenticateNode(r.Context(), r.TLS)
			if err != nil {
				return err
			}
			if err := rateLimited(s.limits.node, n.ID); err != nil {
				return err
			}
			return fn(w, r, n)
		}()
		if err != nil {
			writeError(w, r, s.log, err)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// remoteIP is the peer's address without its port. The agent listener is
// reached directly, never through a proxy, since mutual TLS ends here.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}
