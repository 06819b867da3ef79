// Package edge is the server side of edge-node enrolment: a CA of the IMS's
// own, bootstrap tokens, the agent protocol (enrolment, certificate renewal,
// heartbeats, inventory reports) served on a dedicated mutual-TLS listener,
// leases that mark a silent node unreachable, and an inventory provider that
// publishes the enrolled nodes. The agent half is internal/agent.
//
// Enrolment follows kubeadm's bootstrap tokens and OCM's CSR flow: an
// operator mints a short-lived, limited-use token for a pool; the agent sends
// it with a CSR for its own key and gets a client certificate naming the node
// (CN = node name, URI SAN urn:nephoran:o2ims:edge:<node-id>); from then on
// the certificate is its only credential. The token carries the hash of the
// CA's public key, so an agent verifies the server on first contact without a
// CA file.
package edge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/nephoran/o2ims/internal/ims"
)

// Defaults of Options.
const (
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultHeartbeatGrace    = 3
	DefaultClockSkew         = 2 * time.Minute
	DefaultCertValidity      = 30 * 24 * time.Hour
	DefaultPendingTTL        = 24 * time.Hour
	DefaultMaxInventoryBytes = 1 << 20
	DefaultMaxResources      = 4096
	// maxSmallBody bounds the bodies that carry no inventory.
	maxSmallBody = 64 << 10
)

// Options configures a Service. Zero values take the defaults.
type Options struct {
	// HeartbeatInterval is the interval agents are told to heartbeat at.
	HeartbeatInterval time.Duration
	// HeartbeatGrace is how many intervals may pass without a report
	// before a node is unreachable.
	HeartbeatGrace int
	// ClockSkew is how far a report's timestamp may be from the server's
	// clock.
	ClockSkew time.Duration
	// CertValidity is the validity of the client certificates issued.
	CertValidity time.Duration
	// ManualApproval makes each enrolment wait for Approve.
	ManualApproval bool
	// PendingTTL is how long an enrolment waits for approval before it is
	// dropped.
	PendingTTL time.Duration
	// MaxInventoryBytes bounds an inventory report's body (and an
	// enrolment's, which carries one).
	MaxInventoryBytes int64
	// MaxResources bounds the resources, and the resource types, of one
	// inventory.
	MaxResources int
	// NodeRequestsPerSecond and NodeBurst limit the requests of one node;
	// 10 per heartbeat interval and a burst of 20 when zero, no limit
	// when negative.
	NodeRequestsPerSecond float64
	NodeBurst             int
	// EnrollRequestsPerSecond and EnrollBurst limit the enrolments of one
	// client address; 1 a second and a burst of 20 when zero, no limit
	// when negative.
	EnrollRequestsPerSecond float64
	EnrollBurst             int
	// Observer is told when nodes become unreachable, come back and are
	// deleted; nil for nobody.
	Observer Observer
}

func (o Options) withDefaults() Options {
	o.HeartbeatInterval = cmp.Or(o.HeartbeatInterval, DefaultHeartbeatInterval)
	o.HeartbeatGrace = cmp.Or(o.HeartbeatGrace, DefaultHeartbeatGrace)
	o.ClockSkew = cmp.Or(o.ClockSkew, DefaultClockSkew)
	o.CertValidity = cmp.Or(o.CertValidity, DefaultCertValidity)
	o.PendingTTL = cmp.Or(o.PendingTTL, DefaultPendingTTL)
	o.MaxInventoryBytes = cmp.Or(o.MaxInventoryBytes, DefaultMaxInventoryBytes)
	o.MaxResources = cmp.Or(o.MaxResources, DefaultMaxResources)
	if o.NodeRequestsPerSecond == 0 {
		o.NodeRequestsPerSecond = 10 / o.HeartbeatInterval.Seconds()
	}
	o.NodeBurst = cmp.Or(o.NodeBurst, 20)
	o.EnrollRequestsPerSecond = cmp.Or(o.EnrollRequestsPerSecond, 1)
	o.EnrollBurst = cmp.Or(o.EnrollBurst, 20)
	return o
}

func (o Options) validate() error {
	switch {
	case o.HeartbeatInterval < 0, o.HeartbeatGrace < 0, o.ClockSkew < 0, o.CertValidity < 0, o.PendingTTL < 0,
		o.MaxInventoryBytes < 0, o.MaxResources < 0:
		return errors.New("edge: durations, counts and sizes must not be negative")
	}
	return nil
}

// Observer is told about node reachability; the server raises and clears
// the O2IMSEdgeNodeUnreachable alarm through it. Calls are made one at a
// time, in the order of the changes, without the lock on nodes held; an
// observer may read from the Service but must not change nodes (Approve,
// DeleteNode) from within a call.
type Observer interface {
	// Unreachable: the node's lease expired (HeartbeatGrace intervals
	// without a report).
	Unreachable(ctx context.Context, n Node)
	// Reachable: an unreachable node reported again.
	Reachable(ctx context.Context, n Node)
	// Deleted: the node was deleted (whatever its reachability), so
	// that an alarm raised on it can be cleared.
	Deleted(ctx context.Context, n Node)
}

// Service is the server side of the agent protocol. It is safe for
// concurrent use.
type Service struct {
	opts  Options
	store Store
	ca    *CA
	log   *slog.Logger

	// started is when this process began watching leases: a node's lease
	// runs from its last report or from here, whichever is later, so a
	// restarted server does not declare every node unreachable at once.
	started time.Time

	// mu serialises changes to nodes: each is a read, a check (sequence
	// numbers, states) and a write that must not interleave.
	mu sync.Mutex
	// emitMu orders the delivery of events (see change.end).
	emitMu sync.Mutex

	revMu   sync.RWMutex
	revoked map[string]time.Time // serial -> the certificate's expiry

	watchMu  sync.Mutex
	watchers map[int]func()
	watchSeq int

	limits limiters
}

// Open returns a Service over store and ca, loading the revocations.
func Open(ctx context.Context, opts Options, store Store, ca *CA, logger *slog.Logger) (*Service, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if store == nil || ca == nil {
		return nil, errors.New("edge: a store and a CA are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	s := &Service{opts: opts, store: store, ca: ca, log: logger, revoked: map[string]time.Time{}, watchers: map[int]func(){}}
	s.started = s.now()
	revs, err := store.Revocations(ctx, s.started)
	if err != nil {
		return nil, fmt.Errorf("edge: loading revocations: %w", err)
	}
	for _, r := range revs {
		s.revoked[r.Serial] = r.NotAfter
	}
	s.limits = newLimiters(opts)
	return s, nil
}

func (s *Service) now() time.Time { return time.Now() }

// CAHash is the pin agents are given with their token.
func (s *Service) CAHash() string { return s.ca.Hash() }

// HeartbeatInterval is the interval agents are told to heartbeat at.
func (s *Service) HeartbeatInterval() time.Duration { return s.opts.HeartbeatInterval }

// leaseDuration is how long a node stays reachable without a report.
func (s *Service) leaseDuration() time.Duration {
	return time.Duration(s.opts.HeartbeatGrace) * s.opts.HeartbeatInterval
}

// Run watches the leases until ctx ends: a node silent for HeartbeatGrace
// intervals becomes unreachable. It also drops enrolments left pending for
// longer than PendingTTL and forgets revocations of expired certificates.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(max(s.opts.HeartbeatInterval/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.checkLeases(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "checking edge node leases failed", "err", err)
		}
	}
}

// checkLeases marks the nodes whose lease expired unreachable.
func (s *Service) checkLeases(ctx context.Context) error {
	err := func() error {
		ch := s.begin()
		defer ch.end(ctx)
		now := s.now()
		nodes, err := s.store.Nodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			switch {
			case n.State == NodeEnrolled && n.Reachable && now.After(s.leaseExpiry(n)):
				n.Reachable = false
				if err := s.store.PutNode(ctx, n); err != nil {
					return err
				}
				s.log.WarnContext(ctx, "edge node unreachable", "node", n.Name, "node_id", n.ID,
					"last_heartbeat", n.LastHeartbeat, "grace", s.leaseDuration())
				ch.add(eventUnreachable, n)
			case n.State != NodeEnrolled && now.Sub(n.CreatedAt) > s.opts.PendingTTL:
				if err := s.store.DeleteNode(ctx, n.ID); err != nil {
					return err
				}
				s.log.InfoContext(ctx, "edge enrolment dropped: not approved in time", "node", n.Name, "state", n.State)
			}
		}
		return nil
	}()
	s.pruneRevocations()
	return err
}

// leaseExpiry is when n becomes unreachable without another report.
func (s *Service) leaseExpiry(n Node) time.Time {
	from := n.LastHeartbeat
	if from.Before(s.started) {
		from = s.started
	}
	return from.Add(s.leaseDuration())
}

type eventKind int

const (
	eventUnreachable eventKind = iota
	eventReachable
	eventDeleted
	eventChanged // only the provider's snapshot changed
)

type event struct {
	kind eventKind
	node Node
}

// change is one change of nodes under s.mu, collecting the events it
// causes.
type change struct {
	s      *Service
	events []event
}

// begin starts a change: it takes s.mu.
func (s *Service) begin() *change {
	s.mu.Lock()
	return &change{s: s}
}

func (c *change) add(kind eventKind, n Node) { c.events = append(c.events, event{kind: kind, node: n}) }

// end releases s.mu and tells the observer and the provider's watchers
// about the events. It takes emitMu before releasing s.mu, so that
// observers learn of changes in the order they were made (an unreachable
// node's return never overtakes its loss). The price is that a change with
// events waits, holding s.mu, for the observer to finish with the previous
// ones: observers must be quick (raising or clearing an alarm is).
func (c *change) end(ctx context.Context) {
	s := c.s
	if len(c.events) == 0 {
		s.mu.Unlock()
		return
	}
	s.emitMu.Lock()
	s.mu.Unlock()
	defer s.emitMu.Unlock()
	if o := s.opts.Observer; o != nil {
		for _, e := range c.events {
			switch e.kind {
			case eventUnreachable:
				o.Unreachable(ctx, e.node)
			case eventReachable:
				o.Reachable(ctx, e.node)
			case eventDeleted:
				o.Deleted(ctx, e.node)
			}
		}
	}
	s.watchMu.Lock()
	fns := make([]func(), 0, len(s.watchers))
	for _, fn := range s.watchers {
		fns = append(fns, fn)
	}
	s.watchMu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// watch registers fn to be called (it must not block) whenever the nodes
// change in a way the provider's snapshot shows, until ctx ends.
func (s *Service) watch(ctx context.Context, fn func()) {
	s.watchMu.Lock()
	id := s.watchSeq
	s.watchSeq++
	s.watchers[id] = fn
	s.watchMu.Unlock()
	<-ctx.Done()
	s.watchMu.Lock()
	delete(s.watchers, id)
	s.watchMu.Unlock()
}

// Nodes lists the nodes in every state.
func (s *Service) Nodes(ctx context.Context) ([]Node, error) { return s.store.Nodes(ctx) }

// Node returns the node with the given id or name.
func (s *Service) Node(ctx context.Context, idOrName string) (Node, error) {
	if _, err := uuid.Parse(idOrName); err == nil {
		n, err := s.store.Node(ctx, idOrName)
		if ims.ErrorCode(err) != ims.ENOTFOUND {
			return n, err
		}
	}
	n, err := s.store.NodeByName(ctx, idOrName)
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		return Node{}, ims.Errorf(ims.ENOTFOUND, "edge node %s not found", idOrName)
	}
	return n, err
}

// Approve lets a pending enrolment proceed: the agent collects its
// certificate the next time it asks.
func (s *Service) Approve(ctx context.Context, idOrName string) (Node, error) {
	ch := s.begin()
	defer ch.end(ctx)
	n, err := s.Node(ctx, idOrName)
	if err != nil {
		return Node{}, err
	}
	if n.State != NodePending {
		return Node{}, ims.Errorf(ims.ECONFLICT, "edge node %s is not waiting for approval: it is %s", n.Name, n.State)
	}
	n.State = NodeApproved
	if err := s.store.PutNode(ctx, n); err != nil {
		return Node{}, err
	}
	s.log.InfoContext(ctx, "edge enrolment approved", "node", n.Name, "node_id", n.ID)
	return n, nil
}

// DeleteNode deletes a node and revokes every certificate issued to it:
// from then on its certificates are refused at the TLS handshake (see
// VerifyConnection) and by every call of the protocol. A pending
// enrolment is simply dropped.
func (s *Service) DeleteNode(ctx context.Context, idOrName string) error {
	ch := s.begin()
	defer ch.end(ctx)
	n, err := s.deleteNodeLocked(ctx, idOrName)
	if err != nil {
		return err
	}
	ch.add(eventDeleted, n)
	return nil
}

func (s *Service) deleteNodeLocked(ctx context.Context, idOrName string) (Node, error) {
	n, err := s.Node(ctx, idOrName)
	if err != nil {
		return Node{}, err
	}
	now := s.now()
	certs, err := s.store.Certificates(ctx, n.ID)
	if err != nil {
		return Node{}, err
	}
	var revs []Revocation
	for _, c := range certs {
		if now.Before(c.NotAfter) {
			revs = append(revs, Revocation{Serial: c.Serial, NodeID: n.ID, RevokedAt: now, NotAfter: c.NotAfter})
		}
	}
	// Revoke before deleting: a failure in between leaves a node that
	// cannot connect, never a deleted node that can.
	if len(revs) > 0 {
		if err := s.store.Revoke(ctx, revs); err != nil {
			return Node{}, err
		}
		s.revMu.Lock()
		for _, r := range revs {
			s.revoked[r.Serial] = r.NotAfter
		}
		s.revMu.Unlock()
	}
	if err := s.store.DeleteNode(ctx, n.ID); err != nil {
		return Node{}, err
	}
	s.log.InfoContext(ctx, "edge node deleted, its certificates revoked", "node", n.Name, "node_id", n.ID, "revoked", len(revs))
	return n, nil
}

// isRevoked reports whether the certificate with the given serial is revoked.
func (s *Service) isRevoked(serial string) bool {
	s.revMu.RLock()
	defer s.revMu.RUnlock()
	_, ok := s.revoked[serial]
	return ok
}

// pruneRevocations forgets revocations of certificates that have expired:
// the handshake refuses those anyway.
func (s *Service) pruneRevocations() {
	now := s.now()
	s.revMu.Lock()
	defer s.revMu.Unlock()
	for serial, notAfter := range s.revoked {
		if now.After(notAfter) {
			delete(s.revoked, serial)
		}
	}
}
