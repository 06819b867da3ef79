package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/provider"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// AgentOptions configure the agent listener, where edge nodes enrol and
// heartbeat (issue 15).
type AgentOptions struct {
	// Listen is the TCP address of the agent listener; empty turns edge
	// enrolment off.
	Listen string
	// Hosts are the names and addresses agents reach the listener by (the
	// SANs of its certificate); at least one when Listen is set.
	Hosts []string
	// HeartbeatInterval, HeartbeatGrace and CertValidity are those of
	// edge.Options; zero selects the edge package's defaults.
	HeartbeatInterval time.Duration
	HeartbeatGrace    int
	CertValidity      time.Duration
	// ManualApproval makes each enrolment wait for an operator's approval
	// (POST /o2ims/v1/agents/nodes/{id}/approve); until then the node is
	// not a resource.
	ManualApproval bool
}

// EdgeDir is the directory under the data directory that keeps the edge
// CA.
func EdgeDir(dataDir string) string { return filepath.Join(dataDir, "edge") }

// OpenEdge opens the edge CA under <dataDir>/edge (its key sealed with box
// when one is given) and the edge service over the store. The server and
// the token command share it.
func OpenEdge(ctx context.Context, dataDir string, box *secrets.Box, store *sqlstore.Store, o AgentOptions, observer edge.Observer, logger *slog.Logger) (*edge.Service, error) {
	if dataDir == "" {
		return nil, errors.New("edge enrolment: a data directory is required for the edge CA")
	}
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
	}
	ca, err := edge.OpenCA(edge.CAOptions{Dir: EdgeDir(dataDir), Box: box, ServerHosts: hosts})
	if err != nil {
		return nil, err
	}
	return edge.Open(ctx, edge.Options{
		HeartbeatInterval: o.HeartbeatInterval,
		HeartbeatGrace:    o.HeartbeatGrace,
		CertValidity:      o.CertValidity,
		ManualApproval:    o.ManualApproval,
		Observer:          observer,
	}, store.Edge(), ca, logger)
}

// agentServer is the edge service and its listener.
type agentServer struct {
	svc      *edge.Service
	listener net.Listener
	http     *http.Server
}

// newAgentServer builds the edge service, registers its provider and binds
// the agent listener (TLS with the edge CA's serving certificate).
func newAgentServer(ctx context.Context, opts Options, box *secrets.Box, store *sqlstore.Store, alarmSvc *alarms.Service, raisers *alarms.Raisers, registry *provider.Registry, logger *slog.Logger) (*agentServer, error) {
	o := opts.Agent
	if len(o.Hosts) == 0 {
		return nil, errors.New("agent listener: at least one host name or address (--agent-hosts) is required")
	}
	logger = logger.With("component", "edge")
	svc, err := OpenEdge(ctx, opts.Database.DataDir, box, store, o, edgeAlarms{alarms: alarmSvc, raisers: raisers, store: store, logger: logger}, logger)
	if err != nil {
		return nil, fmt.Errorf("edge enrolment: %w", err)
	}
	if err := registry.AddStatic(svc.Provider(edge.ProviderOptions{HealthAlarm: alarms.EdgeNodeUnreachable}), edge.ProviderType, provider.OriginBuiltin, ""); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("agent listener on %s: %w", o.Listen, err)
	}
	return &agentServer{
		svc:      svc,
		listener: tls.NewListener(ln, svc.TLSConfig()),
		http: &http.Server{
			Handler:           svc.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}, nil
}

// AgentAddr is the address the agent listener listens on, "" when it is
// off.
func (a *App) AgentAddr() string {
	if a.agent == nil {
		return ""
	}
	return a.agent.listener.Addr().String()
}

// service is the edge service, nil without an agent listener.
func (a *agentServer) service() *edge.Service {
	if a == nil {
		return nil
	}
	return a.svc
}

// url is the URL agents reach the listener at, for the command a new
// token comes with: the first of its hosts (the SANs of its certificate)
// at the port it listens on.
func (a *agentServer) url(hosts []string) string {
	if a == nil {
		return ""
	}
	addr := a.listener.Addr().String()
	_, port, err := net.SplitHostPort(addr)
	if err != nil || len(hosts) == 0 {
		return "https://" + addr
	}
	return "https://" + net.JoinHostPort(hosts[0], port)
}

// fpEdgeUnreachable prefixes the fingerprints of O2IMSEdgeNodeUnreachable
// alarms; the node id follows.
const fpEdgeUnreachable = "edge-unreachable/"

// edgeAlarms raises O2IMSEdgeNodeUnreachable when a node's lease expires
// and clears it when the node is back or deleted; a deleted node leaves
// the inventory without O2IMSResourceDisappeared (it implements
// edge.Observer).
type edgeAlarms struct {
	alarms  *alarms.Service
	raisers *alarms.Raisers
	store   *sqlstore.Store
	logger  *slog.Logger
}

var _ edge.Observer = edgeAlarms{}

func (e edgeAlarms) Unreachable(ctx context.Context, n edge.Node) {
	d := alarms.Definition(alarms.EdgeNodeUnreachable)
	// The node is a resource of its own id; its type is whatever its
	// inventory made it.
	var res ims.Resource
	if doc, err := e.store.Get(ctx, inventory.ResourceSchema, n.ID); err == nil {
		_ = json.Unmarshal(doc, &res)
	}
	ext := ims.Extensions{"alarmName": d.AlarmName, "provider": edge.ProviderType, "nodeName": n.Name, "pool": n.Pool}
	if !n.LastHeartbeat.IsZero() {
		ext["lastHeartbeat"] = n.LastHeartbeat.UTC().Format(time.RFC3339)
	}
	_, err := e.alarms.Raise(ctx, alarms.Condition{
		Fingerprint:    fpEdgeUnreachable + n.ID,
		Definition:     d,
		Severity:       d.Severity,
		ResourceID:     n.ID,
		ResourceTypeID: res.ResourceTypeID,
		Extensions:     ext,
	})
	if err != nil {
		e.logger.WarnContext(ctx, "raising the edge node unreachable alarm failed", "node", n.Name, "err", err)
	}
}

func (e edgeAlarms) Reachable(ctx context.Context, n edge.Node) { e.clear(ctx, n) }

func (e edgeAlarms) Deleted(ctx context.Context, n edge.Node) {
	e.raisers.ExpectRemoval(n.ID)
	e.clear(ctx, n)
}

func (e edgeAlarms) clear(ctx context.Context, n edge.Node) {
	if err := e.alarms.Resolve(ctx, fpEdgeUnreachable+n.ID); err != nil {
		e.logger.WarnContext(ctx, "clearing the edge node unreachable alarm failed", "node", n.Name, "err", err)
	}
}
