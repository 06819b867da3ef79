package edge

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newTestCA(t *testing.T) *CA {
	t.Helper()
	ca, err := OpenCA(CAOptions{Dir: filepath.Join(t.TempDir(), "edge-ca"), ServerHosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func newTestService(t *testing.T, opts Options) (*Service, *MemoryStore) {
	t.Helper()
	store := NewMemoryStore()
	svc, err := Open(context.Background(), opts, store, newTestCA(t), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// newCSR returns a PEM CSR with the given CN for a fresh P-256 key.
func newCSR(t *testing.T, cn string) (string, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return csrFor(t, cn, key), key
}

func csrFor(t *testing.T, cn string, key crypto.Signer) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func mustToken(t *testing.T, svc *Service, pool string, ttl time.Duration, uses int) NewToken {
	t.Helper()
	tok, err := svc.CreateToken(context.Background(), pool, ttl, uses, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testInventory is a small inventory: a host and one NIC.
func testInventory(hash string) *Inventory {
	return &Inventory{
		Hash: hash,
		ResourceTypes: []ims.ResourceType{
			{ResourceTypeID: "t-host", Name: "Server", Vendor: "Acme", Model: "X1", Version: "1", ResourceKind: ims.ResourceKindPhysical, ResourceClass: ims.ResourceClassCompute},
			{ResourceTypeID: "t-nic", Name: "NIC", Vendor: "0x8086", Model: "0x1572", ResourceKind: ims.ResourceKindPhysical, ResourceClass: ims.ResourceClassNetworking},
		},
		Resources: []ims.Resource{
			{ResourceID: "host", ResourceTypeID: "t-host", Description: "Host", Tags: []string{"host"}, Extensions: ims.Extensions{"hostname": "n", "powerState": "ON"}},
			{ResourceID: "nic0", ResourceTypeID: "t-nic", ParentID: "host", Description: "NIC eth0", Tags: []string{"nic"}, Extensions: ims.Extensions{"name": "eth0"}},
		},
	}
}

// enrol enrols a node directly through the Service.
func enrol(t *testing.T, svc *Service, token, name string) (EnrollResponse, crypto.Signer) {
	t.Helper()
	csr, key := newCSR(t, name)
	resp, err := svc.Enroll(context.Background(), token, EnrollRequest{NodeName: name, CSR: csr, Inventory: testInventory("h-" + name)}, "192.0.2.1")
	if err != nil {
		t.Fatalf("enrolling %s: %v", name, err)
	}
	return resp, key
}

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu     sync.Mutex
	events []string
	times  []time.Time
}

func (r *recorder) add(kind string, n Node) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%s %s", kind, n.Name))
	r.times = append(r.times, time.Now())
}

func (r *recorder) Unreachable(_ context.Context, n Node) { r.add("unreachable", n) }
func (r *recorder) Reachable(_ context.Context, n Node)   { r.add("reachable", n) }
func (r *recorder) Deleted(_ context.Context, n Node)     { r.add("deleted", n) }

func (r *recorder) snapshot() ([]string, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...), append([]time.Time(nil), r.times...)
}
