package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/edge"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider/local/localtest"
)

// Paths inside the local provider's test machine.
const (
	eno1Dir   = localtest.Eno1 + "net/eno1/"
	enp2s0Dir = localtest.Enp2s0 + "net/enp2s0/"
	sdaDevDir = localtest.SCSI
	sdaSize   = sdaDevDir + "block/sda/size"
	nvmeDir   = localtest.NVMe
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newMachine builds the local provider's test machine and gives it
// identities of its own (machine-id, serials, MACs, WWIDs) from n, so
// that the nodes of one test differ.
func newMachine(t *testing.T, n int) string {
	t.Helper()
	root := localtest.Machine(t)
	for path, content := range map[string]string{
		"etc/machine-id":                   fmt.Sprintf("%032x", 0xed9e0000+n),
		"sys/class/dmi/id/product_serial":  fmt.Sprintf("EDGE-%04d", n),
		"sys/class/dmi/id/product_uuid":    fmt.Sprintf("4c4c4544-0000-1000-8000-%012x", n),
		eno1Dir + "address":                fmt.Sprintf("3c:ec:ef:10:00:%02x", n),
		enp2s0Dir + "address":              fmt.Sprintf("3c:ec:ef:20:00:%02x", n),
		sdaDevDir + "wwid":                 fmt.Sprintf("naa.50000000000%05d", n),
		nvmeDir + "serial":                 fmt.Sprintf("S6EDGE%04d", n),
		"proc/sys/kernel/hostname":         fmt.Sprintf("edge-%d", n),
		"sys/class/dmi/id/product_version": "1",
		"sys/class/dmi/id/sys_vendor":      "Acme",
		"sys/class/dmi/id/product_name":    "Edge Box",
	} {
		writeFile(t, filepath.Join(root, path), content)
	}
	return root
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// events records what the server's observer is told.
type events struct {
	mu   sync.Mutex
	list []string
	ch   chan string
}

func newEvents() *events { return &events{ch: make(chan string, 100)} }

func (e *events) add(s string) {
	e.mu.Lock()
	e.list = append(e.list, s)
	e.mu.Unlock()
	e.ch <- s
}

func (e *events) Unreachable(_ context.Context, n edge.Node) { e.add("unreachable " + n.Name) }
func (e *events) Reachable(_ context.Context, n edge.Node)   { e.add("reachable " + n.Name) }
func (e *events) Deleted(_ context.Context, n edge.Node)     { e.add("deleted " + n.Name) }

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// wait returns how long it took for want to be observed.
func (e *events) wait(t *testing.T, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(timeout)
	for {
		select {
		case got := <-e.ch:
			if got == want {
				return time.Since(start)
			}
		case <-deadline:
			t.Fatalf("%q not observed within %v; events: %v", want, timeout, e.all())
		}
	}
}

// testServer is the edge service behind its real TLS configuration on a
// loopback port, with the lease watcher running.
type testServer struct {
	t      *testing.T
	opts   edge.Options
	caDir  string
	store  *edge.MemoryStore
	events *events

	svc    *edge.Service
	srv    *httptest.Server
	url    string
	cancel context.CancelFunc
	done   chan struct{}
}

func newTestServer(t *testing.T, opts edge.Options) *testServer {
	t.Helper()
	ts := &testServer{t: t, opts: opts, caDir: filepath.Join(t.TempDir(), "edge-ca"), store: edge.NewMemoryStore(), events: newEvents()}
	ts.opts.Observer = ts.events
	ts.start("127.0.0.1:0")
	t.Cleanup(ts.stop)
	return ts
}

// start opens the CA and the service and serves them on addr.
func (ts *testServer) start(addr string) {
	t := ts.t
	ca, err := edge.OpenCA(edge.CAOptions{Dir: ts.caDir, ServerHosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := edge.Open(context.Background(), ts.opts, ts.store, ca, testLogger(t).With("side", "server"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: svc.Handler(), ErrorLog: log.New(t.Output(), "http server: ", 0)}}
	srv.TLS = svc.TLSConfig()
	srv.StartTLS()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	ts.svc, ts.srv, ts.url, ts.cancel, ts.done = svc, srv, srv.URL, cancel, done
}

func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ts.srv.CloseClientConnections()
	ts.srv.Close()
	ts.cancel()
	<-ts.done
	ts.srv = nil
}

// restart stops the server and, after outage, starts a new process's
// worth of it (service, CA loaded from its directory) on the same address
// over the same store.
func (ts *testServer) restart(outage time.Duration) {
	addr := ts.srv.Listener.Addr().String()
	ts.stop()
	time.Sleep(outage)
	ts.start(addr)
}

func (ts *testServer) token(pool string, ttl time.Duration, uses int) edge.NewToken {
	ts.t.Helper()
	tok, err := ts.svc.CreateToken(context.Background(), pool, ttl, uses, "test")
	if err != nil {
		ts.t.Fatal(err)
	}
	return tok
}

func (ts *testServer) node(name string) (edge.Node, error) {
	return ts.svc.Node(context.Background(), name)
}

func (ts *testServer) snapshot() ims.Snapshot {
	ts.t.Helper()
	snap, err := ts.svc.Provider(edge.ProviderOptions{}).Discover(context.Background())
	if err != nil {
		ts.t.Fatal(err)
	}
	return snap
}

// agentOptions are the options of an agent of node name on machine root.
func (ts *testServer) agentOptions(name, root, token, pool string) Options {
	return Options{
		Server: ts.url, BootstrapToken: token, CAHash: ts.svc.CAHash(),
		NodeName: name, Pool: pool, Site: "site-" + pool, Root: root,
		StateDir: filepath.Join(ts.t.TempDir(), "state"), Version: "1.0.0-test",
		Addresses:      []string{"10.10.0.1"},
		RequestTimeout: 5 * time.Second, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}
}

// runningAgent is an agent whose Run is in a goroutine.
type runningAgent struct {
	*Agent
	opts   Options
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, with err set
	err    error
}

func startAgent(t *testing.T, opts Options) *runningAgent {
	t.Helper()
	a, err := New(opts, testLogger(t).With("side", "agent"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{Agent: a, opts: opts, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ra.done)
		ra.err = a.Run(ctx)
	}()
	t.Cleanup(func() { _ = ra.stop() })
	return ra
}

// stop ends Run and returns what it returned.
func (ra *runningAgent) stop() error {
	ra.cancel()
	<-ra.done
	return ra.err
}

// ended waits up to timeout for Run to return by itself.
func (ra *runningAgent) ended(timeout time.Duration) (error, bool) {
	select {
	case <-ra.done:
		return ra.err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// runToEnd runs an agent that is expected to give up, and returns its error.
func runToEnd(t *testing.T, opts Options) error {
	t.Helper()
	a, err := New(opts, testLogger(t).With("side", "agent"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("the agent did not give up: %v", err)
	}
	return err
}

// eventually retries check until it succeeds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stateClient is an HTTPS client holding the identity an agent keeps in
// its state directory: what a thief of that directory would have.
func stateClient(t *testing.T, stateDir string) *http.Client {
	t.Helper()
	id, err := os.ReadFile(filepath.Join(stateDir, identityFile))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(id, id)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(stateDir, caFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA in the state directory")
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}}}
}

var errNotYet = errors.New("not yet")
