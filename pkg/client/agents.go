package o2

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"time"
)

// AgentTokenRequest asks for a bootstrap token that edge nodes enrol with
// (AgentTokenService.Create).
type AgentTokenRequest struct {
	// Pool is the resource pool the token enrols nodes into: lower-case
	// letters, digits and '-', at most 63.
	Pool string
	// TTL is how long the token is valid, at most 720h; zero selects the
	// server's default (24h).
	TTL time.Duration
	// Uses is how many nodes the token may enrol, 1 to 10000; zero
	// selects 1.
	Uses int
	// Description says what the token is for.
	Description string
}

// MarshalJSON returns r as the request body of the IMS (the TTL as a
// duration string such as "1h0m0s").
func (r AgentTokenRequest) MarshalJSON() ([]byte, error) {
	body := struct {
		Pool        string `json:"pool"`
		TTL         string `json:"ttl,omitempty"`
		Uses        int    `json:"uses,omitempty"`
		Description string `json:"description,omitempty"`
	}{Pool: r.Pool, Uses: r.Uses, Description: r.Description}
	if r.TTL != 0 {
		body.TTL = r.TTL.String()
	}
	return json.Marshal(body)
}

// AgentToken is a bootstrap token as the IMS keeps it: never its secret.
type AgentToken struct {
	// TokenID is the token's public part, the first six characters of
	// the token.
	TokenID     string    `json:"tokenId"`
	Pool        string    `json:"pool"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"createdAt,omitzero"`
	ExpiresAt   time.Time `json:"expiresAt,omitzero"`
	// MaxUses is how many enrolments the token allows, Uses how many it
	// has made, UsesLeft the difference.
	MaxUses  int  `json:"maxUses"`
	Uses     int  `json:"uses"`
	UsesLeft int  `json:"usesLeft"`
	Expired  bool `json:"expired"`
}

// NewAgentToken is a token just created: the only time its secret is
// known.
type NewAgentToken struct {
	TokenID string `json:"tokenId"`
	// Token is "<id>.<secret>", what the agent enrols with.
	Token       string    `json:"token"`
	Pool        string    `json:"pool"`
	Description string    `json:"description,omitempty"`
	ExpiresAt   time.Time `json:"expiresAt"`
	MaxUses     int       `json:"maxUses"`
	UsesLeft    int       `json:"usesLeft"`
	// CAHash pins the IMS's edge CA on the agent's first contact.
	CAHash string `json:"caHash"`
	// AgentCommand is the "o2ims agent" command that enrols a node with
	// the token.
	AgentCommand string `json:"agentCommand"`
}

// AgentTokenService mints, reads and revokes the bootstrap tokens edge
// nodes enrol with. Get one with Client.AgentTokens. A server without its
// agent listener answers every call with a ProblemError of status 409
// (IsConflict): edge enrolment is off.
type AgentTokenService struct {
	c   *Client
	col collection[AgentToken]
}

// AgentTokens returns the service for bootstrap tokens.
func (c *Client) AgentTokens() *AgentTokenService {
	return &AgentTokenService{c: c, col: newCollection[AgentToken](c, "agent token", NephoranAPIPrefix, "agents", "tokens")}
}

// List returns the page of tokens opts select.
func (s *AgentTokenService) List(ctx context.Context, opts ListOptions) (*Page[AgentToken], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every token opts select.
func (s *AgentTokenService) All(ctx context.Context, opts ListOptions) iter.Seq2[AgentToken, error] {
	return s.col.all(ctx, opts)
}

// Get returns the token with the given id (its public part).
func (s *AgentTokenService) Get(ctx context.Context, id string) (*AgentToken, error) {
	return s.col.get(ctx, id)
}

// Create mints a token. The answer is the only time its secret is shown.
// It is never retried. An invalid pool, TTL or number of uses is a
// ProblemError with status 400.
func (s *AgentTokenService) Create(ctx context.Context, req AgentTokenRequest) (*NewAgentToken, error) {
	if req.Pool == "" {
		return nil, errors.New("o2: AgentTokenRequest.Pool is empty")
	}
	var out NewAgentToken
	if _, err := s.c.do(ctx, call{method: http.MethodPost, url: s.col.base, body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete revokes the token with the given id: it enrols nothing from then
// on. Nodes enrolled with it are unaffected.
func (s *AgentTokenService) Delete(ctx context.Context, id string) error {
	return s.col.delete(ctx, id)
}

// AgentNodeState is where an edge node is in its enrolment.
type AgentNodeState string

// The states of AgentNode.State.
const (
	// AgentNodePendingApproval is an enrolment waiting for an operator's
	// approval (AgentNodeService.Approve).
	AgentNodePendingApproval AgentNodeState = "pending-approval"
	// AgentNodeApproved is approved; its agent has not yet collected its
	// certificate.
	AgentNodeApproved AgentNodeState = "approved"
	// AgentNodeEnrolled holds a certificate and is a resource of its pool.
	AgentNodeEnrolled AgentNodeState = "enrolled"
)

// AgentNode is an edge node known to the IMS, in any state of its
// enrolment.
type AgentNode struct {
	// NodeID identifies the node; once enrolled it is also the id of its
	// resource.
	NodeID string         `json:"nodeId"`
	Name   string         `json:"name"`
	Pool   string         `json:"pool"`
	Site   string         `json:"site,omitempty"`
	State  AgentNodeState `json:"state"`
	// Reachable tells whether an enrolled node heartbeats within its
	// lease.
	Reachable     bool      `json:"reachable"`
	TokenID       string    `json:"tokenId,omitempty"`
	AgentVersion  string    `json:"agentVersion,omitempty"`
	Addresses     []string  `json:"addresses,omitempty"`
	RemoteAddress string    `json:"remoteAddress,omitempty"`
	CreatedAt     time.Time `json:"createdAt,omitzero"`
	EnrolledAt    time.Time `json:"enrolledAt,omitzero"`
	LastHeartbeat time.Time `json:"lastHeartbeat,omitzero"`
	// CertificateSerial and CertificateNotAfter describe the node's
	// current client certificate.
	CertificateSerial   string    `json:"certificateSerial,omitempty"`
	CertificateNotAfter time.Time `json:"certificateNotAfter,omitzero"`
}

// AgentNodeService reads, approves and removes edge nodes. Get one with
// Client.AgentNodes. Nodes are named by id or by name. A server without
// its agent listener answers every call with a ProblemError of status
// 409 (IsConflict): edge enrolment is off.
type AgentNodeService struct {
	c   *Client
	col collection[AgentNode]
}

// AgentNodes returns the service for edge nodes.
func (c *Client) AgentNodes() *AgentNodeService {
	return &AgentNodeService{c: c, col: newCollection[AgentNode](c, "edge node", NephoranAPIPrefix, "agents", "nodes")}
}

// List returns the page of nodes opts select.
func (s *AgentNodeService) List(ctx context.Context, opts ListOptions) (*Page[AgentNode], error) {
	return s.col.list(ctx, opts)
}

// All iterates over every node opts select.
func (s *AgentNodeService) All(ctx context.Context, opts ListOptions) iter.Seq2[AgentNode, error] {
	return s.col.all(ctx, opts)
}

// Get returns the node with the given id or name.
func (s *AgentNodeService) Get(ctx context.Context, idOrName string) (*AgentNode, error) {
	return s.col.get(ctx, idOrName)
}

// Approve lets an enrolment waiting for approval proceed: the agent
// collects its certificate the next time it asks, and the node becomes a
// resource of its pool. A node not waiting for approval is a ProblemError
// with status 409. It is never retried.
func (s *AgentNodeService) Approve(ctx context.Context, idOrName string) (*AgentNode, error) {
	var out AgentNode
	if _, err := s.col.action(ctx, idOrName, "approve", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes the node from the inventory and revokes its
// certificates: its agent is refused from then on, at the TLS handshake.
func (s *AgentNodeService) Delete(ctx context.Context, idOrName string) error {
	return s.col.delete(ctx, idOrName)
}
