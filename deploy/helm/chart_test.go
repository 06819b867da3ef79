// Package helm_test proves the Helm chart of deploy/helm/o2ims: it lints
// clean, renders with several value sets (and refuses the sets the server
// would refuse), and every object it renders passes a server-side dry-run
// apply on the test control plane with Istio's and the Prometheus
// operator's published CRDs installed.
package helm_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint/support"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const chartDir = "o2ims"

// valueSets are the configurations the chart is proven with.
var valueSets = map[string]map[string]any{
	// One replica on SQLite, no authentication: a trial.
	"minimal": {"replicaCount": 1, "insecureAllowUnauthenticated": true},
	// The integration guide's production shape: PostgreSQL, OIDC, the
	// mesh, the Prometheus operator, autoscaling.
	"production": {
		"database":         map[string]any{"existingSecret": "o2ims-db"},
		"secretsKey":       map[string]any{"existingSecret": "o2ims-secrets"},
		"config":           map[string]any{"oidc-issuer-url": "https://idp.example/realms/nephoran", "oidc-audience": "o2ims", "log-level": "info"},
		"istio":            map[string]any{"enabled": true, "gateways": []any{"istio-system/nephoran-gateway"}},
		"serviceMonitor":   map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"}},
		"prometheusRule":   map[string]any{"enabled": true},
		"autoscaling":      map[string]any{"enabled": true},
		"networkPolicy":    map[string]any{"ingressNamespaces": []any{"nephoran-system", "istio-system", "smo", "monitoring"}},
		"podAnnotations":   map[string]any{"sidecar.istio.io/inject": "true"},
		"imagePullSecrets": []any{map[string]any{"name": "registry"}},
	},
	// One replica with the agent listener for edge nodes, its data
	// directory (and so its edge CA) on a volume, in the mesh.
	"agent": {"replicaCount": 1, "insecureAllowUnauthenticated": true,
		"agent":       map[string]any{"enabled": true, "hosts": []any{"ims.example.net", "192.0.2.10"}, "allowedCIDRs": []any{"10.203.0.0/16", "192.0.2.0/24"}},
		"persistence": map[string]any{"existingClaim": "o2ims-data"},
		"istio":       map[string]any{"enabled": true}},
	// Without the optional objects.
	"bare": {"replicaCount": 1, "insecureAllowUnauthenticated": true, "networkPolicy": map[string]any{"enabled": false},
		"podDisruptionBudget": map[string]any{"enabled": false}, "serviceAccount": map[string]any{"create": false, "name": "default"}},
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// render renders the chart as an install of release o2ims in namespace.
func render(c *chart.Chart, namespace string, vals map[string]any) ([]*unstructured.Unstructured, error) {
	values, err := chartutil.ToRenderValues(c, vals, chartutil.ReleaseOptions{Name: "o2ims", Namespace: namespace, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(c, values)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(files[n], "\n---") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				return nil, err
			}
			if len(m) == 0 {
				continue
			}
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	return objs, nil
}

func TestLint(t *testing.T) {
	for name, vals := range valueSets {
		t.Run(name, func(t *testing.T) {
			res := action.NewLint().Run([]string{chartDir}, vals)
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m)
				}
			}
			if len(res.Errors) > 0 {
				t.Errorf("lint errors: %v", res.Errors)
			}
		})
	}
}

func TestRefusedValues(t *testing.T) {
	c := loadChart(t)
	tests := []struct {
		name string
		vals map[string]any
		want string
	}{
		{"no authentication", map[string]any{"replicaCount": 1}, "oidc-issuer-url"},
		{"replicas on SQLite", map[string]any{"insecureAllowUnauthenticated": true}, "several replicas need PostgreSQL"},
		{"autoscaling on SQLite", map[string]any{"replicaCount": 1, "insecureAllowUnauthenticated": true, "autoscaling": map[string]any{"enabled": true}}, "autoscaling needs PostgreSQL"},
		{"agent listener on replicas", map[string]any{"insecureAllowUnauthenticated": true, "database": map[string]any{"existingSecret": "db"},
			"agent": map[string]any{"enabled": true}}, "the agent listener needs one replica"},
		{"agent listener autoscaled", map[string]any{"replicaCount": 1, "insecureAllowUnauthenticated": true, "database": map[string]any{"existingSecret": "db"},
			"autoscaling": map[string]any{"enabled": true}, "agent": map[string]any{"enabled": true}}, "the agent listener needs one replica"},
		{"one volume for replicas", map[string]any{"insecureAllowUnauthenticated": true, "database": map[string]any{"existingSecret": "db"},
			"persistence": map[string]any{"existingClaim": "data"}}, "one replica's data directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(c, "nephoran-system", tt.vals)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("render: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestRenderedObjects(t *testing.T) {
	c := loadChart(t)
	objs, err := render(c, "nephoran-system", valueSets["production"])
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		byKind[o.GetKind()] = o
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service", "ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "VirtualService",
		"DestinationRule", "PeerAuthentication", "ServiceMonitor", "PrometheusRule", "PodDisruptionBudget", "HorizontalPodAutoscaler"} {
		if byKind[k] == nil {
			t.Errorf("no %s rendered", k)
		}
	}
	dep := byKind["Deployment"]
	container := func(path ...string) any {
		cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
		v, _, _ := unstructured.NestedFieldNoCopy(cs[0].(map[string]any), path...)
		return v
	}
	if container("securityContext", "readOnlyRootFilesystem") != true || container("readinessProbe", "httpGet", "path") != "/readyz" ||
		container("livenessProbe", "httpGet", "path") != "/healthz" {
		t.Errorf("container: %v", dep.Object["spec"])
	}
	if nonRoot, _, _ := unstructured.NestedBool(dep.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot"); !nonRoot {
		t.Error("the pod may run as root")
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(dep.Object, "spec", "replicas"); found {
		t.Error("replicas set although the autoscaler owns them")
	}
	vs := byKind["VirtualService"]
	route, _, _ := unstructured.NestedSlice(vs.Object, "spec", "http")
	r := route[0].(map[string]any)
	if r["timeout"] != "30s" || r["retries"].(map[string]any)["attempts"] != float64(3) || r["retries"].(map[string]any)["perTryTimeout"] != "10s" {
		t.Errorf("the guide's route: %v", r)
	}
	cfg, _, _ := unstructured.NestedString(byKind["ConfigMap"].Object, "data", "o2ims.yaml")
	for _, want := range []string{"oidc-issuer-url: https://idp.example/realms/nephoran", "service-uri: http://o2ims.nephoran-system.svc:8080", "local-provider: false"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("o2ims.yaml lacks %q:\n%s", want, cfg)
		}
	}
	groups, _, _ := unstructured.NestedSlice(byKind["PrometheusRule"].Object, "spec", "groups")
	if len(groups) == 0 {
		t.Error("the PrometheusRule has no rule groups")
	}
	sm, _, _ := unstructured.NestedSlice(byKind["ServiceMonitor"].Object, "spec", "endpoints")
	var paths []string
	for _, e := range sm {
		paths = append(paths, e.(map[string]any)["path"].(string))
	}
	if !slices.Equal(paths, []string{"/metrics", "/o2ims/v1/providers/metrics", "/o2ims/v1/resources/metrics"}) {
		t.Errorf("scrape paths %v", paths)
	}
}

// TestAlertRulesAreTheShippedOnes: the chart carries the rule file of
// deploy/prometheus, unchanged.
func TestAlertRulesAreTheShippedOnes(t *testing.T) {
	shipped, err := os.ReadFile(filepath.Join("..", "prometheus", "o2ims-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	carried, err := os.ReadFile(filepath.Join(chartDir, "files", "o2ims-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shipped, carried) {
		t.Error("deploy/helm/o2ims/files/o2ims-alerts.yml differs from deploy/prometheus/o2ims-alerts.yml: copy it")
	}
}

// TestServerSideDryRun applies every rendered object of every value set
// as a server-side dry run on the test control plane, with the published
// CRDs of Istio and the Prometheus operator installed.
func TestServerSideDryRun(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	crds, err := filepath.Glob(filepath.Join(testenv.DefaultBinDir(), "crds", "*.yaml"))
	if err != nil || len(crds) != 3 {
		t.Fatalf("the published CRDs are not in %s (run `make testenv`): %v %v", filepath.Join(testenv.DefaultBinDir(), "crds"), crds, err)
	}
	if err := plane.ApplyCRDs(ctx, crds...); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(plane.RESTConfigBytes)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := loadChart(t)
	for name, vals := range valueSets {
		t.Run(name, func(t *testing.T) {
			ns := "o2ims-" + name
			nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
			if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Apply(ctx, ns, nsObj, metav1.ApplyOptions{FieldManager: "chart-test"}); err != nil {
				t.Fatal(err)
			}
			objs, err := render(c, ns, vals)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				gvk := o.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Errorf("%s %s: the API server does not serve it: %v", gvk, o.GetName(), err)
					continue
				}
				b, err := o.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				_, err = dyn.Resource(m.Resource).Namespace(ns).Patch(ctx, o.GetName(), types.ApplyPatchType, b,
					metav1.PatchOptions{FieldManager: "chart-test", DryRun: []string{metav1.DryRunAll}, Force: new(true)})
				if err != nil {
					t.Errorf("%s %s: %v", gvk.Kind, o.GetName(), err)
				}
			}
		})
	}
}

// rendered renders vals and returns the objects by kind.
func rendered(t *testing.T, namespace string, vals map[string]any) map[string]*unstructured.Unstructured {
	t.Helper()
	objs, err := render(loadChart(t), namespace, vals)
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		byKind[o.GetKind()] = o
	}
	return byKind
}

// agentParts are the pieces of the chart that concern the agent
// listener: the serve flags, the container port, the Service port, the
// NetworkPolicy's ingress rule and the pod annotations.
type agentParts struct {
	args []string
	containerPort,
	servicePort map[string]any
	ingress     map[string]any
	annotations map[string]string
}

func agentPartsOf(t *testing.T, byKind map[string]*unstructured.Unstructured) agentParts {
	t.Helper()
	var p agentParts
	dep := byKind["Deployment"]
	cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	c := cs[0].(map[string]any)
	for _, a := range c["args"].([]any) {
		if s := a.(string); strings.HasPrefix(s, "--agent-") {
			p.args = append(p.args, s)
		}
	}
	for _, port := range c["ports"].([]any) {
		if port.(map[string]any)["name"] == "agent" {
			p.containerPort = port.(map[string]any)
		}
	}
	ports, _, _ := unstructured.NestedSlice(byKind["Service"].Object, "spec", "ports")
	for _, port := range ports {
		if port.(map[string]any)["name"] == "agent" {
			p.servicePort = port.(map[string]any)
		}
	}
	if np := byKind["NetworkPolicy"]; np != nil {
		rules, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
		for _, r := range rules {
			for _, port := range r.(map[string]any)["ports"].([]any) {
				if port.(map[string]any)["port"] == "agent" {
					p.ingress = r.(map[string]any)
				}
			}
		}
	}
	p.annotations, _, _ = unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "annotations")
	return p
}

// TestAgentListener: with agent.enabled the server gets its agent flags
// from the values, the pod and the Service open the port, and the
// NetworkPolicy lets the allowed networks reach it; without, the listener
// is off (--agent-listen=, as serve's default is loopback) and nothing of
// it is rendered.
func TestAgentListener(t *testing.T) {
	on := agentPartsOf(t, rendered(t, "edge", valueSets["agent"]))
	want := []string{"--agent-listen=0.0.0.0:8443", "--agent-hosts=ims.example.net,192.0.2.10", "--agent-heartbeat-interval=10s",
		"--agent-heartbeat-grace=3", "--agent-cert-validity=720h", "--agent-manual-approval=false"}
	if !slices.Equal(on.args, want) {
		t.Errorf("agent flags %q, want %q", on.args, want)
	}
	if on.containerPort["containerPort"] != float64(8443) || on.containerPort["protocol"] != "TCP" {
		t.Errorf("container port %v", on.containerPort)
	}
	if on.servicePort["port"] != float64(8443) || on.servicePort["targetPort"] != "agent" {
		t.Errorf("Service port %v", on.servicePort)
	}
	var cidrs []string
	from, _ := on.ingress["from"].([]any)
	for _, f := range from {
		cidrs = append(cidrs, f.(map[string]any)["ipBlock"].(map[string]any)["cidr"].(string))
	}
	if !slices.Equal(cidrs, []string{"10.203.0.0/16", "192.0.2.0/24"}) {
		t.Errorf("NetworkPolicy rule for the agent port: %v", on.ingress)
	}
	if on.annotations["traffic.sidecar.istio.io/excludeInboundPorts"] != "8443" {
		t.Errorf("the sidecar intercepts the agent port: %v", on.annotations)
	}
	byKind := rendered(t, "edge", valueSets["agent"])
	if s, _, _ := unstructured.NestedString(byKind["Deployment"].Object, "spec", "strategy", "type"); s != "Recreate" {
		t.Errorf("strategy %q with a ReadWriteOnce data volume, want Recreate", s)
	}
	vols, _, _ := unstructured.NestedSlice(byKind["Deployment"].Object, "spec", "template", "spec", "volumes")
	if !slices.ContainsFunc(vols, func(v any) bool {
		claim, _, _ := unstructured.NestedString(v.(map[string]any), "persistentVolumeClaim", "claimName")
		return v.(map[string]any)["name"] == "data" && claim == "o2ims-data"
	}) {
		t.Errorf("the data directory is not on the claim: %v", vols)
	}

	// Overridden settings, default host names, agents from anywhere.
	custom := agentPartsOf(t, rendered(t, "edge", map[string]any{"replicaCount": 1, "insecureAllowUnauthenticated": true,
		"agent": map[string]any{"enabled": true, "port": 9443, "heartbeatInterval": "30s", "heartbeatGrace": 5, "certValidity": "168h", "manualApproval": true}}))
	want = []string{"--agent-listen=0.0.0.0:9443", "--agent-hosts=o2ims,o2ims.edge,o2ims.edge.svc", "--agent-heartbeat-interval=30s",
		"--agent-heartbeat-grace=5", "--agent-cert-validity=168h", "--agent-manual-approval=true"}
	if !slices.Equal(custom.args, want) {
		t.Errorf("agent flags %q, want %q", custom.args, want)
	}
	if custom.servicePort["port"] != float64(9443) || custom.containerPort["containerPort"] != float64(9443) || custom.ingress == nil || custom.ingress["from"] != nil {
		t.Errorf("port 9443 open to all: Service %v, container %v, NetworkPolicy %v", custom.servicePort, custom.containerPort, custom.ingress)
	}
	if _, ok := custom.annotations["traffic.sidecar.istio.io/excludeInboundPorts"]; ok {
		t.Error("sidecar annotation without Istio")
	}

	for _, name := range []string{"minimal", "production"} {
		off := agentPartsOf(t, rendered(t, "edge", valueSets[name]))
		if !slices.Equal(off.args, []string{"--agent-listen="}) || off.containerPort != nil || off.servicePort != nil || off.ingress != nil {
			t.Errorf("%s: agent listener rendered although disabled: %+v", name, off)
		}
		if _, ok := off.annotations["traffic.sidecar.istio.io/excludeInboundPorts"]; ok {
			t.Errorf("%s: sidecar annotation without the agent listener", name)
		}
	}
}
