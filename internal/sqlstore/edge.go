package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// EdgeStore keeps the state of edge enrolment (edge.Store) in the
// edge_* tables. It is a type of its own, rather than methods on Store,
// because the edge.Store method names (Token, Node, Revoke …) would say
// too little among the inventory methods of Store.
type EdgeStore struct {
	s *Store
}

var _ edge.Store = (*EdgeStore)(nil)

// Edge returns the edge enrolment store on the same database.
func (s *Store) Edge() *EdgeStore { return &EdgeStore{s: s} }

// These are the errors edge.MemoryStore returns for a token that cannot
// be used; edge keeps its own unexported, so the codes and messages are
// repeated here.
var (
	errEdgeTokenExpired = ims.Errorf(ims.EUNAUTHENTICATED, "the bootstrap token has expired")
	errEdgeTokenUsedUp  = ims.Errorf(ims.EUNAUTHENTICATED, "the bootstrap token has been used as often as it allows")
)

// jsonArg is the placeholder of a JSON argument passed as text.
func (e *EdgeStore) jsonArg() string {
	if e.s.dialect == query.Postgres {
		return "?::jsonb"
	}
	return "?"
}

func isForeignKeyViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "FOREIGN KEY constraint failed") || strings.Contains(msg, "SQLSTATE 23503")
}

const edgeTokenColumns = `id, secret_sha256, pool, description, max_uses, uses, created_at, expires_at`

func scanEdgeToken(row scanner) (edge.Token, error) {
	var t edge.Token
	var created, expires int64
	if err := row.Scan(&t.ID, &t.SecretSHA256, &t.Pool, &t.Description, &t.MaxUses, &t.Uses, &created, &expires); err != nil {
		return edge.Token{}, err
	}
	t.CreatedAt, t.ExpiresAt = msTime(created), msTime(expires)
	return t, nil
}

// CreateToken implements edge.Store.
func (e *EdgeStore) CreateToken(ctx context.Context, t edge.Token) error {
	secret := t.SecretSHA256
	if secret == nil {
		secret = []byte{} // NOT NULL
	}
	_, err := e.s.db.ExecContext(ctx, e.s.rebind(`INSERT INTO edge_tokens (`+edgeTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		t.ID, secret, t.Pool, t.Description, t.MaxUses, t.Uses, msOf(t.CreatedAt), msOf(t.ExpiresAt))
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return ims.Errorf(ims.ECONFLICT, "token %s exists already", t.ID)
	default:
		return ims.Internal(fmt.Errorf("insert edge token: %w", err), "storing the token failed")
	}
}

// Token implements edge.Store.
func (e *EdgeStore) Token(ctx context.Context, id string) (edge.Token, error) {
	t, err := scanEdgeToken(e.s.db.QueryRowContext(ctx, e.s.rebind(`SELECT `+edgeTokenColumns+` FROM edge_tokens WHERE id = ?`), id))
	switch {
	case err == nil:
		return t, nil
	case isNoRows(err):
		return edge.Token{}, ims.Errorf(ims.ENOTFOUND, "token %s not found", id)
	default:
		return edge.Token{}, ims.Internal(fmt.Errorf("read edge token: %w", err), "reading the token failed")
	}
}

// Tokens implements edge.Store.
func (e *EdgeStore) Tokens(ctx context.Context) ([]edge.Token, error) {
	rows, err := e.s.db.QueryContext(ctx, `SELECT `+edgeTokenColumns+` FROM edge_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge tokens: %w", err), "listing the tokens failed")
	}
	defer rows.Close()
	out := []edge.Token{}
	for rows.Next() {
		t, err := scanEdgeToken(rows)
		if err != nil {
			return nil, ims.Internal(fmt.Errorf("scan edge token: %w", err), "listing the tokens failed")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge tokens: %w", err), "listing the tokens failed")
	}
	return out, nil
}

// UseToken implements edge.Store. The use is one conditional UPDATE, so
// concurrent enrolments with one token cannot together exceed its uses;
// only when it changes nothing is the token read to tell why.
func (e *EdgeStore) UseToken(ctx context.Context, id string, now time.Time) (edge.Token, error) {
	t, err := scanEdgeToken(e.s.db.QueryRowContext(ctx, e.s.rebind(`UPDATE edge_tokens SET uses = uses + 1
		WHERE id = ? AND uses < max_uses AND expires_at > ?
		RETURNING `+edgeTokenColumns), id, now.UnixMilli()))
	switch {
	case err == nil:
		return t, nil
	case !isNoRows(err):
		return edge.Token{}, ims.Internal(fmt.Errorf("use edge token: %w", err), "using the token failed")
	}
	t, err = e.Token(ctx, id)
	switch {
	case err != nil:
		return edge.Token{}, err
	case now.UnixMilli() >= msOf(t.ExpiresAt):
		return edge.Token{}, errEdgeTokenExpired
	default:
		return edge.Token{}, errEdgeTokenUsedUp
	}
}

// DeleteToken implements edge.Store.
func (e *EdgeStore) DeleteToken(ctx context.Context, id string) error {
	res, err := e.s.db.ExecContext(ctx, e.s.rebind(`DELETE FROM edge_tokens WHERE id = ?`), id)
	if err != nil {
		return ims.Internal(fmt.Errorf("delete edge token: %w", err), "deleting the token failed")
	}
	if n, err := res.RowsAffected(); err != nil {
		return ims.Internal(fmt.Errorf("delete edge token: %w", err), "deleting the token failed")
	} else if n == 0 {
		return ims.Errorf(ims.ENOTFOUND, "token %s not found", id)
	}
	return nil
}

const edgeNodeColumns = `id, name, pool, site, state, token_id, key_sha256, agent_version, addresses, remote_address,
	created_at, enrolled_at, last_heartbeat, last_sequence, reachable, cert_serial, cert_not_after, inventory_hash`

func scanEdgeNode(row scanner) (edge.Node, error) {
	var (
		n                                           edge.Node
		state                                       string
		addresses                                   []byte
		created, enrolled, heartbeat, seq, notAfter int64
	)
	err := row.Scan(&n.ID, &n.Name, &n.Pool, &n.Site, &state, &n.TokenID, &n.KeySHA256, &n.AgentVersion, &addresses, &n.RemoteAddress,
		&created, &enrolled, &heartbeat, &seq, &n.Reachable, &n.CertSerial, &notAfter, &n.InventoryHash)
	if err != nil {
		return edge.Node{}, err
	}
	if err := json.Unmarshal(addresses, &n.Addresses); err != nil {
		return edge.Node{}, fmt.Errorf("addresses of node %s: %w", n.ID, err)
	}
	n.State = edge.NodeState(state)
	n.CreatedAt, n.EnrolledAt, n.LastHeartbeat, n.CertNotAfter = msTime(created), msTime(enrolled), msTime(heartbeat), msTime(notAfter)
	// The column is signed; the bits of a uint64 round-trip.
	n.LastSequence = uint64(seq)
	return n, nil
}

// PutNode implements edge.Store. It updates a node's row in place rather
// than replacing it, which would delete its inventory by cascade.
func (e *EdgeStore) PutNode(ctx context.Context, n edge.Node) error {
	addresses, err := json.Marshal(n.Addresses)
	if err != nil {
		return ims.Internal(fmt.Errorf("encode addresses: %w", err), "storing the node failed")
	}
	_, err = e.s.db.ExecContext(ctx, e.s.rebind(`INSERT INTO edge_nodes (`+edgeNodeColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, `+e.jsonArg()+`, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, pool = excluded.pool, site = excluded.site,
			state = excluded.state, token_id = excluded.token_id, key_sha256 = excluded.key_sha256,
			agent_version = excluded.agent_version, addresses = excluded.addresses,
			remote_address = excluded.remote_address, created_at = excluded.created_at,
			enrolled_at = excluded.enrolled_at, last_heartbeat = excluded.last_heartbeat,
			last_sequence = excluded.last_sequence, reachable = excluded.reachable,
			cert_serial = excluded.cert_serial, cert_not_after = excluded.cert_not_after,
			inventory_hash = excluded.inventory_hash`),
		n.ID, n.Name, n.Pool, n.Site, string(n.State), n.TokenID, n.KeySHA256, n.AgentVersion, string(addresses), n.RemoteAddress,
		msOf(n.CreatedAt), msOf(n.EnrolledAt), msOf(n.LastHeartbeat), int64(n.LastSequence), n.Reachable,
		n.CertSerial, msOf(n.CertNotAfter), n.InventoryHash)
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		// The id conflict is the upsert's; only the name can be taken.
		return ims.Errorf(ims.ECONFLICT, "a node named %s exists already", n.Name)
	default:
		return ims.Internal(fmt.Errorf("upsert edge node: %w", err), "storing the node failed")
	}
}

func (e *EdgeStore) findNode(ctx context.Context, column, value string) (edge.Node, error) {
	n, err := scanEdgeNode(e.s.db.QueryRowContext(ctx, e.s.rebind(`SELECT `+edgeNodeColumns+` FROM edge_nodes WHERE `+column+` = ?`), value))
	switch {
	case err == nil:
		return n, nil
	case isNoRows(err):
		return edge.Node{}, ims.Errorf(ims.ENOTFOUND, "node %s not found", value)
	default:
		return edge.Node{}, ims.Internal(fmt.Errorf("read edge node: %w", err), "reading the node failed")
	}
}

// Node implements edge.Store.
func (e *EdgeStore) Node(ctx context.Context, id string) (edge.Node, error) {
	return e.findNode(ctx, "id", id)
}

// NodeByName implements edge.Store.
func (e *EdgeStore) NodeByName(ctx context.Context, name string) (edge.Node, error) {
	return e.findNode(ctx, "name", name)
}

// Nodes implements edge.Store.
func (e *EdgeStore) Nodes(ctx context.Context) ([]edge.Node, error) {
	rows, err := e.s.db.QueryContext(ctx, `SELECT `+edgeNodeColumns+` FROM edge_nodes ORDER BY name`)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge nodes: %w", err), "listing the nodes failed")
	}
	defer rows.Close()
	out := []edge.Node{}
	for rows.Next() {
		n, err := scanEdgeNode(rows)
		if err != nil {
			return nil, ims.Internal(fmt.Errorf("scan edge node: %w", err), "listing the nodes failed")
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge nodes: %w", err), "listing the nodes failed")
	}
	return out, nil
}

// DeleteNode implements edge.Store. The inventory goes by cascade too; it
// is deleted explicitly so that a database without foreign keys enforced
// keeps no orphan.
func (e *EdgeStore) DeleteNode(ctx context.Context, id string) error {
	tx, err := e.s.db.BeginTx(ctx, nil)
	if err != nil {
		return ims.Internal(fmt.Errorf("begin: %w", err), "deleting the node failed")
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, e.s.rebind(`DELETE FROM edge_inventories WHERE node_id = ?`), id); err != nil {
		return ims.Internal(fmt.Errorf("delete edge inventory: %w", err), "deleting the node failed")
	}
	res, err := tx.ExecContext(ctx, e.s.rebind(`DELETE FROM edge_nodes WHERE id = ?`), id)
	if err != nil {
		return ims.Internal(fmt.Errorf("delete edge node: %w", err), "deleting the node failed")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return ims.Internal(fmt.Errorf("delete edge node: %w", err), "deleting the node failed")
	}
	if n == 0 {
		return ims.Errorf(ims.ENOTFOUND, "node %s not found", id)
	}
	if err := tx.Commit(); err != nil {
		return ims.Internal(fmt.Errorf("commit: %w", err), "deleting the node failed")
	}
	return nil
}

// PutInventory implements edge.Store. A node deleted meanwhile fails the
// foreign key, which is the same ENOTFOUND.
func (e *EdgeStore) PutInventory(ctx context.Context, nodeID string, inv edge.StoredInventory) error {
	notFound := ims.Errorf(ims.ENOTFOUND, "node %s not found", nodeID)
	var one int
	err := e.s.db.QueryRowContext(ctx, e.s.rebind(`SELECT 1 FROM edge_nodes WHERE id = ?`), nodeID).Scan(&one)
	switch {
	case isNoRows(err):
		return notFound
	case err != nil:
		return ims.Internal(fmt.Errorf("read edge node: %w", err), "storing the inventory failed")
	}
	_, err = e.s.db.ExecContext(ctx, e.s.rebind(`INSERT INTO edge_inventories (node_id, hash, document, received_at)
		VALUES (?, ?, `+e.jsonArg()+`, ?)
		ON CONFLICT (node_id) DO UPDATE SET hash = excluded.hash, document = excluded.document, received_at = excluded.received_at`),
		nodeID, inv.Hash, string(inv.Document), msOf(inv.ReceivedAt))
	switch {
	case err == nil:
		return nil
	case isForeignKeyViolation(err):
		return notFound
	default:
		return ims.Internal(fmt.Errorf("upsert edge inventory: %w", err), "storing the inventory failed")
	}
}

// Inventory implements edge.Store. On PostgreSQL the document comes back
// as JSONB writes it: equal as JSON, not byte for byte.
func (e *EdgeStore) Inventory(ctx context.Context, nodeID string) (edge.StoredInventory, error) {
	var (
		inv      edge.StoredInventory
		doc      []byte
		received int64
	)
	err := e.s.db.QueryRowContext(ctx, e.s.rebind(`SELECT hash, document, received_at FROM edge_inventories WHERE node_id = ?`), nodeID).
		Scan(&inv.Hash, &doc, &received)
	switch {
	case isNoRows(err):
		return edge.StoredInventory{}, ims.Errorf(ims.ENOTFOUND, "no inventory of node %s", nodeID)
	case err != nil:
		return edge.StoredInventory{}, ims.Internal(fmt.Errorf("read edge inventory: %w", err), "reading the inventory failed")
	}
	inv.Document = json.RawMessage(doc)
	inv.ReceivedAt = msTime(received)
	return inv, nil
}

// AddCertificate implements edge.Store.
func (e *EdgeStore) AddCertificate(ctx context.Context, c edge.IssuedCertificate) error {
	_, err := e.s.db.ExecContext(ctx, e.s.rebind(`INSERT INTO edge_certificates (serial, node_id, key_sha256, not_before, not_after, issued_at)
		VALUES (?, ?, ?, ?, ?, ?)`),
		c.Serial, c.NodeID, c.KeySHA256, msOf(c.NotBefore), msOf(c.NotAfter), msOf(c.IssuedAt))
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return ims.Errorf(ims.ECONFLICT, "certificate %s exists already", c.Serial)
	default:
		return ims.Internal(fmt.Errorf("insert edge certificate: %w", err), "recording the certificate failed")
	}
}

// Certificates implements edge.Store.
func (e *EdgeStore) Certificates(ctx context.Context, nodeID string) ([]edge.IssuedCertificate, error) {
	rows, err := e.s.db.QueryContext(ctx, e.s.rebind(`SELECT serial, node_id, key_sha256, not_before, not_after, issued_at
		FROM edge_certificates WHERE node_id = ? ORDER BY issued_at, serial`), nodeID)
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge certificates: %w", err), "listing the certificates failed")
	}
	defer rows.Close()
	var out []edge.IssuedCertificate
	for rows.Next() {
		var (
			c                         edge.IssuedCertificate
			notBefore, notAfter, when int64
		)
		if err := rows.Scan(&c.Serial, &c.NodeID, &c.KeySHA256, &notBefore, &notAfter, &when); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan edge certificate: %w", err), "listing the certificates failed")
		}
		c.NotBefore, c.NotAfter, c.IssuedAt = msTime(notBefore), msTime(notAfter), msTime(when)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge certificates: %w", err), "listing the certificates failed")
	}
	return out, nil
}

// Revoke implements edge.Store. A serial revoked again keeps the latest
// record, as in edge.MemoryStore; the batch is stored whole or not at all.
func (e *EdgeStore) Revoke(ctx context.Context, rs []edge.Revocation) error {
	if len(rs) == 0 {
		return nil
	}
	tx, err := e.s.db.BeginTx(ctx, nil)
	if err != nil {
		return ims.Internal(fmt.Errorf("begin: %w", err), "recording the revocations failed")
	}
	defer tx.Rollback() //nolint:errcheck
	stmt := e.s.rebind(`INSERT INTO edge_revocations (serial, node_id, revoked_at, not_after) VALUES (?, ?, ?, ?)
		ON CONFLICT (serial) DO UPDATE SET node_id = excluded.node_id, revoked_at = excluded.revoked_at, not_after = excluded.not_after`)
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, stmt, r.Serial, r.NodeID, msOf(r.RevokedAt), msOf(r.NotAfter)); err != nil {
			return ims.Internal(fmt.Errorf("upsert edge revocation: %w", err), "recording the revocations failed")
		}
	}
	if err := tx.Commit(); err != nil {
		return ims.Internal(fmt.Errorf("commit: %w", err), "recording the revocations failed")
	}
	return nil
}

// Revocations implements edge.Store.
func (e *EdgeStore) Revocations(ctx context.Context, now time.Time) ([]edge.Revocation, error) {
	rows, err := e.s.db.QueryContext(ctx, e.s.rebind(`SELECT serial, node_id, revoked_at, not_after
		FROM edge_revocations WHERE not_after > ? ORDER BY serial`), now.UnixMilli())
	if err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge revocations: %w", err), "listing the revocations failed")
	}
	defer rows.Close()
	var out []edge.Revocation
	for rows.Next() {
		var (
			r                edge.Revocation
			revoked, expires int64
		)
		if err := rows.Scan(&r.Serial, &r.NodeID, &revoked, &expires); err != nil {
			return nil, ims.Internal(fmt.Errorf("scan edge revocation: %w", err), "listing the revocations failed")
		}
		r.RevokedAt, r.NotAfter = msTime(revoked), msTime(expires)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, ims.Internal(fmt.Errorf("list edge revocations: %w", err), "listing the revocations failed")
	}
	return out, nil
}
