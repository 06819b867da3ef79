// Package e2e builds the real o2ims binary and exercises it as a user would.
package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
	_ "modernc.org/sqlite" // to make a backup of a newer schema

	"github.com/nephoran/o2ims/internal/testenv"
	"github.com/nephoran/o2ims/internal/testserver"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "o2ims-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, err = testserver.Build("..", dir, "./cmd/o2ims")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testenv.Cleanup()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running o2ims process and how the test reaches it.
type server struct {
	*testserver.Server
	// client talks to the server (TLS settings, tokens); http.DefaultClient
	// unless startWith was given one.
	client *http.Client
	token  string
	base   string
}

// start runs "o2ims serve" with args on a free loopback port and waits
// until it reports readiness.
func start(t testing.TB, args ...string) *server {
	t.Helper()
	return startWith(t, http.DefaultClient, "http", args...)
}

// startWith starts a server reached with client over scheme (http, https),
// on a fresh data directory unless args name one.
func startWith(t testing.TB, client *http.Client, scheme string, args ...string) *server {
	t.Helper()
	p, err := testserver.Start(binary, t.TempDir(), args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", p.Logs())
		}
	})
	s := &server{Server: p, client: client, base: scheme + "://" + p.Addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, p.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) get(t testing.TB, path string) (int, http.Header, []byte) {
	t.Helper()
	return s.do(t, "GET", path)
}

func (s *server) do(t testing.TB, method, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func decodeList(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("not a JSON array: %v: %s", err, b)
	}
	return out
}

// stop sends SIGTERM and expects a clean exit.
func (s *server) stop(t testing.TB) {
	t.Helper()
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
		if err := s.Err(); err != nil {
			t.Fatalf("server exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
}

const inv = "/o2ims-infrastructureInventory"

// TestTour runs the README's tour against the default server on SQLite and
// against PostgreSQL.
func TestTour(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			args := []string{"--data-dir", t.TempDir()}
			if backend == "postgres" {
				args = append(args, "--database-url", sqlstoretest.PostgresOptions(t).URL)
			}
			s := start(t, args...)
			cloud, host := tour(t, s)
			s.stop(t)
			if !strings.Contains(s.Logs(), `"msg":"shutting down"`) {
				t.Error("no graceful shutdown logged")
			}
			// Restarting on the same database keeps the O-Cloud and object ids.
			s2 := start(t, args...)
			if got := oCloudID(t, s2); got != cloud {
				t.Errorf("oCloudId changed across restart: %s -> %s", cloud, got)
			}
			if status, _, b := s2.get(t, "/o2ims/v1/resources/"+host); status != 200 {
				t.Errorf("host resource id changed across restart: %d %s", status, b)
			}
			s2.stop(t)
		})
	}
}

func oCloudID(t testing.TB, s *server) string {
	_, _, b := s.get(t, inv+"/v1")
	var c struct {
		OCloudID string `json:"oCloudId"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.OCloudID == "" {
		t.Fatalf("cloud info %s", b)
	}
	return c.OCloudID
}

func tour(t testing.TB, s *server) (cloud, hostID string) {
	status, _, body := s.get(t, inv+"/api_versions")
	if status != 200 || !strings.Contains(string(body), `"apiVersions":[{"version":"1.0.0"},{"version":"2.0.0"}]`) {
		t.Fatalf("api_versions: %d %s", status, body)
	}
	cloud = oCloudID(t, s)

	// Inventory v2 on the embedded default: the default location and the
	// host's site there, holding the host's pool.
	_, _, body = s.get(t, inv+"/v2/locations")
	if locs := decodeList(t, body); len(locs) != 1 || locs[0]["globalLocationId"] != "default" || len(locs[0]["oCloudSiteIds"].([]any)) != 1 {
		t.Fatalf("v2 locations: %s", body)
	}
	_, _, body = s.get(t, inv+"/v2/oCloudSites")
	sites := decodeList(t, body)
	if len(sites) != 1 || sites[0]["globalLocationId"] != "default" || len(sites[0]["resourcePools"].([]any)) != 1 {
		t.Fatalf("v2 sites: %s", body)
	}
	_, _, body = s.get(t, inv+"/v2/resourcePools")
	if p := decodeList(t, body); len(p) != 1 || p[0]["oCloudSiteId"] != sites[0]["oCloudSiteId"] || p[0]["globalLocationId"] != nil {
		t.Fatalf("v2 pools: %s", body)
	}

	_, _, body = s.get(t, inv+"/v1/resourcePools")
	pools := decodeList(t, body)
	if len(pools) != 1 || pools[0]["oCloudId"] != cloud {
		t.Fatalf("pools: %s", body)
	}
	pool := fmt.Sprint(pools[0]["resourcePoolId"])

	_, _, body = s.get(t, inv+"/v1/resourcePools/"+pool+"/resources")
	resources := decodeList(t, body)
	if len(resources) < 3 {
		t.Fatalf("expected host, CPU and memory resources: %s", body)
	}
	for _, r := range resources {
		if _, ok := r["extensions"]; ok {
			t.Fatalf("extensions returned by default: %v", r)
		}
	}

	_, _, body = s.get(t, inv+"/v1/resourcePools/"+pool+"/resources?filter=(eq,tags,host)&all_fields")
	hosts := decodeList(t, body)
	if len(hosts) != 1 || hosts[0]["elements"] == nil || hosts[0]["extensions"] == nil {
		t.Fatalf("host resource: %s", body)
	}
	hostID = fmt.Sprint(hosts[0]["resourceId"])

	// Typed comparison on a nested extension: every memory resource is
	// larger than 1 MB, none larger than 1 PB.
	_, _, body = s.get(t, inv+"/v1/resourcePools/"+pool+"/resources?filter=(eq,tags,memory);(gt,extensions/totalBytes,1000000)")
	if n := len(decodeList(t, body)); n != 1 {
		t.Fatalf("memory > 1 MB: %d results: %s", n, body)
	}
	_, _, body = s.get(t, inv+"/v1/resourcePools/"+pool+"/resources?filter=(eq,tags,memory);(gt,extensions/totalBytes,1000000000000000)")
	if n := len(decodeList(t, body)); n != 0 {
		t.Fatalf("memory > 1 PB: %d results", n)
	}
	_, _, body = s.get(t, inv+"/v1/resourcePools/"+pool+"/resources?filter=(eq,parentId,"+hostID+")")
	if n := len(decodeList(t, body)); n != len(resources)-1 {
		t.Fatalf("children of host: %d, want %d", n, len(resources)-1)
	}
	_, _, body = s.get(t, inv+"/v1/resourceTypes?filter=(cont,name,"+url.QueryEscape("'System memory'")+")")
	if types := decodeList(t, body); len(types) != 1 || types[0]["resourceClass"] != "COMPUTE" {
		t.Fatalf("memory type: %s", body)
	}
	_, _, body = s.get(t, inv+"/v1/resourcePools/"+pool+"/resources?fields=extensions/totalBytes&filter=(eq,tags,memory)")
	if mem := decodeList(t, body); len(mem) != 1 || len(mem[0]["extensions"].(map[string]any)) != 1 {
		t.Fatalf("fields=extensions/totalBytes: %s", body)
	}

	// Paging through the types two at a time visits each once.
	_, _, body = s.get(t, inv+"/v1/resourceTypes")
	allTypes := len(decodeList(t, body))
	seen := map[string]bool{}
	next := inv + "/v1/resourceTypes?limit=2"
	for next != "" {
		_, h, b := s.get(t, next)
		for _, ty := range decodeList(t, b) {
			id := fmt.Sprint(ty["resourceTypeId"])
			if seen[id] {
				t.Fatalf("type %s on two pages", id)
			}
			seen[id] = true
		}
		next = ""
		if m := regexp.MustCompile(`^<([^>]+)>; rel="next"$`).FindStringSubmatch(h.Get("Link")); m != nil {
			next = m[1]
		}
	}
	if len(seen) != allTypes || allTypes < 3 {
		t.Fatalf("paging saw %d of %d types", len(seen), allTypes)
	}

	// The O-Cloud has a resource type of its own: alarms raised on it as a
	// whole carry it, so filters on resourceTypeID find them.
	_, _, body = s.get(t, inv+"/v1/resourceTypes?filter=(eq,name,O-Cloud)&all_fields")
	oc := decodeList(t, body)
	if len(oc) != 1 || oc[0]["resourceKind"] != "LOGICAL" || oc[0]["extensions"] == nil {
		t.Fatalf("the O-Cloud resource type: %s", body)
	}
	fireAlerts(t, s, "tour", 1)
	_, _, body = s.get(t, "/o2ims-infrastructureMonitoring/v1/alarms?filter=(eq,resourceTypeID,"+fmt.Sprint(oc[0]["resourceTypeId"])+")")
	found := false
	for _, a := range decodeList(t, body) {
		// The default alarm list shows extensions, with the alert name.
		if ext, _ := a["extensions"].(map[string]any); ext["alertName"] == "E2E" {
			found = a["resourceID"] == cloud
		}
	}
	if !found {
		t.Fatalf("no alarm of the O-Cloud type on the O-Cloud with the alert name: %s", body)
	}

	// Nephoran aliases.
	_, _, body = s.get(t, "/o2ims/v1/resources?filter=(eq,tags,host)")
	if l := decodeList(t, body); len(l) != 1 || l[0]["resourceId"] != hostID {
		t.Fatalf("/o2ims/v1/resources: %s", body)
	}
	// The host, and the local GitOps repository of the embedded default.
	_, _, body = s.get(t, "/o2ims/v1/deploymentManagers?filter=(eq,capabilities/delivery,gitops)")
	if l := decodeList(t, body); len(l) != 1 || l[0]["name"] != "local-gitops" || l[0]["serviceUri"] != s.base+"/gitops/o2ims-deployments.git" {
		t.Fatalf("/o2ims/v1/deploymentManagers, GitOps: %s", body)
	}
	_, _, body = s.get(t, "/o2ims/v1/deploymentManagers")
	if l := decodeList(t, body); len(l) != 2 {
		t.Fatalf("/o2ims/v1/deploymentManagers: %s", body)
	}

	// Problems.
	for _, c := range []struct {
		method, path string
		status       int
		detail       string
	}{
		{"GET", inv + "/v1/resourceTypes?filter=(eq,colour,red)", 400, "colour"},
		{"GET", inv + "/v1/resourcePools/00000000-0000-0000-0000-000000000000", 404, "not found"},
		{"DELETE", inv + "/v1/resourcePools", 405, "DELETE"},
		{"GET", "/nowhere", 404, "/nowhere"},
	} {
		status, h, b := s.do(t, c.method, c.path)
		var p map[string]any
		if status != c.status || h.Get("Content-Type") != "application/problem+json" || json.Unmarshal(b, &p) != nil ||
			!strings.Contains(fmt.Sprint(p["detail"]), c.detail) || p["status"] != float64(c.status) {
			t.Errorf("%s %s: %d %s %s", c.method, c.path, status, h.Get("Content-Type"), b)
		}
		if c.status == 405 && h.Get("Allow") == "" {
			t.Errorf("405 without Allow")
		}
	}

	_, _, body = s.get(t, "/metrics")
	if !strings.Contains(string(body), `o2ims_api_requests_total{code="200",endpoint="/o2ims-infrastructureInventory/v1/resourcePools/{resourcePoolId}/resources",method="GET"}`) {
		t.Errorf("metrics do not count the resources endpoint")
	}
	status, _, body = s.get(t, "/openapi/inventory.yaml")
	if status != 200 || !strings.Contains(string(body), "/o2ims-infrastructureInventory/v1/resourcePools") {
		t.Errorf("openapi: %d", status)
	}
	return cloud, hostID
}

// latest is the newest schema version: the number of migrations.
var latest = func() int {
	files, _ := filepath.Glob(filepath.Join("..", "internal", "sqlstore", "migrations", "sqlite", "*.sql"))
	return len(files)
}()

// TestMigrateCommand moves the schema down and up with the real binary.
func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, binary, append([]string{"migrate", "--data-dir", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("migrate %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run(); !strings.Contains(out, fmt.Sprintf("schema version %d (latest %d)", latest, latest)) {
		t.Fatalf("migrate up: %s", out)
	}
	if out := run("--to-version", "1"); !strings.Contains(out, fmt.Sprintf("schema version 1 (latest %d)", latest)) {
		t.Fatalf("migrate down one: %s", out)
	}
	if out := run("--to-version", "0"); !strings.Contains(out, "schema version 0") {
		t.Fatalf("migrate down: %s", out)
	}
	if out := run("--to-version", "7"); !strings.Contains(out, "schema version 7") {
		t.Fatalf("migrate up again: %s", out)
	}
	out, err := exec.Command(binary, "migrate", "--data-dir", dir, "--to-version", "99").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no migration with version 99") {
		t.Fatalf("unknown version: %v %s", err, out)
	}
}

// TestScrapePaths: the integration guide's two scrape paths each serve
// only their metric families, in the Prometheus text format.
func TestScrapePaths(t *testing.T) {
	s := start(t)
	waitHTTP(t, s, "/o2ims/v1/resources", "resourceId")
	for path, c := range map[string]struct{ want, not []string }{
		"/o2ims/v1/providers/metrics": {
			want: []string{`o2ims_provider_health{provider="local"} 1`, `o2ims_provider_objects{kind="resources",provider="local"}`,
				`o2ims_provider_discovery_duration_seconds{provider="local"}`, `o2ims_provider_discovery_errors_total{provider="local"} 0`,
				`o2ims_provider_last_success_timestamp_seconds{provider="local"}`},
			not: []string{"o2ims_api_requests_total", "o2ims_resources{", "go_goroutines"},
		},
		"/o2ims/v1/resources/metrics": {
			want: []string{"# TYPE o2ims_resources gauge", `o2ims_resources{pool_id="`},
			not:  []string{"o2ims_provider_health", "o2ims_api_requests_total", "process_cpu_seconds_total"},
		},
	} {
		status, h, body := s.get(t, path)
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
			t.Fatalf("%s: %d %s", path, status, h.Get("Content-Type"))
		}
		for _, w := range c.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s lacks %s:\n%s", path, w, body)
			}
		}
		for _, n := range c.not {
			if strings.Contains(string(body), n) {
				t.Errorf("%s has %s", path, n)
			}
		}
	}
	if _, _, body := s.get(t, "/metrics"); !strings.Contains(string(body), "o2ims_resources{") || !strings.Contains(string(body), "o2ims_api_requests_total") {
		t.Error("/metrics does not keep every family")
	}
}

// TestDebugEndpoints: pprof and expvar on their own loopback listener,
// never on the API's, and never on an address beyond loopback.
func TestDebugEndpoints(t *testing.T) {
	out, err := exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--agent-listen=", "--data-dir", t.TempDir(), "--debug-listen", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "loopback only") {
		t.Fatalf("--debug-listen 0.0.0.0:0: %v\n%s", err, out)
	}
	s := start(t, "--local-provider=false", "--debug-listen", "127.0.0.1:0")
	recs := s.LogRecords("debug endpoints serving")
	if len(recs) != 1 {
		t.Fatalf("no debug listener in the log:\n%s", s.Logs())
	}
	addr := fmt.Sprint(recs[0]["addr"])
	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/debug/vars": `"memstats"`, "/debug/pprof/goroutine?debug=1": "goroutine profile"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d, lacks %q", path, resp.StatusCode, want)
		}
	}
	if status, _, _ := s.get(t, "/debug/pprof/"); status != 404 {
		t.Errorf("the API listener serves /debug/pprof/: %d", status)
	}
}

// TestBackupAndRestore: a backup taken while the server writes restores
// into a new data directory with everything committed before it; an
// older backup is migrated on restore, a newer one refused; PostgreSQL
// is pointed to its own tools.
func TestBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	s := start(t, "--data-dir", dir)
	if status, body := s.post(t, "/o2ims-infrastructureInventory/v1/subscriptions", map[string]any{
		"callback": "http://127.0.0.1:9/before-backup", "consumerSubscriptionId": "backup-test",
	}); status != 201 {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	// Alarms keep being raised while the backup runs.
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		fireAlerts(t, s, "during-backup", 400)
	}()
	backup := filepath.Join(t.TempDir(), "o2ims.backup")
	if out := runCommand(t, true, "backup", "--data-dir", dir, "--to", backup); !strings.Contains(out, fmt.Sprintf("backed up schema version %d", latest)) {
		t.Fatalf("backup: %s", out)
	}
	<-writing
	runCommand(t, false, "backup", "--data-dir", dir, "--to", backup) // the file exists
	s.stop(t)

	restored := t.TempDir()
	if out := runCommand(t, true, "restore", "--data-dir", restored, "--from", backup); !strings.Contains(out, fmt.Sprintf("restored schema version %d", latest)) {
		t.Fatalf("restore: %s", out)
	}
	s2 := start(t, "--data-dir", restored)
	_, _, body := s2.get(t, "/o2ims-infrastructureInventory/v1/subscriptions?filter=(eq,consumerSubscriptionId,backup-test)")
	if l := decodeList(t, body); len(l) != 1 {
		t.Fatalf("the restored server's subscriptions: %s", body)
	}
	s2.stop(t)

	// An older schema is migrated on restore.
	old := t.TempDir()
	runCommand(t, true, "migrate", "--data-dir", old, "--to-version", "5")
	oldBackup := filepath.Join(t.TempDir(), "old.backup")
	runCommand(t, true, "backup", "--data-dir", old, "--to", oldBackup)
	if out := runCommand(t, true, "restore", "--data-dir", t.TempDir(), "--from", oldBackup); !strings.Contains(out, "restored schema version 5") || !strings.Contains(out, fmt.Sprintf("now at %d", latest)) {
		t.Fatalf("restore of an older backup: %s", out)
	}
	// A backup of a newer schema is refused, and nothing changes.
	db, err := sql.Open("sqlite", "file:"+oldBackup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out := runCommand(t, false, "restore", "--data-dir", restored, "--from", oldBackup); !strings.Contains(out, "newer than this binary") {
		t.Errorf("restore of a newer backup: %s", out)
	}
	s3 := start(t, "--data-dir", restored)
	if _, _, body := s3.get(t, "/o2ims-infrastructureInventory/v1/subscriptions?filter=(eq,consumerSubscriptionId,backup-test)"); len(decodeList(t, body)) != 1 {
		t.Fatalf("a refused restore changed the data: %s", body)
	}
	s3.stop(t)
	// Not a database is refused with a reason.
	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runCommand(t, false, "restore", "--data-dir", t.TempDir(), "--from", junk); !strings.Contains(out, "not a database of this server") {
		t.Errorf("restore of junk: %s", out)
	}
}

// runCommand runs the binary with args, wanting it to succeed or fail, and
// returns its output.
func runCommand(t *testing.T, want bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	if (err == nil) != want {
		t.Fatalf("o2ims %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestBackupAndRestorePostgres backs a PostgreSQL database (a schema of
// its own) up with pg_dump while the server writes, drops the schema,
// and restores it with pg_restore: the restored server has what the
// backup had; junk and a dump of a newer schema are refused.
func TestBackupAndRestorePostgres(t *testing.T) {
	dbURL := sqlstoretest.PostgresOptions(t).URL
	s := start(t, "--database-url", dbURL, "--local-provider=false")
	if status, body := s.post(t, "/o2ims-infrastructureInventory/v1/subscriptions", map[string]any{
		"callback": "http://127.0.0.1:9/before-backup", "consumerSubscriptionId": "pg-backup-test",
	}); status != 201 {
		t.Fatalf("subscribe: %d %s", status, body)
	}
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		fireAlerts(t, s, "pg-during-backup", 200)
	}()
	backup := filepath.Join(t.TempDir(), "o2ims.pgdump")
	if out := runCommand(t, true, "backup", "--database-url", dbURL, "--to", backup); !strings.Contains(out, fmt.Sprintf("backed up schema version %d", latest)) {
		t.Fatalf("backup: %s", out)
	}
	<-writing
	runCommand(t, false, "backup", "--database-url", dbURL, "--to", backup) // the file exists
	s.stop(t)

	// The database loses everything; the restore brings the backup back.
	u, _ := url.Parse(dbURL)
	schema := u.Query().Get("search_path")
	db, err := sql.Open("pgx", sqlstoretest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE; CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	if out := runCommand(t, true, "restore", "--database-url", dbURL, "--from", backup); !strings.Contains(out, fmt.Sprintf("restored schema version %d", latest)) {
		t.Fatalf("restore: %s", out)
	}
	s2 := start(t, "--database-url", dbURL, "--local-provider=false")
	if _, _, body := s2.get(t, "/o2ims-infrastructureInventory/v1/subscriptions?filter=(eq,consumerSubscriptionId,pg-backup-test)"); len(decodeList(t, body)) != 1 {
		t.Fatalf("the restored server's subscriptions: %s", body)
	}
	s2.stop(t)

	junk := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(junk, []byte("not a dump"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := runCommand(t, false, "restore", "--database-url", dbURL, "--from", junk); !strings.Contains(out, "not a dump of this server's database") {
		t.Errorf("restore of junk: %s", out)
	}
	// A dump of a newer schema is refused before anything changes.
	if _, err := db.Exec("INSERT INTO " + schema + ".goose_db_version (version_id, is_applied) VALUES (999, true)"); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "newer.pgdump")
	runCommand(t, true, "backup", "--database-url", dbURL, "--to", newer)
	if _, err := db.Exec("DELETE FROM " + schema + ".goose_db_version WHERE version_id = 999"); err != nil {
		t.Fatal(err)
	}
	if out := runCommand(t, false, "restore", "--database-url", dbURL, "--from", newer); !strings.Contains(out, "newer than this binary") {
		t.Errorf("restore of a newer dump: %s", out)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + schema + ".goose_db_version WHERE version_id = 999").Scan(&n); err != nil || n != 0 {
		t.Errorf("a refused restore changed the database: %d rows of version 999, %v", n, err)
	}
}
