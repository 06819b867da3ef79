// Package edgetest holds the conformance cases every edge.Store must
// pass, shared by the in-memory and the SQL stores' tests.
package edgetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/ims"
)

// StoreConformance runs the behaviour every edge.Store must have against
// stores made by newStore, one fresh store per case, so that edge.MemoryStore
// and the SQL store are proven by the same cases. Times in the cases are
// whole milliseconds, the precision the SQL store keeps; times and JSON
// documents are compared by value, not by representation.
func StoreConformance(t *testing.T, newStore func(t *testing.T) edge.Store) {
	for _, tc := range storeCases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, context.Background(), newStore(t))
		})
	}
}

// confBase is the clock of the conformance cases.
var confBase = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func confAt(d time.Duration) time.Time { return confBase.Add(d) }

func confToken(id string, created time.Duration, maxUses int) edge.Token {
	return edge.Token{
		ID:           id,
		SecretSHA256: []byte("sha256-of-" + id),
		Pool:         "pool-" + id,
		Description:  "token " + id,
		CreatedAt:    confAt(created),
		ExpiresAt:    confAt(time.Hour),
		MaxUses:      maxUses,
	}
}

func confNode(id, name string) edge.Node {
	return edge.Node{
		ID:            id,
		Name:          name,
		Pool:          "pool-a",
		Site:          "site-a",
		State:         edge.NodeEnrolled,
		TokenID:       "tok001",
		KeySHA256:     "key-" + id,
		AgentVersion:  "1.2.3",
		Addresses:     []string{"10.0.0.1", "fd00::1"},
		RemoteAddress: "192.0.2.7:4431",
		CreatedAt:     confAt(time.Minute),
		EnrolledAt:    confAt(2 * time.Minute),
		LastHeartbeat: confAt(3*time.Minute + 7*time.Millisecond),
		LastSequence:  1<<40 + 3,
		Reachable:     true,
		CertSerial:    "serial-" + id,
		CertNotAfter:  confAt(24 * time.Hour),
		InventoryHash: "hash-" + id,
	}
}

// normalize makes values that are equal as stored compare equal with
// reflect.DeepEqual: times in UTC without a monotonic reading, JSON
// documents re-encoded.
func normalize(v any) any {
	switch x := v.(type) {
	case edge.Token:
		x.CreatedAt, x.ExpiresAt = confTime(x.CreatedAt), confTime(x.ExpiresAt)
		return x
	case []edge.Token:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case edge.Node:
		x.CreatedAt, x.EnrolledAt = confTime(x.CreatedAt), confTime(x.EnrolledAt)
		x.LastHeartbeat, x.CertNotAfter = confTime(x.LastHeartbeat), confTime(x.CertNotAfter)
		return x
	case []edge.Node:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case edge.StoredInventory:
		x.ReceivedAt = confTime(x.ReceivedAt)
		var doc any
		if err := json.Unmarshal(x.Document, &doc); err != nil {
			return fmt.Sprintf("invalid JSON %q: %v", x.Document, err)
		}
		x.Document, _ = json.Marshal(doc)
		return x
	case edge.IssuedCertificate:
		x.NotBefore, x.NotAfter, x.IssuedAt = confTime(x.NotBefore), confTime(x.NotAfter), confTime(x.IssuedAt)
		return x
	case []edge.IssuedCertificate:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case edge.Revocation:
		x.RevokedAt, x.NotAfter = confTime(x.RevokedAt), confTime(x.NotAfter)
		return x
	case []edge.Revocation:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	}
	return v
}

func confTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

func confEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := normalize(got), normalize(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

func confOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func confCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := ims.ErrorCode(err); err == nil || got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

var storeCases = []struct {
	name string
	run  func(t *testing.T, ctx context.Context, s edge.Store)
}{
	{"token round trip", func(t *testing.T, ctx context.Context, s edge.Store) {
		want := confToken("abc123", 0, 3)
		want.Uses = 1
		confOK(t, "create", s.CreateToken(ctx, want))
		got, err := s.Token(ctx, "abc123")
		confOK(t, "token", err)
		confEqual(t, "token", got, want)
	}},
	{"token duplicate id conflicts", func(t *testing.T, ctx context.Context, s edge.Store) {
		confOK(t, "create", s.CreateToken(ctx, confToken("abc123", 0, 1)))
		other := confToken("abc123", time.Second, 5)
		other.Pool = "other"
		confCode(t, "create again", s.CreateToken(ctx, other), ims.ECONFLICT)
		got, err := s.Token(ctx, "abc123")
		confOK(t, "token", err)
		confEqual(t, "token after conflict", got, confToken("abc123", 0, 1))
	}},
	{"token missing", func(t *testing.T, ctx context.Context, s edge.Store) {
		_, err := s.Token(ctx, "nope00")
		confCode(t, "token", err, ims.ENOTFOUND)
		_, err = s.UseToken(ctx, "nope00", confBase)
		confCode(t, "use", err, ims.ENOTFOUND)
		confCode(t, "delete", s.DeleteToken(ctx, "nope00"), ims.ENOTFOUND)
	}},
	{"tokens oldest first", func(t *testing.T, ctx context.Context, s edge.Store) {
		got, err := s.Tokens(ctx)
		confOK(t, "tokens of an empty store", err)
		if len(got) != 0 {
			t.Errorf("tokens of an empty store: %v", got)
		}
		c := confToken("ccc333", 2*time.Second, 1)
		b := confToken("bbb222", time.Second, 1)
		a2 := confToken("aaa222", time.Second, 1) // same time as b: by id
		a1 := confToken("aaa111", 3*time.Second, 1)
		for _, tok := range []edge.Token{c, b, a2, a1} {
			confOK(t, "create "+tok.ID, s.CreateToken(ctx, tok))
		}
		got, err = s.Tokens(ctx)
		confOK(t, "tokens", err)
		confEqual(t, "tokens", got, []edge.Token{a2, b, c, a1})
	}},
	{"use token counts uses", func(t *testing.T, ctx context.Context, s edge.Store) {
		confOK(t, "create", s.CreateToken(ctx, confToken("abc123", 0, 2)))
		for i := 1; i <= 2; i++ {
			got, err := s.UseToken(ctx, "abc123", confAt(time.Minute))
			confOK(t, "use", err)
			want := confToken("abc123", 0, 2)
			want.Uses = i
			confEqual(t, fmt.Sprintf("use %d returns", i), got, want)
		}
		_, err := s.UseToken(ctx, "abc123", confAt(time.Minute))
		confCode(t, "third use", err, ims.EUNAUTHENTICATED)
		got, err := s.Token(ctx, "abc123")
		confOK(t, "token", err)
		if got.Uses != 2 {
			t.Errorf("uses after a refused use = %d, want 2", got.Uses)
		}
	}},
	{"use token expired", func(t *testing.T, ctx context.Context, s edge.Store) {
		tok := confToken("abc123", 0, 5)
		confOK(t, "create", s.CreateToken(ctx, tok))
		_, err := s.UseToken(ctx, "abc123", tok.ExpiresAt.Add(-time.Millisecond))
		confOK(t, "use a millisecond before expiry", err)
		_, err = s.UseToken(ctx, "abc123", tok.ExpiresAt)
		confCode(t, "use at expiry", err, ims.EUNAUTHENTICATED)
		_, err = s.UseToken(ctx, "abc123", tok.ExpiresAt.Add(time.Hour))
		confCode(t, "use after expiry", err, ims.EUNAUTHENTICATED)
		got, err := s.Token(ctx, "abc123")
		confOK(t, "token", err)
		if got.Uses != 1 {
			t.Errorf("uses = %d, want 1", got.Uses)
		}
	}},
	{"use token zero uses", func(t *testing.T, ctx context.Context, s edge.Store) {
		confOK(t, "create", s.CreateToken(ctx, confToken("abc123", 0, 0)))
		_, err := s.UseToken(ctx, "abc123", confBase)
		confCode(t, "use", err, ims.EUNAUTHENTICATED)
	}},
	{"use token concurrently", func(t *testing.T, ctx context.Context, s edge.Store) {
		const allowed, tries = 3, 16
		confOK(t, "create", s.CreateToken(ctx, confToken("abc123", 0, allowed)))
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			ok       int
			seen     = map[int]bool{}
			refused  int
			failures []error
		)
		start := make(chan struct{})
		for range tries {
			wg.Go(func() {
				<-start
				got, err := s.UseToken(ctx, "abc123", confAt(time.Minute))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
					seen[got.Uses] = true
				case ims.ErrorCode(err) == ims.EUNAUTHENTICATED:
					refused++
				default:
					failures = append(failures, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("unexpected errors: %v", failures)
		}
		if ok != allowed || refused != tries-allowed {
			t.Errorf("%d uses succeeded and %d were refused, want %d and %d", ok, refused, allowed, tries-allowed)
		}
		for i := 1; i <= allowed; i++ {
			if !seen[i] {
				t.Errorf("no use returned the token with %d uses (saw %v)", i, seen)
			}
		}
		got, err := s.Token(ctx, "abc123")
		confOK(t, "token", err)
		if got.Uses != allowed {
			t.Errorf("uses = %d, want %d", got.Uses, allowed)
		}
	}},
	{"delete token", func(t *testing.T, ctx context.Context, s edge.Store) {
		confOK(t, "create a", s.CreateToken(ctx, confToken("aaa111", 0, 1)))
		confOK(t, "create b", s.CreateToken(ctx, confToken("bbb222", 0, 1)))
		confOK(t, "delete", s.DeleteToken(ctx, "aaa111"))
		_, err := s.Token(ctx, "aaa111")
		confCode(t, "deleted token", err, ims.ENOTFOUND)
		_, err = s.UseToken(ctx, "aaa111", confBase)
		confCode(t, "use deleted token", err, ims.ENOTFOUND)
		confCode(t, "delete again", s.DeleteToken(ctx, "aaa111"), ims.ENOTFOUND)
		got, err := s.Tokens(ctx)
		confOK(t, "tokens", err)
		confEqual(t, "tokens", got, []edge.Token{confToken("bbb222", 0, 1)})
	}},
	{"node round trip", func(t *testing.T, ctx context.Context, s edge.Store) {
		want := confNode("n1", "edge-1")
		confOK(t, "put", s.PutNode(ctx, want))
		got, err := s.Node(ctx, "n1")
		confOK(t, "node", err)
		confEqual(t, "node", got, want)
		got, err = s.NodeByName(ctx, "edge-1")
		confOK(t, "node by name", err)
		confEqual(t, "node by name", got, want)
	}},
	{"node zero values", func(t *testing.T, ctx context.Context, s edge.Store) {
		// A pending enrolment: no times but creation, no addresses, no
		// certificate.
		want := edge.Node{ID: "n1", Name: "edge-1", State: edge.NodePending, CreatedAt: confBase}
		confOK(t, "put", s.PutNode(ctx, want))
		got, err := s.Node(ctx, "n1")
		confOK(t, "node", err)
		confEqual(t, "node", got, want)
		want.Addresses = []string{}
		confOK(t, "put with empty addresses", s.PutNode(ctx, want))
		got, err = s.Node(ctx, "n1")
		confOK(t, "node", err)
		if got.Addresses == nil || len(got.Addresses) != 0 {
			t.Errorf("addresses = %#v, want empty", got.Addresses)
		}
	}},
	{"node replace", func(t *testing.T, ctx context.Context, s edge.Store) {
		confOK(t, "put", s.PutNode(ctx, confNode("n1", "edge-1")))
		want := confNode("n1", "edge-renamed")
		want.State, want.Reachable, want.LastSequence = edge.NodeApproved, false, 9
		want.Addresses = []string{"10.0.0.9"}
		confOK(t, "replace", s.PutNode(ctx, want))
		got, err := s.Node(ctx, "n1")
		confOK(t, "node", err)
		confEqual(t, "node", got, want)
		_, err = s.NodeByName(ctx, "edge-1")
		confCode(t, "old name", err, ims.ENOTFOUND)
		nodes, err := s.Nodes(ctx)
		confOK(t, "nodes", err)
		confEqual(t, "nodes", nodes, []edge.Node{want})
	}},
	{"node name conflict", func(t *testing.T, ctx context.Context, s edge.Store) {
		first := confNode("n1", "edge-1")
		confOK(t, "put", s.PutNode(ctx, first))
		confCode(t, "another node with the name", s.PutNode(ctx, confNode("n2", "edge-1")), ims.ECONFLICT)
		_, err := s.Node(ctx, "n2")
		confCode(t, "refused node", err, ims.ENOTFOUND)
		confOK(t, "second node", s.PutNode(ctx, confNode("n2", "edge-2")))
		confCode(t, "rename onto the first", s.PutNode(ctx, confNode("n2", "edge-1")), ims.ECONFLICT)
		got, err := s.NodeByName(ctx, "edge-1")
		confOK(t, "node by name", err)
		confEqual(t, "owner of the name", got, first)
	}},
	{"node missing", func(t *testing.T, ctx context.Context, s edge.Store) {
		_, err := s.Node(ctx, "n1")
		confCode(t, "node", err, ims.ENOTFOUND)
		_, err = s.NodeByName(ctx, "edge-1")
		confCode(t, "node by name", err, ims.ENOTFOUND)
		confCode(t, "delete", s.DeleteNode(ctx, "n1"), ims.ENOTFOUND)
	}},
	{"nodes by name", func(t *testing.T, ctx context.Context, s edge.Store) {
		got, err := s.Nodes(ctx)
		confOK(t, "nodes of an empty store", err)
		if len(got) != 0 {
			t.Errorf("nodes of an empty store: %v", got)
		}
		// Byte order: upper case before lower case, "edge-10" before "edge-2".
		b := confNode("n1", "edge-2")
		a := confNode("n2", "edge-10")
		c := confNode("n3", "edge-a")
		up := confNode("n4", "Edge-z")
		pending := edge.Node{ID: "n5", Name: "edge-1", State: edge.NodePending}
		for _, n := range []edge.Node{b, a, c, up, pending} {
			confOK(t, "put "+n.ID, s.PutNode(ctx, n))
		}
		got, err = s.Nodes(ctx)
		confOK(t, "nodes", err)
		confEqual(t, "nodes", got, []edge.Node{up, pending, a, b, c})
	}},
	{"delete node", func(t *testing.T, ctx context.Context, s edge.Store) {
		confOK(t, "put n1", s.PutNode(ctx, confNode("n1", "edge-1")))
		confOK(t, "put n2", s.PutNode(ctx, confNode("n2", "edge-2")))
		inv := edge.StoredInventory{Hash: "h1", Document: json.RawMessage(`{"cpus":4}`), ReceivedAt: confBase}
		confOK(t, "inventory n1", s.PutInventory(ctx, "n1", inv))
		confOK(t, "inventory n2", s.PutInventory(ctx, "n2", inv))
		cert := edge.IssuedCertificate{Serial: "01", NodeID: "n1", KeySHA256: "k", NotBefore: confBase, NotAfter: confAt(time.Hour), IssuedAt: confBase}
		confOK(t, "certificate", s.AddCertificate(ctx, cert))
		rev := edge.Revocation{Serial: "01", NodeID: "n1", RevokedAt: confBase, NotAfter: confAt(time.Hour)}
		confOK(t, "revoke", s.Revoke(ctx, []edge.Revocation{rev}))

		confOK(t, "delete", s.DeleteNode(ctx, "n1"))
		_, err := s.Node(ctx, "n1")
		confCode(t, "deleted node", err, ims.ENOTFOUND)
		_, err = s.NodeByName(ctx, "edge-1")
		confCode(t, "deleted node by name", err, ims.ENOTFOUND)
		_, err = s.Inventory(ctx, "n1")
		confCode(t, "deleted node's inventory", err, ims.ENOTFOUND)
		_, err = s.Inventory(ctx, "n2")
		confOK(t, "other node's inventory", err)
		certs, err := s.Certificates(ctx, "n1")
		confOK(t, "certificates", err)
		confEqual(t, "certificates kept", certs, []edge.IssuedCertificate{cert})
		revs, err := s.Revocations(ctx, confBase)
		confOK(t, "revocations", err)
		confEqual(t, "revocations kept", revs, []edge.Revocation{rev})
		confCode(t, "delete again", s.DeleteNode(ctx, "n1"), ims.ENOTFOUND)
		// The name is free again.
		confOK(t, "reuse name", s.PutNode(ctx, confNode("n3", "edge-1")))
		_, err = s.Inventory(ctx, "n3")
		confCode(t, "new node's inventory", err, ims.ENOTFOUND)
	}},
	{"inventory", func(t *testing.T, ctx context.Context, s edge.Store) {
		inv := edge.StoredInventory{Hash: "h1", Document: json.RawMessage(`{"cpus":4,"disks":[{"size":100}]}`), ReceivedAt: confBase}
		confCode(t, "inventory of a missing node", s.PutInventory(ctx, "n1", inv), ims.ENOTFOUND)
		confOK(t, "put node", s.PutNode(ctx, confNode("n1", "edge-1")))
		_, err := s.Inventory(ctx, "n1")
		confCode(t, "no inventory yet", err, ims.ENOTFOUND)
		confOK(t, "put", s.PutInventory(ctx, "n1", inv))
		got, err := s.Inventory(ctx, "n1")
		confOK(t, "inventory", err)
		confEqual(t, "inventory", got, inv)
		next := edge.StoredInventory{Hash: "h2", Document: json.RawMessage(`{"cpus": 8, "name": "é\u00e9"}`), ReceivedAt: confAt(time.Minute)}
		confOK(t, "replace", s.PutInventory(ctx, "n1", next))
		got, err = s.Inventory(ctx, "n1")
		confOK(t, "inventory", err)
		confEqual(t, "latest inventory", got, next)
		// Replacing the node keeps its inventory.
		n := confNode("n1", "edge-1")
		n.LastSequence++
		confOK(t, "replace node", s.PutNode(ctx, n))
		got, err = s.Inventory(ctx, "n1")
		confOK(t, "inventory after replacing the node", err)
		confEqual(t, "inventory after replacing the node", got, next)
	}},
	{"certificates", func(t *testing.T, ctx context.Context, s edge.Store) {
		got, err := s.Certificates(ctx, "n1")
		confOK(t, "certificates of an unknown node", err)
		if len(got) != 0 {
			t.Errorf("certificates of an unknown node: %v", got)
		}
		cert := func(serial, node string, issued time.Duration) edge.IssuedCertificate {
			return edge.IssuedCertificate{Serial: serial, NodeID: node, KeySHA256: "key-" + serial,
				NotBefore: confAt(issued - time.Minute), NotAfter: confAt(issued + 24*time.Hour), IssuedAt: confAt(issued)}
		}
		c1, c2, c3, other := cert("0a", "n1", 2*time.Hour), cert("0b", "n1", time.Hour), cert("0c", "n1", 3*time.Hour), cert("0d", "n2", 0)
		for _, c := range []edge.IssuedCertificate{c1, c2, c3, other} {
			confOK(t, "add "+c.Serial, s.AddCertificate(ctx, c))
		}
		dup := cert("0a", "n2", 5*time.Hour)
		confCode(t, "duplicate serial", s.AddCertificate(ctx, dup), ims.ECONFLICT)
		got, err = s.Certificates(ctx, "n1")
		confOK(t, "certificates", err)
		confEqual(t, "certificates of n1, by issue time", got, []edge.IssuedCertificate{c2, c1, c3})
		got, err = s.Certificates(ctx, "n2")
		confOK(t, "certificates", err)
		confEqual(t, "certificates of n2", got, []edge.IssuedCertificate{other})
	}},
	{"revocations", func(t *testing.T, ctx context.Context, s edge.Store) {
		got, err := s.Revocations(ctx, confBase)
		confOK(t, "revocations of an empty store", err)
		if len(got) != 0 {
			t.Errorf("revocations of an empty store: %v", got)
		}
		confOK(t, "revoke nothing", s.Revoke(ctx, nil))
		rev := func(serial string, notAfter time.Duration) edge.Revocation {
			return edge.Revocation{Serial: serial, NodeID: "node-" + serial, RevokedAt: confBase, NotAfter: confAt(notAfter)}
		}
		r3, r1, r2, expired := rev("03", 2*time.Hour), rev("01", time.Hour), rev("02", 3*time.Hour), rev("00", -time.Second)
		confOK(t, "revoke", s.Revoke(ctx, []edge.Revocation{r3, r1, expired}))
		confOK(t, "revoke more", s.Revoke(ctx, []edge.Revocation{r2}))
		got, err = s.Revocations(ctx, confBase)
		confOK(t, "revocations", err)
		confEqual(t, "revocations by serial", got, []edge.Revocation{r1, r2, r3})
		got, err = s.Revocations(ctx, confAt(time.Hour))
		confOK(t, "revocations", err)
		confEqual(t, "revocations at r1's expiry", got, []edge.Revocation{r2, r3})
		got, err = s.Revocations(ctx, confAt(-time.Hour))
		confOK(t, "revocations", err)
		confEqual(t, "revocations an hour ago", got, []edge.Revocation{expired, r1, r2, r3})
		// Revoking a serial again keeps the latest record.
		again := rev("01", 5*time.Hour)
		again.RevokedAt = confAt(time.Minute)
		confOK(t, "revoke again", s.Revoke(ctx, []edge.Revocation{again}))
		got, err = s.Revocations(ctx, confAt(4*time.Hour))
		confOK(t, "revocations", err)
		confEqual(t, "revocations after revoking again", got, []edge.Revocation{again})
	}},
}
