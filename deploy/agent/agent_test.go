// Package agent_test proves the edge agent's packaging in deploy/agent:
// the systemd unit passes systemd-analyze (verify, and its exposure
// score), install.sh installs into a root of its own with the right files
// and modes, idempotently, and refuses incomplete settings, and the unit
// and the script use only flags "o2ims agent" accepts.
package agent_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/testenv"
	"github.com/nephoran/o2ims/internal/testserver"
)

const (
	unitFile   = "o2ims-agent.service"
	script     = "install.sh"
	unitBinary = "/usr/local/bin/o2ims"
	token      = "abcdef.0123456789abcdef"
)

var caHash = "sha256:" + strings.Repeat("0f", 32)

// backoffKeys are the unit's keys for exponential restart backoff, which
// systemd understands from version 254; older versions ignore them.
var backoffKeys = []string{"RestartSteps", "RestartMaxDelaySec"}

// verifiableUnit copies the unit into a new directory with ExecStart
// pointing at an executable that exists here (systemd-analyze verify
// checks that it does), applying edit to its text.
func verifiableUnit(t *testing.T, edit func(string) string) string {
	t.Helper()
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "o2ims")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), unitBinary, bin)
	if !strings.Contains(text, "ExecStart="+bin+" agent") {
		t.Fatalf("the unit does not start %s agent", unitBinary)
	}
	path := filepath.Join(dir, unitFile)
	if err := os.WriteFile(path, []byte(edit(text)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// systemdVersion is the version systemd-analyze reports.
func systemdVersion(t *testing.T, analyze string) int {
	t.Helper()
	out, err := exec.Command(analyze, "--version").Output()
	if err != nil {
		t.Fatalf("systemd-analyze --version: %v", err)
	}
	m := regexp.MustCompile(`^systemd (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze --version printed %q", out)
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}

// complaints runs systemd-analyze verify on path and returns what it
// printed, less the notices about the backoff keys on a systemd that
// predates them.
func complaints(t *testing.T, analyze, path string, version int) []string {
	t.Helper()
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		if version < 254 && slices.ContainsFunc(backoffKeys, func(k string) bool { return strings.Contains(l, "Unknown key '"+k+"'") }) {
			continue
		}
		lines = append(lines, l)
	}
	if err != nil {
		lines = append(lines, "exit: "+err.Error())
	}
	return lines
}

func TestUnitVerifies(t *testing.T) {
	analyze := testenv.RequireCommand(t, "systemd-analyze", "checking the agent's systemd unit")
	version := systemdVersion(t, analyze)
	if got := complaints(t, analyze, verifiableUnit(t, func(s string) string { return s }), version); len(got) > 0 {
		t.Errorf("systemd-analyze verify %s:\n%s", unitFile, strings.Join(got, "\n"))
	}

	// The check itself sees mistakes: a misspelt directive, a missing
	// binary.
	misspelt := verifiableUnit(t, func(s string) string { return strings.Replace(s, "ProtectHome=", "ProtectHomes=", 1) })
	if got := complaints(t, analyze, misspelt, version); !slices.ContainsFunc(got, func(l string) bool { return strings.Contains(l, "ProtectHomes") }) {
		t.Errorf("a misspelt directive passed verify: %q", got)
	}
	noBinary := verifiableUnit(t, func(s string) string {
		return regexp.MustCompile(`ExecStart=\S+`).ReplaceAllString(s, "ExecStart=/nonexistent/o2ims")
	})
	if got := complaints(t, analyze, noBinary, version); len(got) == 0 {
		t.Error("a missing binary passed verify")
	}
}

// TestUnitHardening: the unit keeps the settings the agent is confined
// by, and systemd rates its exposure at most 2.0 ("OK").
func TestUnitHardening(t *testing.T) {
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Restart=on-failure", "RestartSec=", "EnvironmentFile=/etc/o2ims/agent.env", "NoNewPrivileges=yes",
		"ProtectSystem=strict", "StateDirectory=o2ims-agent", "ProtectHome=yes", "PrivateTmp=yes", "ReadOnlyPaths=/proc /sys",
		"ExecStart=" + unitBinary + " agent --state-dir=/var/lib/o2ims-agent"} {
		if !bytes.Contains(unit, []byte("\n"+want)) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	analyze := testenv.RequireCommand(t, "systemd-analyze", "checking the agent's systemd unit")
	if systemdVersion(t, analyze) < 250 {
		testenv.Unavailable(t, "systemd-analyze security --offline needs systemd 250 or later")
	}
	// --threshold is the overall exposure times ten.
	out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=20", verifiableUnit(t, func(s string) string { return s })).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: %v\n%s", err, out)
	}
	score := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if score == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	t.Logf("exposure level %s", score[1])
}

// install runs install.sh with args and the environment env (plus PATH).
func install(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{script}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// fakeBinary is an executable standing in for o2ims.
func fakeBinary(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "o2ims")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n# "+content+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// snapshot maps each path under root to its mode, link target and
// content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case info.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %s %d", info.ModTime().Format("15:04:05.000000000"), len(b))
		}
		files[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestScriptParses(t *testing.T) {
	for _, shell := range []string{"sh", "dash", "bash", "busybox"} {
		path, err := exec.LookPath(shell)
		if err != nil {
			continue
		}
		args := []string{"-n", script}
		if shell == "busybox" {
			args = append([]string{"sh"}, args...)
		}
		if out, err := exec.Command(path, args...).CombinedOutput(); err != nil {
			t.Errorf("%s -n %s: %v\n%s", shell, script, err, out)
		}
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("#!/bin/sh\n")) || !bytes.Contains(b, []byte("\nset -eu\n")) {
		t.Error("install.sh is not a #!/bin/sh script with set -eu")
	}
	for _, bashism := range []string{"[[ ", "function ", "local ", "<<<", "source ", "${!", "echo -e"} {
		if bytes.Contains(b, []byte(bashism)) {
			t.Errorf("install.sh uses %q, which POSIX sh lacks", bashism)
		}
	}
	if info, err := os.Stat(script); err != nil || info.Mode().Perm()&0o111 == 0 {
		t.Errorf("install.sh is not executable: %v %v", info.Mode(), err)
	}
}

// TestScriptCarriesTheUnit: the script installs the unit of this
// directory, unchanged (it carries a copy so that user data needs only
// the script).
func TestScriptCarriesTheUnit(t *testing.T) {
	root := t.TempDir()
	if out, err := install(t, nil, "--root", root, "--binary", fakeBinary(t, "v1"), "--server", "https://ims.example:8443",
		"--bootstrap-token", token, "--ca-hash", caHash); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	want, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "etc/systemd/system", unitFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("install.sh installs a unit that differs from %s: copy it into the script's UNIT here-document", unitFile)
	}
}

func TestInstall(t *testing.T) {
	root := t.TempDir()
	bin := fakeBinary(t, "v1")
	args := []string{"--root", root, "--binary", bin, "--server", "https://10.203.0.1:8443", "--bootstrap-token", token,
		"--ca-hash", caHash, "--pool", "edge-paris", "--site=paris-1", "--node-name", "edge-node-7"}
	out, err := install(t, nil, args...)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if !strings.Contains(out, "systemd is not running") {
		t.Errorf("install under --root did not say it left systemd alone:\n%s", out)
	}
	first := snapshot(t, root)
	for path, mode := range map[string]string{
		"usr/local/bin/o2ims":                    "-rwxr-xr-x",
		"etc/o2ims":                              "drwxr-xr-x",
		"etc/o2ims/agent.env":                    "-rw-------",
		"etc/systemd/system/o2ims-agent.service": "-rw-r--r--",
		"etc/systemd/system/multi-user.target.wants/o2ims-agent.service": "Lrwxrwxrwx -> /etc/systemd/system/o2ims-agent.service",
	} {
		if !strings.HasPrefix(first[path], mode) {
			t.Errorf("%s: %q, want %s", path, first[path], mode)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "usr/local/bin/o2ims")); err != nil || !strings.Contains(string(b), "v1") {
		t.Errorf("installed binary: %q %v", b, err)
	}
	wantEnv := map[string]string{"O2IMS_SERVER": "https://10.203.0.1:8443", "O2IMS_BOOTSTRAP_TOKEN": token, "O2IMS_CA_HASH": caHash,
		"O2IMS_POOL": "edge-paris", "O2IMS_SITE": "paris-1", "O2IMS_NODE_NAME": "edge-node-7"}
	if got := readEnv(t, root); !maps.Equal(got, wantEnv) {
		t.Errorf("agent.env = %v, want %v", got, wantEnv)
	}

	// Again with the same settings: nothing is rewritten.
	out, err = install(t, nil, args...)
	if err != nil {
		t.Fatalf("second install: %v\n%s", err, out)
	}
	if again := snapshot(t, root); !maps.Equal(again, first) || strings.Contains(out, "wrote") {
		t.Errorf("the second install changed files:\n%s\nbefore %v\nafter  %v", out, first, again)
	}

	// From the environment, as user data would pass them, with a new
	// binary and without the optional settings: the binary and the
	// environment file are replaced, the unit is not.
	env := []string{"O2IMS_AGENT_BINARY=" + fakeBinary(t, "v2"), "O2IMS_SERVER=https://ims.example.net:8443",
		"O2IMS_BOOTSTRAP_TOKEN=" + token, "O2IMS_CA_HASH=" + caHash, "DESTDIR=" + root}
	out, err = install(t, env)
	if err != nil {
		t.Fatalf("install from the environment: %v\n%s", err, out)
	}
	if !strings.Contains(out, "wrote /usr/local/bin/o2ims") || !strings.Contains(out, "wrote /etc/o2ims/agent.env") || strings.Contains(out, "wrote /etc/systemd") {
		t.Errorf("install from the environment:\n%s", out)
	}
	wantEnv = map[string]string{"O2IMS_SERVER": "https://ims.example.net:8443", "O2IMS_BOOTSTRAP_TOKEN": token, "O2IMS_CA_HASH": caHash}
	if got := readEnv(t, root); !maps.Equal(got, wantEnv) {
		t.Errorf("agent.env = %v, want %v", got, wantEnv)
	}
	if info, err := os.Stat(filepath.Join(root, "etc/o2ims/agent.env")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("agent.env rewritten with mode %v (%v)", info.Mode(), err)
	}
	// Options win over the environment.
	if out, err = install(t, env, "--server", "https://other.example:8443"); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if got := readEnv(t, root)["O2IMS_SERVER"]; got != "https://other.example:8443" {
		t.Errorf("O2IMS_SERVER = %q, want the option's", got)
	}

	// An enrolled node (its identity in the state directory) needs no
	// token, and without --binary the installed binary stays.
	state := filepath.Join(root, "var/lib/o2ims-agent")
	for _, f := range []string{"identity.pem", "ca.pem"} {
		if err := os.MkdirAll(state, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(state, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err = install(t, nil, "--root", root, "--server", "https://ims.example.net:8443"); err != nil {
		t.Fatalf("install on an enrolled node: %v\n%s", err, out)
	}
	if got := readEnv(t, root); !maps.Equal(got, map[string]string{"O2IMS_SERVER": "https://ims.example.net:8443"}) {
		t.Errorf("agent.env = %v", got)
	}
}

func TestInstallRefuses(t *testing.T) {
	bin := fakeBinary(t, "v1")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no server", []string{"--bootstrap-token", token, "--ca-hash", caHash}, "server URL is required"},
		{"plain HTTP", []string{"--server", "http://ims:8443", "--bootstrap-token", token, "--ca-hash", caHash}, "must be https://"},
		{"no token", []string{"--server", "https://ims:8443", "--ca-hash", caHash}, "bootstrap token is required"},
		{"malformed token", []string{"--server", "https://ims:8443", "--bootstrap-token", "secret", "--ca-hash", caHash}, "must look like"},
		{"token without CA hash", []string{"--server", "https://ims:8443", "--bootstrap-token", token}, "CA hash is required"},
		{"malformed CA hash", []string{"--server", "https://ims:8443", "--bootstrap-token", token, "--ca-hash", "abc"}, "sha256:<64"},
		{"a value the env file cannot hold", []string{"--server", "https://ims:8443", "--bootstrap-token", token, "--ca-hash", caHash, "--site", "a b"}, "--site 'a b'"},
		{"unknown option", []string{"--server", "https://ims:8443", "--token", token}, "unknown option --token"},
		{"option without value", []string{"--server"}, "--server needs a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			out, err := install(t, nil, append([]string{"--root", root, "--binary", bin}, tt.args...)...)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Fatalf("install %v: %v\n%s\nwant a refusal saying %q", tt.args, err, out, tt.want)
			}
			if files := snapshot(t, root); len(files) != 1 {
				t.Errorf("a refused install left files: %v", files)
			}
		})
	}
}

// TestFlagsAgree: every setting the script writes and every flag of the
// unit's ExecStart is a flag "o2ims agent --help" lists, and every option
// of the script passing a setting is one of them too.
func TestFlagsAgree(t *testing.T) {
	bin, err := testserver.Build(filepath.Join("..", ".."), t.TempDir(), "./cmd/o2ims")
	if err != nil {
		t.Fatal(err)
	}
	help, err := exec.Command(bin, "agent", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("o2ims agent --help: %v\n%s", err, help)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`).FindAllSubmatch(help, -1) {
		flags[string(m[1])] = true
	}
	if !flags["server"] || !flags["state-dir"] {
		t.Fatalf("no agent flags found in the help:\n%s", help)
	}

	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	execStart := regexp.MustCompile(`(?m)^ExecStart=\S+ agent (.*)$`).FindSubmatch(unit)
	if execStart == nil {
		t.Fatal("no ExecStart=… agent in the unit")
	}
	for _, f := range regexp.MustCompile(`--([a-z0-9-]+)`).FindAllSubmatch(execStart[1], -1) {
		if !flags[string(f[1])] {
			t.Errorf("the unit passes --%s, which o2ims agent does not accept", f[1])
		}
	}

	root := t.TempDir()
	if out, err := install(t, nil, "--root", root, "--binary", bin, "--server", "https://ims:8443", "--bootstrap-token", token,
		"--ca-hash", caHash, "--pool", "p", "--site", "s", "--node-name", "n"); err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	env := readEnv(t, root)
	if len(env) != 6 {
		t.Errorf("agent.env holds %v", env)
	}
	for k := range env {
		flag := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, "O2IMS_")), "_", "-")
		if !strings.HasPrefix(k, "O2IMS_") || !flags[flag] {
			t.Errorf("agent.env sets %s, which is no flag of o2ims agent (--%s)", k, flag)
		}
	}
	text, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	options := regexp.MustCompile(`(?m)^\s+--([a-z-]+)\) \w+=\$val ;;$`).FindAllSubmatch(text, -1)
	if len(options) < 8 {
		t.Fatalf("found %d options in install.sh", len(options))
	}
	for _, m := range options {
		if o := string(m[1]); o != "binary" && o != "root" && !flags[o] {
			t.Errorf("install.sh takes --%s, which o2ims agent does not", o)
		}
	}
}

// readEnv parses the installed agent.env.
func readEnv(t *testing.T, root string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc/o2ims/agent.env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("agent.env line %q", l)
		}
		env[k] = v
	}
	return env
}
