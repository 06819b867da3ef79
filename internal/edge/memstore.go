package edge

import (
	"bytes"
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

// MemoryStore is a Store in memory, for tests and for servers that accept
// losing their edge state on restart. It is safe for concurrent use.
type MemoryStore struct {
	mu          sync.Mutex
	tokens      map[string]Token
	nodes       map[string]Node
	inventories map[string]StoredInventory
	certs       map[string]IssuedCertificate
	revoked     map[string]Revocation
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		tokens:      map[string]Token{},
		nodes:       map[string]Node{},
		inventories: map[string]StoredInventory{},
		certs:       map[string]IssuedCertificate{},
		revoked:     map[string]Revocation{},
	}
}

func cloneToken(t Token) Token {
	t.SecretSHA256 = bytes.Clone(t.SecretSHA256)
	return t
}

func cloneNode(n Node) Node {
	n.Addresses = slices.Clone(n.Addresses)
	return n
}

// CreateToken implements Store.
func (m *MemoryStore) CreateToken(_ context.Context, t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tokens[t.ID]; ok {
		return ims.Errorf(ims.ECONFLICT, "token %s exists already", t.ID)
	}
	m.tokens[t.ID] = cloneToken(t)
	return nil
}

// Token implements Store.
func (m *MemoryStore) Token(_ context.Context, id string) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[id]
	if !ok {
		return Token{}, ims.Errorf(ims.ENOTFOUND, "token %s not found", id)
	}
	return cloneToken(t), nil
}

// Tokens implements Store.
func (m *MemoryStore) Tokens(context.Context) ([]Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Token, 0, len(m.tokens))
	for _, t := range m.tokens {
		out = append(out, cloneToken(t))
	}
	slices.SortFunc(out, func(a, b Token) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UseToken implements Store.
func (m *MemoryStore) UseToken(_ context.Context, id string, now time.Time) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[id]
	switch {
	case !ok:
		return Token{}, ims.Errorf(ims.ENOTFOUND, "token %s not found", id)
	case !now.Before(t.ExpiresAt):
		return Token{}, errTokenExpired
	case t.Uses >= t.MaxUses:
		return Token{}, errTokenUsedUp
	}
	t.Uses++
	m.tokens[id] = t
	return cloneToken(t), nil
}

// DeleteToken implements Store.
func (m *MemoryStore) DeleteToken(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tokens[id]; !ok {
		return ims.Errorf(ims.ENOTFOUND, "token %s not found", id)
	}
	delete(m.tokens, id)
	return nil
}

// PutNode implements Store.
func (m *MemoryStore) PutNode(_ context.Context, n Node) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, other := range m.nodes {
		if other.Name == n.Name && other.ID != n.ID {
			return ims.Errorf(ims.ECONFLICT, "a node named %s exists already", n.Name)
		}
	}
	m.nodes[n.ID] = cloneNode(n)
	return nil
}

// Node implements Store.
func (m *MemoryStore) Node(_ context.Context, id string) (Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.nodes[id]
	if !ok {
		return Node{}, ims.Errorf(ims.ENOTFOUND, "node %s not found", id)
	}
	return cloneNode(n), nil
}

// NodeByName implements Store.
func (m *MemoryStore) NodeByName(_ context.Context, name string) (Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.nodes {
		if n.Name == name {
			return cloneNode(n), nil
		}
	}
	return Node{}, ims.Errorf(ims.ENOTFOUND, "node %s not found", name)
}

// Nodes implements Store.
func (m *MemoryStore) Nodes(context.Context) ([]Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Node, 0, len(m.nodes))
	for _, n := range m.nodes {
		out = append(out, cloneNode(n))
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteNode implements Store.
func (m *MemoryStore) DeleteNode(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.nodes[id]; !ok {
		return ims.Errorf(ims.ENOTFOUND, "node %s not found", id)
	}
	delete(m.nodes, id)
	delete(m.inventories, id)
	return nil
}

// PutInventory implements Store.
func (m *MemoryStore) PutInventory(_ context.Context, nodeID string, inv StoredInventory) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.nodes[nodeID]; !ok {
		return ims.Errorf(ims.ENOTFOUND, "node %s not found", nodeID)
	}
	inv.Document = bytes.Clone(inv.Document)
	m.inventories[nodeID] = inv
	return nil
}

// Inventory implements Store.
func (m *MemoryStore) Inventory(_ context.Context, nodeID string) (StoredInventory, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.inventories[nodeID]
	if !ok {
		return StoredInventory{}, ims.Errorf(ims.ENOTFOUND, "no inventory of node %s", nodeID)
	}
	inv.Document = bytes.Clone(inv.Document)
	return inv, nil
}

// AddCertificate implements Store.
func (m *MemoryStore) AddCertificate(_ context.Context, c IssuedCertificate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.certs[c.Serial]; ok {
		return ims.Errorf(ims.ECONFLICT, "certificate %s exists already", c.Serial)
	}
	m.certs[c.Serial] = c
	return nil
}

// Certificates implements Store.
func (m *MemoryStore) Certificates(_ context.Context, nodeID string) ([]IssuedCertificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []IssuedCertificate
	for _, c := range m.certs {
		if c.NodeID == nodeID {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b IssuedCertificate) int { return a.IssuedAt.Compare(b.IssuedAt) })
	return out, nil
}

// Revoke implements Store.
func (m *MemoryStore) Revoke(_ context.Context, rs []Revocation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.revoked[r.Serial] = r
	}
	return nil
}

// Revocations implements Store.
func (m *MemoryStore) Revocations(_ context.Context, now time.Time) ([]Revocation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Revocation
	for _, k := range slices.Sorted(maps.Keys(m.revoked)) {
		if r := m.revoked[k]; now.Before(r.NotAfter) {
			out = append(out, r)
		}
	}
	return out, nil
}
