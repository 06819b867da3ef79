package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/testenv"
)

const (
	alertRules     = "../deploy/prometheus/o2ims-alerts.yml"
	alertRuleTests = "../deploy/prometheus/o2ims-alerts_test.yml"
	dashboard      = "../deploy/grafana/o2ims-dashboard.json"
)

// forDuration matches the pending durations of the shipped rules, which
// the test shortens so that pending turns into firing within seconds.
var forDuration = regexp.MustCompile(`(?m)^(\s+)for: (\S+)\s*$`)

// TestPrometheusAlertsAndDashboard loads the shipped alert rules into a
// real Prometheus (hack/prometheus/build.sh) that scrapes the integration
// guide's three paths of a real server every second, and drives the
// conditions with the server: a provider whose API server cannot be
// reached, a pool on the test control plane whose pods request 95% of it,
// a subscriber that fails until its notifications expire, a CNF instance
// and a deployment whose manifest the API server rejects. Each of those
// alerts fires, after a pending state when its rule waits (2s here, the
// shipped rules' for: shortened). The latency alert is not driven (no
// honest load makes this server's 95th percentile exceed 500ms): its rule
// is shown to evaluate, inactive, on real latencies, and the rules' unit
// tests (promtool test rules) fire it on synthetic series. Then every
// panel query of the shipped Grafana dashboard returns series from that
// Prometheus.
func TestPrometheusAlertsAndDashboard(t *testing.T) {
	bin := testenv.RequirePrometheus(t)
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// The shipped rules pass promtool, and their unit tests, and wait
	// realistically long.
	for _, args := range [][]string{{"check", "rules", alertRules}, {"test", "rules", alertRuleTests}} {
		if out, err := exec.CommandContext(ctx, filepath.Join(bin, "promtool"), args...).CombinedOutput(); err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	shipped, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range forDuration.FindAllStringSubmatch(string(shipped), -1) {
		if d, err := time.ParseDuration(m[2]); err != nil || d < time.Minute {
			t.Errorf("shipped rule waits for: %s; want a minute or more", m[2])
		}
	}

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv("O2IMS_SECRETS_KEY", base64.StdEncoding.EncodeToString(key))
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	uniq := "prom-" + hex.EncodeToString(suffix)

	// Two pools on the control plane: "hot", whose one node (1 CPU, 1Gi)
	// the test's pod nearly fills, and "ok" for the failing CNF instance
	// and deployment.
	hot, ok := uniq+"-hot", uniq+"-ok"
	for pool, size := range map[string][2]string{hot: {"1", "1Gi"}, ok: {"4", "8Gi"}} {
		node := pool + "-0"
		if err := plane.CreateNode(ctx, node, map[string]string{"nephoran.io/resource-pool": pool}, size[0], size[1]); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), node) })
	}

	// Subscribers: inventory changes are accepted, alarms refused with a
	// 503 (retried) until they outlive --notification-max-age.
	accepting := newChangeReceiver(t)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	t.Cleanup(refusing.Close)

	s := start(t, "--notification-max-age", "15s", "--cnf-operation-timeout", "60s")
	if status, body := s.post(t, inv+"/v1/subscriptions", map[string]any{"callback": accepting.srv.URL}); status != 201 {
		t.Fatalf("inventory subscription: %d %s", status, body)
	}
	status, body := s.post(t, "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions", map[string]any{"callback": refusing.URL, "consumerSubscriptionId": uniq})
	if status != 201 {
		t.Fatalf("alarm subscription: %d %s", status, body)
	}
	alarmSub := fmt.Sprint(decodeMap(t, body)["alarmSubscriptionId"])

	prom := startPrometheus(t, bin, s.Addr)

	// A provider whose API server refuses connections.
	if !bytes.Contains(plane.RESTConfigBytes, []byte(plane.APIServerURL)) {
		t.Fatalf("the plane's kubeconfig does not name %s", plane.APIServerURL)
	}
	unreachable := bytes.ReplaceAll(plane.RESTConfigBytes, []byte(plane.APIServerURL), []byte("https://127.0.0.1:1"))
	down := uniq + "-down"
	if status, body := s.post(t, "/o2ims/v1/providers", map[string]any{"name": down, "type": "kubernetes", "config": map[string]any{"kubeconfig": string(unreachable)}}); status != 201 {
		t.Fatalf("register %s: %d %s", down, status, body)
	}
	// Seen through /api/v1/alerts: pending, then firing, the same alert.
	pending := prom.waitAlert(t, "O2IMSProviderDown", map[string]string{"provider": down}, "pending")
	fired := prom.waitAlert(t, "O2IMSProviderDown", map[string]string{"provider": down}, "firing")
	if !fired.ActiveAt.Equal(pending.ActiveAt) {
		t.Errorf("O2IMSProviderDown pending since %v, firing since %v", pending.ActiveAt, fired.ActiveAt)
	}
	t.Logf("O2IMSProviderDown %s pending at %s, firing %v later", down, pending.ActiveAt.Format(time.TimeOnly),
		time.Since(pending.ActiveAt).Round(100*time.Millisecond))

	// The control plane itself.
	cluster := uniq + "-cluster"
	if status, body := s.post(t, "/o2ims/v1/providers", map[string]any{"name": cluster, "type": "kubernetes", "config": map[string]any{"kubeconfig": string(plane.RESTConfigBytes)}}); status != 201 {
		t.Fatalf("register %s: %d %s", cluster, status, body)
	}
	waitHTTP(t, s, "/o2ims/v1/deploymentManagers?filter=(eq,name,"+cluster+")", "deploymentManagerId")
	_, _, b := s.get(t, "/o2ims/v1/deploymentManagers?filter=(eq,name,"+cluster+")")
	dmID := fmt.Sprint(decodeList(t, b)[0]["deploymentManagerId"])
	hotPool, okPool := poolID(t, s, hot), poolID(t, s, ok)

	// The hot pool over 90%: a pod requesting 950m of its 1 CPU and 950Mi
	// of its 1Gi.
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": uniq + "-hog", "namespace": "default"},
		"spec": map[string]any{
			"nodeSelector": map[string]string{"nephoran.io/resource-pool": hot},
			"tolerations":  []map[string]any{{"operator": "Exists"}},
			"containers": []map[string]any{{"name": "c", "image": "busybox",
				"resources": map[string]any{"requests": map[string]string{"cpu": "950m", "memory": "950Mi"}}}},
		},
	}
	if err := plane.Do(ctx, "POST", "/api/v1/namespaces/default/pods", "application/json", pod, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = plane.Do(context.Background(), "DELETE", "/api/v1/namespaces/default/pods/"+uniq+"-hog?gracePeriodSeconds=0", "", nil, nil)
	})

	// A backlog: 150 alarms raised through the Alertmanager receiver, each
	// an event the refusing subscriber does not take.
	fireAlerts(t, s, uniq, 150)

	// A CNF instance and a deployment of a package whose manifest the API
	// server rejects.
	bad := cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", func(name string, b []byte) []byte {
		if name == "deployment.yaml" {
			return bytes.Replace(b, []byte("- name: app"), []byte("- name: Bad_Name"), 1)
		}
		return b
	})
	if status, body := uploadPackage(t, s, map[string]any{"name": "bad", "version": "1", "vnfdInfo": map[string]any{"vnfdId": "vnfd-bad"}, "flavours": []map[string]any{{"flavourId": "f"}}}, bad); status != 201 {
		t.Fatalf("register the bad package: %d %s", status, body)
	}
	_, body = s.post(t, "/o2ims/v1/cnfInstances", map[string]any{"vnfdId": "vnfd-bad"})
	instID := fmt.Sprint(decodeMap(t, body)["cnfInstanceId"])
	status, body = s.post(t, "/o2ims/v1/cnfInstances/"+instID+"/instantiate", map[string]any{"flavourId": "f", "deploymentManagerId": dmID, "resourcePoolId": okPool, "namespace": uniq + "-cnf"})
	if status != 202 {
		t.Fatalf("instantiate: %d %s", status, body)
	}
	if op := waitOp(t, s, fmt.Sprint(decodeMap(t, body)["id"])); op["operationState"] != "FAILED" {
		t.Fatalf("instantiating the bad package: %v", op)
	}
	status, body = s.post(t, "/o2ims/v1/deployments", map[string]any{
		"name": uniq + "-dep", "resourcePools": []string{okPool},
		"components": []map[string]any{{"name": "bad", "vnfdId": "vnfd-bad", "replicas": 1, "namespace": uniq + "-dep",
			"resources": map[string]string{"cpu": "100m", "memory": "64Mi"}}},
	})
	if status != 201 && status != 202 {
		t.Fatalf("create deployment: %d %s", status, body)
	}

	// Every driven alert goes pending (when its rule waits), then firing.
	expected := []struct {
		name   string
		labels map[string]string
	}{
		{"O2IMSProviderDown", map[string]string{"provider": down}},
		{"O2IMSResourcePoolUtilization", map[string]string{"pool_id": hotPool, "resource": "cpu"}},
		{"O2IMSResourcePoolUtilization", map[string]string{"pool_id": hotPool, "resource": "memory"}},
		{"O2IMSNotificationBacklog", map[string]string{"subscription": alarmSub}},
		{"O2IMSNotificationsExpired", map[string]string{"stream": "alarm"}},
		{"O2IMSCnfInstancesFailed", map[string]string{"state": "FAILED"}},
		{"O2IMSDeploymentsFailed", map[string]string{"phase": "FAILED"}},
	}
	rules := prom.rules(t)
	firing := make([]*promAlert, len(expected))
	begin := time.Now()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		missing := 0
		for _, a := range prom.alerts(t) {
			for i, e := range expected {
				if firing[i] == nil && a.Labels["alertname"] == e.name && a.State == "firing" && matches(a.Labels, e.labels) {
					firing[i] = &a
					t.Logf("%s %v firing (active since %s), %v after the last condition was set", e.name, e.labels, a.ActiveAt.Format(time.TimeOnly), time.Since(begin).Round(100*time.Millisecond))
				}
			}
		}
		for i, e := range expected {
			if firing[i] == nil {
				missing++
				if time.Now().After(deadline) {
					t.Errorf("%s %v never fired", e.name, e.labels)
				}
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if t.Failed() {
		_, _, b := s.get(t, "/o2ims/v1/providers/health")
		t.Fatalf("alerts: %+v\nprovider health: %s\nPrometheus log:\n%s", prom.alerts(t), b, prom.Log())
	}
	for i, e := range expected {
		a := firing[i]
		// ALERTS keeps the states the rule went through.
		sel := fmt.Sprintf(`ALERTS{alertname=%q,alertstate="pending"`, e.name)
		for k, v := range e.labels {
			sel += fmt.Sprintf(",%s=%q", k, v)
		}
		pending := prom.query(t, "max_over_time("+sel+"}[10m])")
		if waits := rules[e.name].Duration > 0; waits != (len(pending) > 0) {
			t.Errorf("%s %v: pending before firing %v, rule waits %vs", e.name, e.labels, len(pending) > 0, rules[e.name].Duration)
		}
		if a.Labels["severity"] == "" || a.Annotations["summary"] == "" || a.Annotations["description"] == "" || strings.Contains(a.Annotations["summary"]+a.Annotations["description"], "<no value>") {
			t.Errorf("%s: labels %v, annotations %v", e.name, a.Labels, a.Annotations)
		}
		for _, v := range e.labels {
			if e.name != "O2IMSNotificationsExpired" && !strings.Contains(a.Annotations["summary"]+a.Annotations["description"], v) {
				t.Errorf("%s: annotations do not name %s: %v", e.name, v, a.Annotations)
			}
		}
	}
	// Healthy providers and the other pools raise nothing.
	for _, a := range prom.alerts(t) {
		if a.Labels["alertname"] == "O2IMSProviderDown" && a.Labels["provider"] != down ||
			a.Labels["alertname"] == "O2IMSResourcePoolUtilization" && a.Labels["pool_id"] != hotPool {
			t.Errorf("alert on a healthy object: %v", a.Labels)
		}
	}

	// Traffic for the API panels, a 404 among it.
	for _, path := range []string{"/o2ims/v1/resourcePools", inv + "/v1/resources", "/o2ims/v1/deployments", "/o2ims/v1/no-such-thing"} {
		for range 5 {
			s.get(t, path)
		}
	}

	// The latency rule evaluates on real latencies, without error, and
	// does not fire.
	rules = prom.rules(t)
	for name, r := range rules {
		if r.Health != "ok" || r.LastError != "" {
			t.Errorf("rule %s: health %s, error %q", name, r.Health, r.LastError)
		}
	}
	latency, found := rules["O2IMSHighLatency"]
	if !found {
		t.Fatal("no O2IMSHighLatency rule loaded")
	}
	if latency.State != "inactive" {
		t.Errorf("O2IMSHighLatency is %s", latency.State)
	}
	p95, _, _ := strings.Cut(latency.Query, " > ")
	res := prom.query(t, p95)
	if len(res) != 1 {
		t.Fatalf("%s: %d series, want 1", p95, len(res))
	}
	if v := res[0].value(t); math.IsNaN(v) || v <= 0 || v >= 0.5 {
		t.Errorf("95th percentile of API latencies %v, want a real one under 500ms", v)
	} else {
		t.Logf("95th percentile of API latencies: %.4fs", v)
	}

	// Every query of the dashboard returns series from this Prometheus.
	raw, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		SchemaVersion int `json:"schemaVersion"`
		Inputs        []struct {
			Name, Type, PluginID string
		} `json:"__inputs"`
		Panels []struct {
			Title, Type string
			Datasource  struct{ Type, UID string }
			Targets     []struct {
				RefID      string `json:"refId"`
				Expr       string
				Datasource struct{ Type, UID string }
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboard, err)
	}
	if dash.SchemaVersion < 39 || len(dash.Inputs) != 1 || dash.Inputs[0].Name != "DS_PROMETHEUS" || dash.Inputs[0].PluginID != "prometheus" {
		t.Errorf("dashboard schemaVersion %d, inputs %+v", dash.SchemaVersion, dash.Inputs)
	}
	var types []string
	rate := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "15s", "$__range", "1h")
	for _, p := range dash.Panels {
		types = append(types, p.Type)
		if p.Datasource.UID != "${DS_PROMETHEUS}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d queries", p.Title, p.Datasource, len(p.Targets))
		}
		for _, q := range p.Targets {
			if q.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q query %s: datasource %+v", p.Title, q.RefID, q.Datasource)
			}
			if n := len(prom.query(t, rate.Replace(q.Expr))); n == 0 {
				t.Errorf("panel %q query %s returns no series: %s", p.Title, q.RefID, q.Expr)
			} else {
				t.Logf("panel %q query %s: %d series", p.Title, q.RefID, n)
			}
		}
	}
	for _, want := range []string{"timeseries", "heatmap", "piechart", "bargauge"} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s panel in %v", want, types)
		}
	}
}

// matches reports whether labels has every label of want.
func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// promServer is Prometheus as the test uses it: its HTTP API.
type promServer struct {
	*testenv.Prometheus
}

// startPrometheus runs Prometheus on loopback, scraping the guide's three
// paths of the server at addr every second and evaluating a copy of the
// shipped rules, with their pending durations shortened to 2s, every
// second. It returns once every target is up.
func startPrometheus(t *testing.T, bin, addr string) promServer {
	t.Helper()
	dir := t.TempDir()
	shipped, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	fast := forDuration.ReplaceAllString(string(shipped), "${1}for: 2s")
	if err := os.WriteFile(filepath.Join(dir, "o2ims-alerts.yml"), []byte(fast), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	cfg.WriteString("rule_files:\n  - o2ims-alerts.yml\nscrape_configs:\n")
	for job, path := range map[string]string{"o2ims": "/metrics", "o2ims-providers": "/o2ims/v1/providers/metrics", "o2ims-resources": "/o2ims/v1/resources/metrics"} {
		fmt.Fprintf(&cfg, "  - job_name: %s\n    metrics_path: %s\n    static_configs:\n      - targets: [%q]\n", job, path, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := testenv.StartPrometheus(ctx, bin, dir, []byte(cfg.String()))
	if err != nil {
		t.Fatal(err)
	}
	prom := promServer{p}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Prometheus log:\n%s", p.Log())
		}
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		var targets struct {
			ActiveTargets []struct {
				ScrapePool string `json:"scrapePool"`
				Health     string `json:"health"`
				LastError  string `json:"lastError"`
			} `json:"activeTargets"`
		}
		prom.get(t, "/api/v1/targets", nil, &targets)
		up := 0
		for _, tg := range targets.ActiveTargets {
			if tg.Health == "up" {
				up++
			}
		}
		if up == 3 && len(targets.ActiveTargets) == 3 {
			return prom
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not up: %+v", targets.ActiveTargets)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// get calls the HTTP API and decodes its data into out.
func (p promServer) get(t testing.TB, path string, params url.Values, out any) {
	t.Helper()
	u := p.URL + path
	if params != nil {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("GET %s: %d, %v", u, resp.StatusCode, err)
	}
	if r.Status != "success" {
		t.Fatalf("GET %s: %d %s: %s", u, resp.StatusCode, r.ErrorType, r.Error)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
}

func (p promServer) alerts(t testing.TB) []promAlert {
	t.Helper()
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	p.get(t, "/api/v1/alerts", nil, &data)
	return data.Alerts
}

// waitAlert polls /api/v1/alerts until the alert name with labels is in
// state, for a minute at most.
func (p promServer) waitAlert(t testing.TB, name string, labels map[string]string, state string) promAlert {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var seen []string
		for _, a := range p.alerts(t) {
			if a.Labels["alertname"] == name && matches(a.Labels, labels) {
				if a.State == state {
					return a
				}
				seen = append(seen, a.State)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %v not %s within a minute (states %v)", name, labels, state, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type promRule struct {
	Name      string  `json:"name"`
	Query     string  `json:"query"`
	Duration  float64 `json:"duration"`
	Health    string  `json:"health"`
	LastError string  `json:"lastError"`
	State     string  `json:"state"`
}

// rules returns the alerting rules by name.
func (p promServer) rules(t testing.TB) map[string]promRule {
	t.Helper()
	var data struct {
		Groups []struct {
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	p.get(t, "/api/v1/rules", url.Values{"type": {"alert"}}, &data)
	out := map[string]promRule{}
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			out[r.Name] = r
		}
	}
	return out
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) value(t testing.TB) float64 {
	t.Helper()
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatalf("sample %v: %v", s.Value, err)
	}
	return v
}

// query evaluates an instant query, failing the test when it does not
// parse or returns something other than a vector.
func (p promServer) query(t testing.TB, q string) []promSample {
	t.Helper()
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	p.get(t, "/api/v1/query", url.Values{"query": {q}}, &data)
	if data.ResultType != "vector" {
		t.Fatalf("%s: result type %s", q, data.ResultType)
	}
	return data.Result
}
