package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Unavailable skips the test because something it needs from the host is
// missing (why says what and how to get it), or fails it when the CI
// environment variable is set or O2IMS_TESTENV_REQUIRED=1: the policy of
// Require, for tools that do not come from `make testenv`.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" || os.Getenv(EnvRequired) == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// RequireCommand returns the path of the program name, found in PATH,
// or skips or fails the test as Unavailable does; what says what the
// program is for.
func RequireCommand(t testing.TB, name, what string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, fmt.Sprintf("testenv: %s is not installed (%v); it is needed for %s", name, err, what))
	}
	return path
}

// RequireNetns makes sure network namespaces can be made here (ip(8)
// present, running as root, "ip netns add" working), by adding and
// deleting one, or skips or fails the test as Unavailable does. It
// returns the path of ip.
func RequireNetns(t testing.TB) string {
	t.Helper()
	ip := RequireCommand(t, "ip", "network namespaces (iproute2)")
	if os.Geteuid() != 0 {
		Unavailable(t, "testenv: network namespaces need root (ip netns add), and this test runs as uid "+fmt.Sprint(os.Geteuid()))
	}
	probe := fmt.Sprintf("o2probe-%d", os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, ip, "netns", "add", probe).CombinedOutput(); err != nil {
		Unavailable(t, fmt.Sprintf("testenv: ip netns add fails here: %v: %s", err, strings.TrimSpace(string(out))))
	}
	if out, err := exec.CommandContext(ctx, ip, "netns", "delete", probe).CombinedOutput(); err != nil {
		t.Fatalf("testenv: ip netns delete %s: %v: %s", probe, err, out)
	}
	return ip
}
