// Package testenv runs a real, local Kubernetes control plane for tests:
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from
// their Go modules, with kwok simulating nodes and the pods bound to them.
//
// No container engine is available where this project is tested, so kind and
// envtest's downloaded binaries are not options; hack/testenv/build.sh compiles
// the programs once into a cache directory (`make testenv`) and this package
// starts them as child processes on free loopback ports. A plane costs about
// 600 MB of memory and several seconds to start, so tests normally share one
// per test binary through Require.
//
// Tests that need Porch (Nephio R5's package orchestrator) ask for it with
// RequirePorch: only then are porch-server, its function runner and a
// loopback git server started on the shared plane, in about a second.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EnvBinDir names the environment variable holding the directory with the
// binaries built by hack/testenv/build.sh. The Makefile's test target sets it.
const EnvBinDir = "O2IMS_TESTENV_BIN"

// Binaries lists the files Start needs in Options.BinDir.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwok-stages.yaml"}

// Options configures Start.
type Options struct {
	// BinDir holds the binaries and kwok-stages.yaml. Empty means DefaultBinDir.
	BinDir string
	// Nodes is the number of kwok nodes to create, named kwok-node-0 and up,
	// each with 32 CPUs and 256Gi of memory. Start returns once they are Ready.
	Nodes int
	// Logf, when set, receives progress messages while Start and
	// StartAPIServer run, never afterwards, so t.Logf of the calling test may
	// be used.
	Logf func(format string, args ...any)
}

// Plane is a running control plane. Its fields describe how to reach the API
// server as a cluster administrator; treat them as read-only.
type Plane struct {
	// Dir is the plane's temporary directory, holding credentials, etcd's data
	// and one log file per process (<name>.log). Stop removes it.
	Dir string
	// Kubeconfig is the path of an admin kubeconfig file.
	Kubeconfig string
	// RESTConfigBytes is the content of that kubeconfig file, for clients that
	// load a configuration from memory (clientcmd.RESTConfigFromKubeConfig).
	RESTConfigBytes []byte
	// APIServerURL is the API server's base URL, https://127.0.0.1:<port>.
	APIServerURL string
	// Token is a bearer token of a member of system:masters.
	Token string
	// CAFile is the path of the PEM CA certificate that signed the API
	// server's serving certificate; CAData is its content.
	CAFile string
	CAData []byte

	opts      Options
	pki       *pki
	ports     ports
	client    *http.Client
	logf      func(format string, args ...any)
	mu        sync.Mutex // guards procs and stopped
	procs     map[string]*process
	order     []string // start order, for stopping in reverse
	apiArgs   []string
	stopped   bool
	stopOnce  sync.Once
	stopError error
	cleanups  []func() error // run by Stop after the processes are gone; guarded by mu

	porchMu  sync.Mutex // guards porch and porchErr, held while Porch starts
	porch    *Porch
	porchErr error
}

// ports are the loopback ports of one plane.
type ports struct {
	etcdClient, etcdPeer, apiserver, kcm, scheduler, kwok int
}

// DefaultBinDir returns $O2IMS_TESTENV_BIN or, when that is unset,
// ~/.cache/nephoran-o2ims/testenv/bin when it holds every binary (where
// `make testenv` builds them), else the .cache/testenv/bin directory of the
// enclosing repository, found by walking up from the working directory to
// the first go.mod. The fallbacks let a plain `go test ./internal/...` use
// binaries that `make testenv` built earlier.
func DefaultBinDir() string {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		return dir
	}
	// Where `make testenv` puts them (the Makefile's default).
	if home, err := os.UserHomeDir(); err == nil {
		dir := filepath.Join(home, ".cache", "nephoran-o2ims", "testenv", "bin")
		if len(MissingBinaries(dir)) == 0 {
			return dir
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "testenv", "bin")
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// MissingBinaries returns the names of the files from Binaries that are not
// in dir.
func MissingBinaries(dir string) []string {
	var missing []string
	for _, name := range Binaries {
		if dir == "" {
			missing = append(missing, name)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}

// Start runs a new control plane and returns once the API server is ready, the
// default ServiceAccount exists (so pods can be created), the controller
// manager, scheduler and kwok report healthy, and opts.Nodes nodes are Ready.
//
// ctx bounds only the startup; the processes keep running until Stop, so a
// plane can outlive the test that started it. On error everything started so
// far has been stopped and the temporary directory removed, and the error
// carries the last lines of the log of the process that failed.
func Start(ctx context.Context, opts Options) (*Plane, error) {
	if opts.BinDir == "" {
		opts.BinDir = DefaultBinDir()
	}
	if opts.BinDir != "" {
		// The children run in the plane's directory, where a relative path
		// would no longer name the binaries.
		abs, err := filepath.Abs(opts.BinDir)
		if err != nil {
			return nil, err
		}
		opts.BinDir = abs
	}
	if missing := MissingBinaries(opts.BinDir); len(missing) > 0 {
		return nil, fmt.Errorf("testenv: %s missing in %q; run `make testenv`", strings.Join(missing, ", "), opts.BinDir)
	}
	// Ports are chosen by binding port 0 and releasing it, so another program
	// can take one before our child binds it. That race is rare and shows up
	// as "address already in use"; trying again with new ports resolves it.
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var p *Plane
		p, err = start(ctx, opts)
		if err == nil {
			return p, nil
		}
		if !strings.Contains(err.Error(), "address already in use") || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

func start(ctx context.Context, opts Options) (_ *Plane, err error) {
	begin := time.Now()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &Plane{Dir: dir, opts: opts, logf: logf, procs: map[string]*process{}}
	defer func() {
		if err != nil {
			_ = p.Stop()
		}
	}()

	free, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	p.ports = ports{free[0], free[1], free[2], free[3], free[4], free[5]}
	if p.pki, err = newPKI(dir); err != nil {
		return nil, fmt.Errorf("testenv: credentials: %w", err)
	}
	p.APIServerURL = "https://127.0.0.1:" + strconv.Itoa(p.ports.apiserver)
	p.Token = p.pki.adminToken
	p.CAFile = p.pki.caFile
	p.CAData = p.pki.caPEM
	if p.client, err = newClient(p.CAData, p.Token); err != nil {
		return nil, err
	}
	p.RESTConfigBytes = kubeconfig(p.APIServerURL, p.CAData, "admin", p.Token)
	p.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	kubeconfigs := map[string][]byte{
		p.Kubeconfig:                               p.RESTConfigBytes,
		filepath.Join(dir, "kcm.kubeconfig"):       kubeconfig(p.APIServerURL, p.CAData, "kube-controller-manager", p.pki.kcmToken),
		filepath.Join(dir, "scheduler.kubeconfig"): kubeconfig(p.APIServerURL, p.CAData, "kube-scheduler", p.pki.schedToken),
		filepath.Join(dir, "kwok.kubeconfig"):      kubeconfig(p.APIServerURL, p.CAData, "kwok", p.pki.kwokToken),
	}
	for path, data := range kubeconfigs {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}

	if err := p.startEtcd(ctx); err != nil {
		return nil, err
	}
	logf("testenv: etcd ready after %v", time.Since(begin).Round(time.Millisecond))
	if err := p.StartAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := p.startControllers(ctx); err != nil {
		return nil, err
	}
	logf("testenv: controllers ready after %v", time.Since(begin).Round(time.Millisecond))

	for i := range opts.Nodes {
		name := fmt.Sprintf("kwok-node-%d", i)
		if err := p.CreateNode(ctx, name, nil, "32", "256Gi"); err != nil {
			return nil, err
		}
	}
	for i := range opts.Nodes {
		if err := p.WaitNodeReady(ctx, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return nil, p.procs["kwok"].describe(err)
		}
	}
	logf("testenv: plane at %s ready after %v (dir %s)", p.APIServerURL, time.Since(begin).Round(time.Millisecond), dir)
	return p, nil
}

func (p *Plane) bin(name string) string { return filepath.Join(p.opts.BinDir, name) }

func (p *Plane) launch(name string, args ...string) (*process, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, errors.New("testenv: plane is stopped")
	}
	proc, err := startProcess(p.Dir, name, p.bin(name), args...)
	if err != nil {
		return nil, err
	}
	if _, ok := p.procs[name]; !ok {
		p.order = append(p.order, name)
	}
	p.procs[name] = proc
	return proc, nil
}

func (p *Plane) startEtcd(ctx context.Context) error {
	client := "http://127.0.0.1:" + strconv.Itoa(p.ports.etcdClient)
	peer := "http://127.0.0.1:" + strconv.Itoa(p.ports.etcdPeer)
	proc, err := p.launch("etcd",
		"--name", "testenv",
		"--data-dir", filepath.Join(p.Dir, "etcd"),
		"--listen-client-urls", client,
		"--advertise-client-urls", client,
		// Without explicit peer URLs etcd binds every interface on 2380,
		// which collides between planes.
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "testenv="+peer,
		// The data is thrown away after the test; fsync only costs time on
		// a shared disk.
		"--unsafe-no-fsync",
		"--log-level", "warn",
	)
	if err != nil {
		return err
	}
	return waitHealthy(ctx, proc, http.DefaultClient, client+"/health", 30*time.Second)
}

// StartAPIServer starts kube-apiserver on the plane's port with the plane's
// certificates and waits for /readyz. Start calls it; tests call it again
// after StopAPIServer to bring the API back at the same URL, so clients built
// from Kubeconfig keep working.
func (p *Plane) StartAPIServer(ctx context.Context) error {
	begin := time.Now()
	p.mu.Lock()
	running := p.procs["kube-apiserver"] != nil && !p.procs["kube-apiserver"].exited()
	p.mu.Unlock()
	if running {
		return errors.New("testenv: kube-apiserver is already running")
	}
	if p.apiArgs == nil {
		p.apiArgs = []string{
			"--etcd-servers", "http://127.0.0.1:" + strconv.Itoa(p.ports.etcdClient),
			"--bind-address", "127.0.0.1",
			"--advertise-address", "127.0.0.1",
			"--secure-port", strconv.Itoa(p.ports.apiserver),
			"--tls-cert-file", p.pki.certFile,
			"--tls-private-key-file", p.pki.keyFile,
			"--client-ca-file", p.pki.caFile,
			// The front proxy, for aggregated API servers such as Porch
			// (StartPorch): kube-apiserver forwards a request with this
			// client certificate and the caller's identity in the
			// X-Remote-* headers. The CA and the allowed name are
			// published in kube-system/extension-apiserver-authentication,
			// where the aggregated server, the controller manager and the
			// scheduler read them (the latter two log errors every few
			// seconds while they are missing).
			"--requestheader-client-ca-file", p.pki.frontProxyCAFile,
			"--requestheader-allowed-names", frontProxyClientName,
			"--requestheader-username-headers", "X-Remote-User",
			"--requestheader-group-headers", "X-Remote-Group",
			"--requestheader-extra-headers-prefix", "X-Remote-Extra-",
			"--proxy-client-cert-file", p.pki.proxyClientCert,
			"--proxy-client-key-file", p.pki.proxyClientKeyFile,
			"--token-auth-file", p.pki.tokenFile,
			"--service-account-key-file", p.pki.saPubFile,
			"--service-account-signing-key-file", p.pki.saKeyFile,
			"--service-account-issuer", "https://kubernetes.default.svc",
			"--authorization-mode", "RBAC",
			"--service-cluster-ip-range", "10.96.0.0/24",
			// The default reconciler refuses a loopback advertise address and
			// exits; nothing here needs the kubernetes Endpoints kept.
			"--endpoint-reconciler-type", "none",
			"--cert-dir", filepath.Join(p.Dir, "apiserver-certs"),
		}
	}
	proc, err := p.launch("kube-apiserver", p.apiArgs...)
	if err != nil {
		return err
	}
	if err := waitHealthy(ctx, proc, p.client, p.APIServerURL+"/readyz", 90*time.Second); err != nil {
		return err
	}
	p.logf("testenv: kube-apiserver ready after %v", time.Since(begin).Round(time.Millisecond))
	return nil
}

// StopAPIServer stops kube-apiserver and waits until it has exited, leaving
// etcd, the controllers and kwok running: the situation of an O-Cloud whose
// API endpoint is down. StartAPIServer brings it back.
func (p *Plane) StopAPIServer() error {
	p.mu.Lock()
	proc := p.procs["kube-apiserver"]
	p.mu.Unlock()
	if proc == nil {
		return errors.New("testenv: kube-apiserver is not running")
	}
	// SIGKILL rather than SIGTERM: on SIGTERM kube-apiserver closes its port
	// within milliseconds but its process lingers for more than ten seconds,
	// which every provider-down test would pay. A crash is an equally good
	// "endpoint down", and all state lives in etcd anyway.
	if err := proc.stop(syscall.SIGKILL, 0); err != nil {
		return err
	}
	// Drop pooled connections so the next request dials afresh instead of
	// failing on a connection the server closed.
	p.client.CloseIdleConnections()
	return nil
}

func (p *Plane) startControllers(ctx context.Context) error {
	kcmKubeconfig := filepath.Join(p.Dir, "kcm.kubeconfig")
	kcm, err := p.launch("kube-controller-manager",
		"--kubeconfig", kcmKubeconfig,
		"--authentication-kubeconfig", kcmKubeconfig,
		"--authorization-kubeconfig", kcmKubeconfig,
		"--bind-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(p.ports.kcm),
		"--tls-cert-file", p.pki.certFile,
		"--tls-private-key-file", p.pki.keyFile,
		"--service-account-private-key-file", p.pki.saKeyFile,
		"--root-ca-file", p.pki.caFile,
		// Legacy token Secrets are not needed: pods get projected tokens.
		"--controllers", "*,-serviceaccount-token",
		"--leader-elect=false",
	)
	if err != nil {
		return err
	}
	schedKubeconfig := filepath.Join(p.Dir, "scheduler.kubeconfig")
	sched, err := p.launch("kube-scheduler",
		"--kubeconfig", schedKubeconfig,
		"--authentication-kubeconfig", schedKubeconfig,
		"--authorization-kubeconfig", schedKubeconfig,
		"--bind-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(p.ports.scheduler),
		"--tls-cert-file", p.pki.certFile,
		"--tls-private-key-file", p.pki.keyFile,
		"--leader-elect=false",
	)
	if err != nil {
		return err
	}
	kwokAddr := "127.0.0.1:" + strconv.Itoa(p.ports.kwok)
	kwok, err := p.launch("kwok",
		"--kubeconfig", filepath.Join(p.Dir, "kwok.kubeconfig"),
		"--config", p.bin("kwok-stages.yaml"),
		"--manage-all-nodes=true",
		"--server-address", kwokAddr,
	)
	if err != nil {
		return err
	}

	// The controllers serve /healthz without authentication on their secure
	// ports, with the certificate signed by the plane's CA.
	tlsClient, err := newClient(p.CAData, "")
	if err != nil {
		return err
	}
	checks := []struct {
		proc   *process
		client *http.Client
		url    string
	}{
		{kcm, tlsClient, "https://127.0.0.1:" + strconv.Itoa(p.ports.kcm) + "/healthz"},
		{sched, tlsClient, "https://127.0.0.1:" + strconv.Itoa(p.ports.scheduler) + "/healthz"},
		{kwok, http.DefaultClient, "http://" + kwokAddr + "/healthz"},
	}
	for _, c := range checks {
		if err := waitHealthy(ctx, c.proc, c.client, c.url, 60*time.Second); err != nil {
			return err
		}
	}
	// The ServiceAccount admission plugin rejects pods in a namespace until
	// the controller manager has created its "default" ServiceAccount.
	apiserver := p.procs["kube-apiserver"]
	for _, path := range []string{"/api/v1/namespaces/default", "/api/v1/namespaces/default/serviceaccounts/default"} {
		if err := p.waitExists(ctx, path, 60*time.Second); err != nil {
			return kcm.describe(fmt.Errorf("%w (kube-apiserver: %s)", err, lastLine(apiserver)))
		}
	}
	return nil
}

// Stop kills every process of the plane and removes its directory. It is safe
// to call more than once and on a plane whose Start failed; later calls return
// the first call's result. Processes are killed rather than asked to shut
// down, because their state is discarded anyway and a graceful kube-apiserver
// shutdown takes seconds.
func (p *Plane) Stop() error {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.stopped = true
		procs := make([]*process, 0, len(p.order))
		for i := len(p.order) - 1; i >= 0; i-- {
			procs = append(procs, p.procs[p.order[i]])
		}
		cleanups := p.cleanups
		p.mu.Unlock()
		var errs []error
		for _, proc := range procs {
			if err := proc.stop(syscall.SIGKILL, 0); err != nil {
				errs = append(errs, err)
			}
		}
		for _, f := range cleanups {
			if err := f(); err != nil {
				errs = append(errs, err)
			}
		}
		if p.client != nil {
			p.client.CloseIdleConnections()
		}
		if err := os.RemoveAll(p.Dir); err != nil {
			errs = append(errs, err)
		}
		p.stopError = errors.Join(errs...)
	})
	return p.stopError
}

const (
	dirPrefix = "o2ims-testenv-"
	ownerFile = "owner.pid" // pid of the test binary that created the directory
)

// removeStaleDirs deletes the directories of planes whose test binary has died
// without calling Stop, for example on a test timeout. Their processes are
// already gone (see spawner), but etcd's data and the logs would otherwise
// pile up in the temporary directory.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being created
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

// freePorts reserves n distinct loopback ports by binding them all at once,
// then releases them for the children to bind.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testenv: reserve port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitHealthy polls url until it answers 200, proc exits, ctx ends or timeout
// passes. Errors carry the tail of proc's log.
func waitHealthy(ctx context.Context, proc *process, client *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		if proc.exited() {
			return proc.describe(fmt.Errorf("exited while waiting for %s", url))
		}
		status, body, err := get(ctx, client, url)
		switch {
		case err == nil && status == http.StatusOK:
			return nil
		case err == nil:
			last = fmt.Sprintf("HTTP %d: %s", status, truncate(body, 2000))
		default:
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return proc.describe(fmt.Errorf("not healthy at %s: %w (last answer: %s)", url, ctx.Err(), last))
		case <-proc.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func lastLine(p *process) string {
	if p == nil {
		return ""
	}
	t := p.tail()
	if i := strings.LastIndexByte(t, '\n'); i >= 0 {
		return t[i+1:]
	}
	return t
}
