package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/testserver"
)

// The binaries and the server TestMain sets up for the end-to-end tests.
var (
	o2ctlBinary string // built from this package
	serverURL   string // a running o2ims, built from the repository
	o2imsBinary string // the o2ims binary built for the tests
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "o2ctl-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root := filepath.Join("..", "..")
	if o2ctlBinary, err = testserver.Build(root, dir, "./cmd/o2ctl"); err == nil {
		o2imsBinary, err = testserver.Build(root, dir, "./cmd/o2ims")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop, err := startServer(o2imsBinary, filepath.Join(dir, "data"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startServer runs "o2ims serve" on a free loopback port, sets serverURL
// once the inventory holds a pool, and returns a function stopping it.
func startServer(binary, dataDir string) (func(), error) {
	s, err := testserver.Start(binary, dataDir)
	if err != nil {
		return nil, err
	}
	serverURL = "http://" + s.Addr
	// Wait until the local provider has published the host.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, _, code := o2ctlRun(nil, "get", "rp", "-o", "name", "--endpoint", serverURL)
		if code == 0 && strings.TrimSpace(out) != "" {
			return s.Kill, nil
		}
	}
	s.Kill()
	return nil, fmt.Errorf("the inventory stayed empty:\n%s", s.Logs())
}

// o2ctlRun runs the o2ctl binary with args in an environment holding only
// PATH, a private HOME and env, and returns stdout, stderr and the exit
// status.
func o2ctlRun(env []string, args ...string) (string, string, int) {
	home, err := os.MkdirTemp("", "o2ctl-home")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	cmd := exec.Command(o2ctlBinary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		panic(err)
	}
	return stdout.String(), stderr.String(), code
}

// o2ctl runs o2ctl against the test server, given by $O2CTL_ENDPOINT, and
// fails the test unless it exits with want.
func o2ctl(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	out, errOut, code := o2ctlRun([]string{"O2CTL_ENDPOINT=" + serverURL}, args...)
	if code != want {
		t.Fatalf("o2ctl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out, errOut
}

// firstID returns the ID of the first object of kind.
func firstID(t *testing.T, kind string, args ...string) string {
	t.Helper()
	out, _ := o2ctl(t, 0, append([]string{"get", kind, "-o", "name"}, args...)...)
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	_, id, ok := strings.Cut(line, "/")
	if !ok {
		t.Fatalf("no %s in %q", kind, out)
	}
	return id
}

func TestGetResourceTypesJSON(t *testing.T) {
	out, errOut := o2ctl(t, 0, "get", "resourcetypes", "-o", "json")
	var types []map[string]any
	if err := json.Unmarshal([]byte(out), &types); err != nil {
		t.Fatalf("stdout is not a JSON list: %v\n%s", err, out)
	}
	if len(types) < 2 || errOut != "" {
		t.Fatalf("%d types, stderr %q", len(types), errOut)
	}
	for _, rt := range types {
		if rt["resourceTypeId"] == "" || rt["name"] == nil || rt["resourceClass"] == nil {
			t.Errorf("type %v", rt)
		}
	}

	// Paging: --limit 1 lists one and says more exist; --all-pages gets all.
	out, errOut = o2ctl(t, 0, "get", "rt", "--limit", "1", "-o", "json")
	if err := json.Unmarshal([]byte(out), &types); err != nil || len(types) != 1 || !strings.Contains(errOut, "--all-pages") {
		t.Fatalf("one page: %v %q %q", err, out, errOut)
	}
	out, _ = o2ctl(t, 0, "get", "rt", "--limit", "1", "--all-pages", "-o", "yaml")
	var all []map[string]any
	if err := yaml.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("yaml: %v\n%s", err, out)
	}
	seen := map[any]bool{}
	for _, rt := range all {
		seen[rt["resourceTypeId"]] = true
	}
	if len(all) < 2 || len(seen) != len(all) {
		t.Errorf("all pages: %d types, %d distinct", len(all), len(seen))
	}

	// By ID: one object, not a list.
	id := firstID(t, "rt")
	out, _ = o2ctl(t, 0, "get", "resourcetype", id, "-o", "json")
	var one map[string]any
	if err := json.Unmarshal([]byte(out), &one); err != nil || one["resourceTypeId"] != id {
		t.Fatalf("by ID: %v %s", err, out)
	}
}

func TestGetTableHasHeader(t *testing.T) {
	tests := []struct {
		args   []string
		header []string
	}{
		{[]string{"get", "resourcepools"}, []string{"ID", "NAME", "LOCATION"}},
		{[]string{"get", "rp", "-o", "wide"}, []string{"ID", "NAME", "O-CLOUD", "DESCRIPTION"}},
		{[]string{"get", "res"}, []string{"ID", "TAGS", "DESCRIPTION"}},
		{[]string{"get", "resources", "-o", "wide"}, []string{"ID", "TAGS", "POOL", "TYPE", "PARENT"}},
		{[]string{"get", "rt"}, []string{"ID", "NAME", "KIND", "CLASS", "VENDOR"}},
		{[]string{"get", "dm", "-o", "table"}, []string{"ID", "NAME", "SERVICE URI", "LOCATIONS"}},
		{[]string{"get", "deploymentmanagers", "-o", "wide"}, []string{"ID", "CAPABILITIES", "CAPACITY"}},
		{[]string{"get", "probablecauses"}, []string{"ID", "NAME", "DESCRIPTION"}},
		{[]string{"get", "alarmdictionaries"}, []string{"ID", "VERSION", "ENTITY TYPE", "VENDOR", "DEFINITIONS"}},
		{[]string{"get", "ad", "-o", "wide"}, []string{"ID", "VERSION", "SCHEMA VERSION", "ALARMS"}},
		// Inventory v2's places: the embedded default has the O-Cloud's
		// default location and the host's site there.
		{[]string{"get", "locations"}, []string{"ID", "NAME", "ADDRESS", "SITES"}},
		{[]string{"get", "loc", "-o", "wide"}, []string{"ID", "COORDINATE", "DESCRIPTION"}},
		{[]string{"get", "sites"}, []string{"ID", "NAME", "LOCATION", "POOLS"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, _ := o2ctl(t, 0, tt.args...)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if len(lines) < 2 {
				t.Fatalf("no rows:\n%s", out)
			}
			for _, h := range tt.header {
				if !strings.Contains(lines[0], h) {
					t.Errorf("header %q lacks %q", lines[0], h)
				}
			}
			// Aligned: the second column starts at the same offset in
			// every line.
			col := strings.Index(lines[0], tt.header[1])
			for _, l := range lines[1:] {
				if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
					t.Errorf("row not aligned at %d: %q", col, l)
				}
			}
		})
	}
}

func TestGetFilterPassesThrough(t *testing.T) {
	out, _ := o2ctl(t, 0, "get", "resources", "--filter", "(eq,tags,host)", "-o", "json")
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("host filter: %v %s", err, out)
	}
	if tags := res[0]["tags"].([]any); tags[0] != "host" {
		t.Errorf("tags %v", tags)
	}
	pool := res[0]["resourcePoolId"].(string)

	// In one pool, with a quoted value and an And of terms.
	out, _ = o2ctl(t, 0, "get", "res", "--pool", pool, "--filter",
		"(in,tags,host,'no such tag');(cont,description,' ')", "-o", "name")
	if strings.Count(out, "resource/") != 1 {
		t.Errorf("pool filter: %q", out)
	}
	// Selected fields reach the server.
	out, _ = o2ctl(t, 0, "get", "res", "--filter", "(eq,tags,host)", "--fields", "extensions/hostname", "-o", "json")
	if !strings.Contains(out, `"hostname"`) || strings.Contains(out, `"kernel"`) {
		t.Errorf("fields: %s", out)
	}
	// An empty result is an empty list, and a note on stderr for tables.
	out, _ = o2ctl(t, 0, "get", "res", "--filter", "(eq,tags,no-such-tag)", "-o", "json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("empty json %q", out)
	}
	out, errOut := o2ctl(t, 0, "get", "res", "--filter", "(eq,tags,no-such-tag)")
	if out != "" || !strings.Contains(errOut, "No resources found") {
		t.Errorf("empty table: %q %q", out, errOut)
	}
	// The server's verdict on a bad filter is reported with its detail.
	_, errOut = o2ctl(t, 1, "get", "rt", "--filter", "(eq,colour,red)")
	if !strings.HasPrefix(errOut, "o2ctl: 400 Bad Request: ") || !strings.Contains(errOut, "colour") {
		t.Errorf("bad filter stderr %q", errOut)
	}
}

func TestDescribe(t *testing.T) {
	pool := firstID(t, "rp")
	out, _ := o2ctl(t, 0, "describe", "resourcepool", pool)
	for _, want := range []string{"Resource Pool ID:", pool, "Name:", "O-Cloud ID:", "Extensions:", "  provider:"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe pool lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "Resource Pool ID:") {
		t.Errorf("the ID is not first:\n%s", out)
	}

	host := firstID(t, "res", "--filter", "(eq,tags,host)")
	out, _ = o2ctl(t, 0, "describe", "res", host)
	for _, want := range []string{"Resource ID:", "Tags:", "Elements:", "  Resource ID:", "Parent ID:"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe resource lacks %q:\n%s", want, out)
		}
	}
	out2, _ := o2ctl(t, 0, "describe", "res", host, "--pool", pool)
	if out2 != out {
		t.Error("describe with --pool differs")
	}
	out, _ = o2ctl(t, 0, "cloud-info")
	if !strings.Contains(out, "O-Cloud ID:") || !strings.Contains(out, "Service URI:") {
		t.Errorf("cloud-info:\n%s", out)
	}
}

func TestUnknownIDExitsNotFound(t *testing.T) {
	const unknown = "00000000-0000-0000-0000-000000000000"
	for _, args := range [][]string{
		{"get", "rp", unknown},
		{"get", "resources", unknown, "-o", "json"},
		{"describe", "rt", unknown},
		{"describe", "dm", unknown},
	} {
		out, errOut := o2ctl(t, exitNotFound, args...)
		if out != "" {
			t.Errorf("%v: stdout %q", args, out)
		}
		if !strings.HasPrefix(errOut, "o2ctl: ") || !strings.Contains(errOut, "404") || !strings.Contains(errOut, unknown) {
			t.Errorf("%v: stderr %q", args, errOut)
		}
		if strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: stderr is not one line: %q", args, errOut)
		}
	}
}

func TestUsageErrorsAndUnreachableServer(t *testing.T) {
	_, errOut := o2ctl(t, exitError, "get", "nosuchkind")
	if !strings.HasPrefix(errOut, "o2ctl: unknown kind") {
		t.Errorf("stderr %q", errOut)
	}
	o2ctl(t, exitError, "get", "rp", "--no-such-flag")
	o2ctl(t, exitError, "get", "rt", "--pool", "x")
	o2ctl(t, exitError, "get", "rp", "-o", "xml")
	o2ctl(t, exitError, "get", "rp", "some-id", "--filter", "(eq,name,x)")
	o2ctl(t, exitError, "describe", "rp")

	// No endpoint at all.
	_, errOut, code := o2ctlRun(nil, "get", "rp")
	if code != exitError || !strings.Contains(errOut, "no IMS endpoint") {
		t.Errorf("no endpoint: %d %q", code, errOut)
	}
	// Nothing listens on port 1 of the loopback.
	_, errOut, code = o2ctlRun(nil, "get", "rp", "--endpoint", "http://127.0.0.1:1")
	if code != exitUnavailable || !strings.HasPrefix(errOut, "o2ctl: ") {
		t.Errorf("unreachable: %d %q", code, errOut)
	}
}

func TestConfigContexts(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "o2ctl.yaml")
	config := fmt.Sprintf(`current-context: broken
contexts:
- name: broken
  endpoint: http://127.0.0.1:1
- name: test
  endpoint: %s
  auth:
    type: none
`, serverURL)
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) (string, string, int) {
		return o2ctlRun(env, append([]string{"--config", cfgPath}, args...)...)
	}
	if out, errOut, code := run(nil, "--context", "test", "get", "rp", "-o", "name"); code != 0 || !strings.HasPrefix(out, "resourcepool/") {
		t.Fatalf("--context test: %d %q %q", code, out, errOut)
	}
	if out, _, code := run([]string{"O2CTL_CONTEXT=test"}, "get", "rp", "-o", "name"); code != 0 || out == "" {
		t.Fatalf("O2CTL_CONTEXT: %d %q", code, out)
	}
	// The current context is unreachable; the endpoint flag and variable
	// win over it.
	if _, _, code := run(nil, "--request-timeout", "2s", "get", "rp"); code != exitUnavailable {
		t.Errorf("current context: exit %d", code)
	}
	if _, _, code := run([]string{"O2CTL_ENDPOINT=" + serverURL}, "get", "rp"); code != 0 {
		t.Errorf("O2CTL_ENDPOINT over the context: exit %d", code)
	}
	if _, _, code := run(nil, "--endpoint", serverURL, "get", "rp"); code != 0 {
		t.Errorf("--endpoint over the context: exit %d", code)
	}
	if _, errOut, code := run(nil, "--context", "nope", "get", "rp"); code != exitError || !strings.Contains(errOut, `"nope"`) {
		t.Errorf("unknown context: %d %q", code, errOut)
	}

	// Switching contexts and listing them.
	if out, _, code := run(nil, "config", "use-context", "test"); code != 0 || !strings.Contains(out, "test") {
		t.Fatalf("use-context: %d %q", code, out)
	}
	if out, _, code := run(nil, "get", "rp", "-o", "name"); code != 0 || out == "" {
		t.Fatalf("after use-context: %d %q", code, out)
	}
	out, _, _ := run(nil, "config", "get-contexts")
	if !strings.Contains(out, "*         test") || !strings.Contains(out, "broken") {
		t.Errorf("get-contexts:\n%s", out)
	}
}

func TestConfigSetContextInXDGConfigHome(t *testing.T) {
	xdg := t.TempDir()
	env := []string{"XDG_CONFIG_HOME=" + xdg}
	if _, errOut, code := o2ctlRun(env, "config", "set-context", "local", "--endpoint", serverURL); code != 0 {
		t.Fatalf("set-context: %d %s", code, errOut)
	}
	path := filepath.Join(xdg, "o2ctl", "config.yaml")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v", st.Mode().Perm())
	}
	// The first context becomes the current one.
	if out, errOut, code := o2ctlRun(env, "get", "rt", "-o", "name"); code != 0 || out == "" {
		t.Fatalf("get with the new context: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := o2ctlRun(env, "config", "set-context", "local", "--auth-type", "bearer", "--token", "t0k"); code != 0 {
		t.Fatalf("set-context token: %d %s", code, errOut)
	}
	data, _ := os.ReadFile(path)
	var cf configFile
	if err := yaml.UnmarshalStrict(data, &cf); err != nil {
		t.Fatal(err)
	}
	c := cf.find("local")
	if cf.CurrentContext != "local" || c == nil || c.Endpoint != serverURL || c.Auth == nil || c.Auth.Token != "t0k" {
		t.Errorf("config file:\n%s", data)
	}
	// This server runs without authentication, so the token is simply
	// sent along and the request succeeds.
	if _, errOut, code := o2ctlRun(env, "get", "rp"); code != 0 {
		t.Errorf("with a bearer token: %d %s", code, errOut)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	out, _ := o2ctl(t, 0, "version", "-o", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Client.Version == "" || v.Server == nil || len(v.Server.APIVersions) == 0 {
		t.Fatalf("version: %v %s", err, out)
	}
	out, _, code := o2ctlRun(nil, "version", "--client")
	if code != 0 || !strings.HasPrefix(out, "Client Version: ") || strings.Contains(out, "Server") {
		t.Errorf("version --client: %d %q", code, out)
	}
	out, _ = o2ctl(t, 0, "completion", "bash")
	if !strings.Contains(out, "o2ctl") {
		t.Errorf("completion script: %.100s", out)
	}
	out, _ = o2ctl(t, 0, "__complete", "get", "")
	for _, k := range []string{"resourcepools", "rp", "resources", "resourcetypes", "dm", "alarms", "subscriptions",
		"alarmsubscriptions", "probablecauses", "alarmdictionaries"} {
		if !strings.Contains(out, k+"\n") {
			t.Errorf("kind completion lacks %s:\n%s", k, out)
		}
	}
	pool := firstID(t, "rp")
	out, _ = o2ctl(t, 0, "__complete", "get", "rp", "")
	if !strings.Contains(out, pool) {
		t.Errorf("ID completion lacks %s:\n%s", pool, out)
	}
	out, _ = o2ctl(t, 0, "--help")
	if !strings.Contains(out, "Exit status:") || !strings.Contains(out, "2  the requested object does not exist") ||
		!strings.Contains(out, "5  conflict") {
		t.Errorf("help lacks the exit status table:\n%s", out)
	}
}
