package edge

import (
	"context"
	"encoding/json"
	"time"
)

// Store keeps the state of edge enrolment. Methods return *ims.Error with
// ENOTFOUND for a missing token, node or inventory and ECONFLICT for a
// duplicate id or name. The Service is the only writer of the node rows
// and serialises its changes to them; UseToken is atomic on its own because
// tokens are also written by the operator's API.
//
// The server's SQL implementation needs these tables (sqlstore migrations,
// both dialects; times as the other tables keep them):
//
//	edge_tokens        (id TEXT PRIMARY KEY,              -- the public part, [a-z0-9]{6}
//	                    secret_sha256 BLOB NOT NULL,      -- never the secret itself
//	                    pool TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
//	                    max_uses INTEGER NOT NULL, uses INTEGER NOT NULL DEFAULT 0,
//	                    created_at, expires_at NOT NULL)
//	                    -- UseToken: UPDATE edge_tokens SET uses = uses + 1
//	                    --   WHERE id = ? AND uses < max_uses AND expires_at > ?
//	edge_nodes         (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
//	                    pool, site, state TEXT NOT NULL,  -- pending|approved|enrolled
//	                    token_id, key_sha256, agent_version, addresses JSON,
//	                    remote_address, created_at, enrolled_at, last_heartbeat,
//	                    last_sequence BIGINT NOT NULL DEFAULT 0, reachable BOOLEAN,
//	                    cert_serial, cert_not_after, inventory_hash)
//	edge_inventories   (node_id TEXT PRIMARY KEY REFERENCES edge_nodes ON DELETE CASCADE,
//	                    hash TEXT NOT NULL, document JSON NOT NULL, received_at)
//	edge_certificates  (serial TEXT PRIMARY KEY, node_id TEXT NOT NULL,  -- no FK: kept after deletion
//	                    key_sha256, not_before, not_after, issued_at; INDEX (node_id))
//	edge_revocations   (serial TEXT PRIMARY KEY, node_id TEXT NOT NULL,
//	                    revoked_at, not_after)      -- prunable once not_after has passed
//
// The CA key and certificate are files under the data directory (see CA),
// not rows.
type Store interface {
	// CreateToken stores a new token; ECONFLICT if its id is taken.
	CreateToken(ctx context.Context, t Token) error
	// Token returns the token with the given id.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens lists the tokens, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// UseToken counts one use of a token, atomically, and returns the
	// token as it is afterwards. It fails with EUNAUTHENTICATED when the
	// token has expired at now or has no uses left.
	UseToken(ctx context.Context, id string, now time.Time) (Token, error)
	// DeleteToken removes a token (its revocation).
	DeleteToken(ctx context.Context, id string) error

	// PutNode creates or replaces a node; ECONFLICT if another node has its name.
	PutNode(ctx context.Context, n Node) error
	// Node returns the node with the given id.
	Node(ctx context.Context, id string) (Node, error)
	// NodeByName returns the node with the given name.
	NodeByName(ctx context.Context, name string) (Node, error)
	// Nodes lists every node, in any state, by name.
	Nodes(ctx context.Context) ([]Node, error)
	// DeleteNode removes a node and its inventory. Its certificates and
	// revocations are kept.
	DeleteNode(ctx context.Context, id string) error

	// PutInventory stores the latest inventory of a node.
	PutInventory(ctx context.Context, nodeID string, inv StoredInventory) error
	// Inventory returns the latest inventory of a node.
	Inventory(ctx context.Context, nodeID string) (StoredInventory, error)

	// AddCertificate records an issued client certificate.
	AddCertificate(ctx context.Context, c IssuedCertificate) error
	// Certificates lists the certificates issued to a node.
	Certificates(ctx context.Context, nodeID string) ([]IssuedCertificate, error)

	// Revoke records revoked certificates.
	Revoke(ctx context.Context, rs []Revocation) error
	// Revocations lists the revocations of certificates not yet expired at now.
	Revocations(ctx context.Context, now time.Time) ([]Revocation, error)
}

// Token is a bootstrap token as stored: its public id and a hash of its
// secret, never the secret.
type Token struct {
	ID           string
	SecretSHA256 []byte
	// Pool is the resource pool nodes enrolled with the token join.
	Pool        string
	Description string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// MaxUses is how many enrolments the token allows; Uses how many
	// it has made.
	MaxUses int
	Uses    int
}

// NodeState is where a node is in its enrolment.
type NodeState string

// Node states.
const (
	// NodePending is an enrolment waiting for manual approval.
	NodePending NodeState = "pending"
	// NodeApproved is an approved enrolment whose certificate the agent
	// has not yet collected.
	NodeApproved NodeState = "approved"
	// NodeEnrolled is a node holding a client certificate.
	NodeEnrolled NodeState = "enrolled"
)

// Node is an edge node known to the IMS.
type Node struct {
	ID    string
	Name  string
	Pool  string
	Site  string
	State NodeState
	// TokenID is the bootstrap token the node enrolled with.
	TokenID string
	// KeySHA256 identifies the public key of the node's current
	// certificate, or of its pending request.
	KeySHA256     string
	AgentVersion  string
	Addresses     []string
	RemoteAddress string
	CreatedAt     time.Time
	EnrolledAt    time.Time
	// LastHeartbeat is the server's time of the last accepted report.
	LastHeartbeat time.Time
	// LastSequence is the sequence number of the last accepted report.
	LastSequence uint64
	// Reachable is what the observer was last told.
	Reachable     bool
	CertSerial    string
	CertNotAfter  time.Time
	InventoryHash string
}

// StoredInventory is the latest inventory report of a node.
type StoredInventory struct {
	Hash       string
	Document   json.RawMessage // an Inventory
	ReceivedAt time.Time
}

// IssuedCertificate records a client certificate the CA signed.
type IssuedCertificate struct {
	Serial    string
	NodeID    string
	KeySHA256 string
	NotBefore time.Time
	NotAfter  time.Time
	IssuedAt  time.Time
}

// Revocation is a revoked client certificate.
type Revocation struct {
	Serial    string
	NodeID    string
	RevokedAt time.Time
	// NotAfter is the certificate's expiry, after which the revocation
	// need not be kept.
	NotAfter time.Time
}
