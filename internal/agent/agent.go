// Package agent is the edge-node half of enrolment (the server half is
// internal/edge): it enrols the node with a bootstrap token, pinning the
// server's CA by the hash the token came with, keeps its key and client
// certificate in a state directory, heartbeats at the interval the server
// dictates, reports the node's inventory (the local provider's discovery
// under a configurable root) when it changes, renews its certificate before
// it expires, and rides out server restarts and network loss.
package agent

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/nephoran/o2ims/internal/provider/local"
)

// Errors Run ends with. Each is wrapped with the particulars.
var (
	// ErrUntrustedServer: the server's certificate does not chain to the
	// pinned or stored CA.
	ErrUntrustedServer = errors.New("the server's certificate is not trusted")
	// ErrTokenRejected: the server refused the bootstrap token (wrong,
	// expired, used up or revoked).
	ErrTokenRejected = errors.New("the server refused the bootstrap token")
	// ErrEnrolmentRefused: the server refused the enrolment for another
	// reason (the name is taken, the pool is not the token's, ...).
	ErrEnrolmentRefused = errors.New("the server refused the enrolment")
	// ErrNotEnrolled: there is no usable certificate and no token to
	// enrol with.
	ErrNotEnrolled = errors.New("this node is not enrolled")
)

// Defaults of Options.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultMinBackoff     = time.Second
	DefaultMaxBackoff     = time.Minute
)

var caHashPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Options configures an Agent. Server, NodeName and StateDir are required;
// BootstrapToken and CAHash are needed to enrol (CAHash not once the state
// directory holds the CA).
type Options struct {
	// Server is the agent listener's URL, https://host:port.
	Server string
	// BootstrapToken is "<id>.<secret>", as the operator minted it.
	BootstrapToken string
	// CAHash pins the server's CA on first contact:
	// "sha256:<hex of the CA certificate's SubjectPublicKeyInfo>".
	CAHash string
	// NodeName names the node (a lower-case DNS name).
	NodeName string
	// Pool, when set, must be the bootstrap token's pool; Site is
	// reported as the node's site.
	Pool, Site string
	// Root is the filesystem root discovery reads proc, sys and etc
	// under; "/" when empty.
	Root string
	// StateDir keeps the key, the certificate and the CA (0700, files 0600).
	StateDir string
	// Version is the agent version reported.
	Version string
	// Addresses are the addresses reported; the host's non-loopback
	// interface addresses when nil.
	Addresses []string
	// RequestTimeout bounds each request; DefaultRequestTimeout when zero.
	RequestTimeout time.Duration
	// MinBackoff and MaxBackoff bound the waits between failed attempts;
	// DefaultMinBackoff and DefaultMaxBackoff when zero.
	MinBackoff, MaxBackoff time.Duration
	// LocalAddr is the address connections to the server are made from;
	// the system chooses when nil.
	LocalAddr net.Addr
	// OnRequest, when set, is told of every request to the server when
	// it is answered or fails: its path (edge.PathHeartbeat, ...), how
	// long it took and its error (nil for a 2xx answer). It is called
	// from the agent's goroutine and must not block.
	OnRequest func(path string, took time.Duration, err error)
}

// Agent runs the agent protocol for one node.
type Agent struct {
	opts   Options
	log    *slog.Logger
	server *url.URL
	disc   *local.Provider
	state  stateDir

	// mu guards the identity, which the transport reads on handshakes.
	mu     sync.Mutex
	cert   *tls.Certificate
	ca     *x509.Certificate
	nodeID string

	client   *http.Client // mutual TLS, built once the CA is known
	interval time.Duration
	seq      uint64
	sentHash string // the inventory hash the server holds
}

// New validates opts and returns an Agent. A nil logger discards output.
func New(opts Options, logger *slog.Logger) (*Agent, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(opts.Server)
	switch {
	case opts.Server == "":
		return nil, errors.New("agent: the server URL is required")
	case err != nil || u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("agent: the server URL must be https://host[:port], not %q", opts.Server)
	case opts.NodeName == "":
		return nil, errors.New("agent: the node name is required")
	case opts.StateDir == "":
		return nil, errors.New("agent: the state directory is required")
	case opts.CAHash != "" && !caHashPattern.MatchString(opts.CAHash):
		return nil, fmt.Errorf("agent: the CA hash must be sha256:<64 lower-case hex digits>, not %q", opts.CAHash)
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	opts.Root = cmp.Or(opts.Root, "/")
	opts.RequestTimeout = cmp.Or(opts.RequestTimeout, DefaultRequestTimeout)
	opts.MinBackoff = cmp.Or(opts.MinBackoff, DefaultMinBackoff)
	opts.MaxBackoff = max(cmp.Or(opts.MaxBackoff, DefaultMaxBackoff), opts.MinBackoff)
	logger = logger.With("node", opts.NodeName)
	name := opts.NodeName
	disc := local.New(local.Options{
		Name:     "edge-agent",
		ProcRoot: filepath.Join(opts.Root, "proc"),
		SysRoot:  filepath.Join(opts.Root, "sys"),
		EtcRoot:  filepath.Join(opts.Root, "etc"),
		Hostname: func() (string, error) { return name, nil },
	}, logger)
	return &Agent{opts: opts, log: logger, server: u, disc: disc, state: stateDir(opts.StateDir)}, nil
}

// NodeID returns the node's id once enrolled, "" before.
func (a *Agent) NodeID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nodeID
}

// Run enrols the node if it has no usable certificate, then heartbeats,
// reports and renews until ctx ends (then it returns nil). Network errors,
// server errors and rate limits are retried with backoff. It returns an
// error only when going on is pointless: the server is not trusted, the
// token is refused, or the certificate is refused (revoked) or expired
// and no token allows enrolling again.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.loadState(); err != nil {
		return err
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		if a.needsEnrolment(time.Now()) {
			if err := a.enroll(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		err := a.session(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errCertificateRefused), errors.Is(err, errCertificateExpired):
			a.log.WarnContext(ctx, "the node's certificate is no longer usable", "reason", err)
			if rerr := a.dropIdentity(); rerr != nil {
				return rerr
			}
			if a.opts.BootstrapToken == "" {
				return fmt.Errorf("%w: %v, and no bootstrap token is configured to enrol again", ErrNotEnrolled, err)
			}
			a.log.InfoContext(ctx, "enrolling again with the bootstrap token")
		default:
			return err
		}
	}
}

// needsEnrolment reports whether the node lacks a certificate valid at now.
func (a *Agent) needsEnrolment(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cert == nil || !now.Before(a.cert.Leaf.NotAfter)
}

// Internal outcomes of a session.
var (
	errCertificateRefused = errors.New("the server refused the node's client certificate (revoked, or the node deleted)")
	errCertificateExpired = errors.New("the node's client certificate expired")
)
