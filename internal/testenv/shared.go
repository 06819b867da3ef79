package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvRequired names the environment variable that, set to 1, turns a missing
// control plane into a test failure instead of a skip. CI does the same
// through its CI variable, so a broken `make testenv` cannot pass unnoticed.
const EnvRequired = "O2IMS_TESTENV_REQUIRED"

// sharedStartTimeout bounds the start of the shared plane. On a loaded
// two-core machine a start takes tens of seconds; three minutes means
// something is broken.
const sharedStartTimeout = 3 * time.Minute

// shared is the plane of this test binary. It is started on first use rather
// than in TestMain, so test binaries whose selected tests need no plane (go
// test -run) pay nothing.
var shared struct {
	mu      sync.Mutex
	started bool
	plane   *Plane
	err     error
}

// Shared returns the test binary's control plane, starting it on the first
// call; later calls, also from parallel tests, return the same plane, and a
// failed start fails every caller with the same error. The plane is stopped by
// Cleanup, which TestMain must call (Main does).
//
// Tests share cluster state, so they should use object names of their own. A
// test that stopped the API server and failed before restarting it does not
// break the tests after it: Shared restarts a stopped API server.
func Shared(t testing.TB) *Plane {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	if !shared.started {
		shared.started = true
		shared.plane, shared.err = Start(ctx, Options{Logf: t.Logf})
		if shared.err == nil {
			// t.Logf must not be called once t's test has ended, and the
			// plane outlives it.
			shared.plane.logf = func(string, ...any) {}
		}
	}
	if shared.err != nil {
		t.Fatalf("testenv: starting the shared control plane failed: %v", shared.err)
	}
	if shared.plane.apiServerStopped() {
		if err := shared.plane.StartAPIServer(ctx); err != nil {
			t.Fatalf("testenv: restarting the shared API server failed: %v", err)
		}
	}
	return shared.plane
}

// Require returns Shared(t) when the binaries built by `make testenv` are
// present. When they are missing it skips the test with a message saying how
// to build them, or fails it when the CI environment variable is set or
// O2IMS_TESTENV_REQUIRED=1, so that CI cannot silently skip these tests.
func Require(t testing.TB) *Plane {
	t.Helper()
	requireBinaries(t, MissingBinaries(DefaultBinDir()), "the local Kubernetes control plane")
	return Shared(t)
}

// requireBinaries skips the test when binaries built by `make testenv` are
// missing, saying how to build them (what), or fails it when the CI
// environment variable is set or O2IMS_TESTENV_REQUIRED=1, so that CI
// cannot silently skip these tests.
func requireBinaries(t testing.TB, missing []string, what string) {
	t.Helper()
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("testenv: %s not found in %q (set by $%s or <repo>/.cache/testenv/bin); run `make testenv` to build %s",
		strings.Join(missing, ", "), DefaultBinDir(), EnvBinDir, what)
	if os.Getenv("CI") != "" || os.Getenv(EnvRequired) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// porchStartTimeout bounds the start of Porch on the shared plane, which
// takes a few seconds.
const porchStartTimeout = 2 * time.Minute

// RequirePorch returns the shared plane with Porch running on it
// (Plane.StartPorch), starting both on first use; tests that do not call it
// never start Porch. When the binaries of `make testenv` are missing it
// skips or fails the test as Require does.
func RequirePorch(t testing.TB) (*Plane, *Porch) {
	t.Helper()
	requireBinaries(t, MissingPorchBinaries(DefaultBinDir()), "Porch and the local Kubernetes control plane")
	p := Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), porchStartTimeout)
	defer cancel()
	begin := time.Now()
	po, err := p.StartPorch(ctx)
	if err != nil {
		t.Fatalf("testenv: starting Porch on the shared control plane failed: %v", err)
	}
	if d := time.Since(begin); d > 100*time.Millisecond { // this call started it
		t.Logf("testenv: Porch ready after %v", d.Round(time.Millisecond))
	}
	return p, po
}

// Cleanup stops the shared plane if one was started. Call it from TestMain
// after m.Run. Should a test binary end without it (a panic, a timeout), its
// processes are still killed, as the kernel signals them when the test binary
// dies; only the temporary directory is left behind.
func Cleanup() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.plane != nil {
		if err := shared.plane.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: stopping the shared control plane:", err)
		}
	}
	shared.started, shared.plane, shared.err = false, nil, nil
}

// Main is a TestMain for packages that use Shared or Require: it runs the
// tests, stops the shared plane and exits with the tests' status.
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// apiServerStopped reports whether kube-apiserver was started and has exited.
func (p *Plane) apiServerStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	proc := p.procs["kube-apiserver"]
	return proc != nil && proc.exited() && !p.stopped
}
