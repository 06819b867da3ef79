package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

func TestNodeLifecycle(t *testing.T) {
	p := Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const name = "test-node-lifecycle"
	if err := p.CreateNode(ctx, name, map[string]string{"o2ims.test/pool": "a", "o2ims.test/tier": "gold"}, "8", "32Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.DeleteNode(context.Background(), name); err != nil && !IsNotFound(err) {
			t.Error(err)
		}
	})

	start := time.Now()
	if err := p.WaitNodeReady(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Logf("node Ready after %v", time.Since(start).Round(time.Millisecond))
	n, err := p.GetNode(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Status.Allocatable["cpu"]; got != "8" {
		t.Errorf("allocatable cpu = %q, want 8", got)
	}

	if err := p.LabelNode(ctx, name, map[string]string{"o2ims.test/pool": "b"}, "o2ims.test/tier"); err != nil {
		t.Fatal(err)
	}
	n, err = p.GetNode(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Metadata.Labels["o2ims.test/pool"]; got != "b" {
		t.Errorf("label o2ims.test/pool = %q, want b", got)
	}
	if _, ok := n.Metadata.Labels["o2ims.test/tier"]; ok {
		t.Errorf("label o2ims.test/tier still present: %v", n.Metadata.Labels)
	}
	if n.Metadata.Labels["kubernetes.io/hostname"] != name {
		t.Errorf("relabelling lost other labels: %v", n.Metadata.Labels)
	}

	if err := p.DeleteNode(ctx, name); err != nil {
		t.Fatal(err)
	}
	// kwok adds no finalizers, so the node is gone once DELETE returns.
	if _, err := p.GetNode(ctx, name); !IsNotFound(err) {
		t.Fatalf("GetNode after delete: err = %v, want not found", err)
	}
}

// TestPodRunsOnNode checks what tests of workloads rely on: the default
// ServiceAccount exists, the scheduler binds a pod to a kwok node and kwok
// reports it Running.
func TestPodRunsOnNode(t *testing.T) {
	p := Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const node, pod = "test-pod-node", "test-pod"
	if err := p.CreateNode(ctx, node, map[string]string{"o2ims.test/pod": "yes"}, "2", "4Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		bg := context.Background()
		_ = p.Do(bg, http.MethodDelete, "/api/v1/namespaces/default/pods/"+pod+"?gracePeriodSeconds=0", "", nil, nil)
		_ = p.DeleteNode(bg, node)
	})
	manifest := map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata":   map[string]any{"name": pod},
		"spec": map[string]any{
			"nodeSelector": map[string]string{"o2ims.test/pod": "yes"},
			"containers": []map[string]any{{
				"name":      "app",
				"image":     "registry.invalid/app:1",
				"resources": map[string]any{"requests": map[string]string{"cpu": "1", "memory": "1Gi"}},
			}},
		},
	}
	if err := p.Do(ctx, http.MethodPost, "/api/v1/namespaces/default/pods", "", manifest, nil); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Spec   struct{ NodeName string } `json:"spec"`
		Status struct{ Phase string }    `json:"status"`
	}
	for {
		if err := p.Do(ctx, http.MethodGet, "/api/v1/namespaces/default/pods/"+pod, "", nil, &got); err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase == "Running" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod not Running: node %q, phase %q", got.Spec.NodeName, got.Status.Phase)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if got.Spec.NodeName != node {
		t.Errorf("pod bound to %q, want %q", got.Spec.NodeName, node)
	}
}

func TestAPIServerRestart(t *testing.T) {
	p := Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	const name = "test-apiserver-restart"
	if err := p.CreateNode(ctx, name, nil, "4", "8Gi"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.DeleteNode(context.Background(), name); err != nil && !IsNotFound(err) {
			t.Error(err)
		}
	})
	url := p.APIServerURL

	start := time.Now()
	if err := p.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver stopped in %v", time.Since(start).Round(time.Millisecond))
	var se *StatusError
	if _, err := p.GetNode(ctx, name); err == nil || errors.As(err, &se) {
		t.Fatalf("GetNode with the API server stopped: err = %v, want a connection error", err)
	}

	start = time.Now()
	if err := p.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver ready again in %v", time.Since(start).Round(time.Millisecond))
	if p.APIServerURL != url {
		t.Fatalf("APIServerURL changed from %s to %s", url, p.APIServerURL)
	}
	// The node written before the restart comes back from etcd, and kwok,
	// whose watch broke, still keeps it Ready.
	if err := p.WaitNodeReady(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := p.StartAPIServer(ctx); err == nil {
		t.Error("StartAPIServer on a running API server succeeded, want an error")
	}
}

// TestStopLeavesNothing starts a plane of its own, so that it can stop it, and
// checks that no process of it survives Stop and its directory is gone.
func TestStopLeavesNothing(t *testing.T) {
	if missing := MissingBinaries(DefaultBinDir()); len(missing) > 0 {
		Require(t) // skips or fails with the usual message
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	p, err := Start(ctx, Options{Nodes: 2, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kwok-node-0", "kwok-node-1"} {
		if n, err := p.GetNode(ctx, name); err != nil || !n.Ready() {
			t.Errorf("node %s: ready=%v err=%v", name, err == nil && n.Ready(), err)
		}
	}
	if pids := processesMentioning(t, p.Dir); len(pids) != 5 {
		t.Errorf("processes of the plane before Stop: %v, want 5", pids)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if pids := processesMentioning(t, p.Dir); len(pids) != 0 {
		t.Errorf("processes left after Stop: %v", pids)
	}
	if _, err := os.Stat(p.Dir); !os.IsNotExist(err) {
		t.Errorf("plane directory %s still exists (stat: %v)", p.Dir, err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestFailedStartCleansUp runs a plane whose kube-apiserver exits at once:
// Start must report the program's last words and leave etcd not running.
func TestFailedStartCleansUp(t *testing.T) {
	real := DefaultBinDir()
	if missing := MissingBinaries(real); len(missing) > 0 {
		Require(t)
	}
	bin := t.TempDir()
	for _, name := range Binaries {
		if err := os.Symlink(filepath.Join(real, name), filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	apiserver := filepath.Join(bin, "kube-apiserver")
	os.Remove(apiserver)
	script := "#!/bin/sh\necho 'refusing to start: deliberately broken for a test' >&2\nexit 3\n"
	if err := os.WriteFile(apiserver, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	_, err := Start(t.Context(), Options{BinDir: bin})
	if err == nil {
		t.Fatal("Start succeeded with a broken kube-apiserver")
	}
	t.Logf("Start error: %v", err)
	if !strings.Contains(err.Error(), "deliberately broken") || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Errorf("error does not carry the tail of kube-apiserver's log: %v", err)
	}
	if pids := processesMentioning(t, bin); len(pids) != 0 {
		t.Errorf("processes left after a failed Start: %v", pids)
	}
}

func TestRequireSkipsWithoutBinaries(t *testing.T) {
	t.Setenv(EnvBinDir, t.TempDir())
	t.Setenv("CI", "")
	t.Setenv(EnvRequired, "")
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }() // SkipNow ends with runtime.Goexit in real tests; here it panics
		Require(ft)
	}()
	if !ft.skipped || ft.failed {
		t.Fatalf("skipped=%v failed=%v, want a skip", ft.skipped, ft.failed)
	}
	if !strings.Contains(ft.msg, "make testenv") {
		t.Errorf("skip message %q does not say to run make testenv", ft.msg)
	}

	t.Setenv(EnvRequired, "1")
	ft = &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		Require(ft)
	}()
	if !ft.failed {
		t.Fatalf("with %s=1: failed=%v, want a failure", EnvRequired, ft.failed)
	}
}

// fakeTB records Skip and Fatal instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	panic("skip")
}

func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	panic("fatal")
}

// processesMentioning returns the pids of processes whose command line
// contains s; every program of a plane names files in the plane's directory.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for _, e := range entries {
		if strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		// A process that was killed but not yet reaped is a zombie with an
		// empty command line, so anything found here is really alive.
		pids = append(pids, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " ")[:min(len(cmdline), 120)])
	}
	return pids
}
