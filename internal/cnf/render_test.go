package cnf

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func baseParams() RenderParams {
	return RenderParams{InstanceID: "0b7f3f7e-5f4c-4c55-9a55-7f5c1d1f0a01", ReleaseName: "cnf-0b7f3f7e", Namespace: "cnf-ns"}
}

// checkCommon verifies what every render must do: namespace, instance
// label on objects and pod templates.
func checkCommon(t *testing.T, objs []*unstructured.Unstructured, p RenderParams) {
	t.Helper()
	for _, o := range objs {
		if o.GetNamespace() != p.Namespace {
			t.Errorf("%s %s: namespace %q, want %q", o.GetKind(), o.GetName(), o.GetNamespace(), p.Namespace)
		}
		if got := o.GetLabels()[LabelInstance]; got != p.InstanceID {
			t.Errorf("%s %s: label %s = %q, want %q", o.GetKind(), o.GetName(), LabelInstance, got, p.InstanceID)
		}
		if o.GetKind() == "Deployment" {
			if got := nestedString(t, o, "spec", "template", "metadata", "labels", LabelInstance); got != p.InstanceID {
				t.Errorf("%s %s: pod template label = %q, want %q", o.GetKind(), o.GetName(), got, p.InstanceID)
			}
		}
	}
}

func replicas(t *testing.T, o *unstructured.Unstructured) int64 {
	t.Helper()
	n, ok, err := unstructured.NestedInt64(o.Object, "spec", "replicas")
	if err != nil || !ok {
		t.Fatalf("%s %s: spec.replicas: %v (present %v) in %v", o.GetKind(), o.GetName(), err, ok, o.Object["spec"])
	}
	return n
}

func TestRenderHelm(t *testing.T) {
	chart := helmChart(t)
	const dep = "cnf-0b7f3f7e-app"
	for _, tc := range []struct {
		name   string
		change func(*RenderParams)
		check  func(t *testing.T, objs []*unstructured.Unstructured)
	}{
		{"defaults", nil, func(t *testing.T, objs []*unstructured.Unstructured) {
			if len(objs) != 2 {
				t.Fatalf("%d objects, want a Deployment and a Service", len(objs))
			}
			d := find(t, objs, "Deployment", dep)
			find(t, objs, "Service", dep)
			if got := replicas(t, d); got != 1 {
				t.Errorf("replicas = %d, want 1", got)
			}
			if got := container(t, d, 0)["image"]; got != "registry.invalid/cnf/app:1.0" {
				t.Errorf("image = %v", got)
			}
			if _, ok, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec", "nodeSelector"); ok {
				t.Errorf("a node selector without a pool")
			}
			if got := nestedString(t, d, "metadata", "labels", "app.kubernetes.io/instance"); got != "cnf-0b7f3f7e" {
				t.Errorf("the chart's own labels were lost: instance = %q", got)
			}
		}},
		{"pool", func(p *RenderParams) { p.Pool = "pool-a" }, func(t *testing.T, objs []*unstructured.Unstructured) {
			d := find(t, objs, "Deployment", dep)
			if got := nestedString(t, d, "spec", "template", "spec", "nodeSelector", LabelPool); got != "pool-a" {
				t.Errorf("nodeSelector %s = %q, want pool-a", LabelPool, got)
			}
			if _, ok, _ := unstructured.NestedFieldNoCopy(find(t, objs, "Service", dep).Object, "spec", "nodeSelector"); ok {
				t.Errorf("a Service got a node selector")
			}
		}},
		{"replicas override", func(p *RenderParams) { p.Replicas = map[string]int{dep: 3} }, func(t *testing.T, objs []*unstructured.Unstructured) {
			if got := replicas(t, find(t, objs, "Deployment", dep)); got != 3 {
				t.Errorf("replicas = %d, want 3", got)
			}
		}},
		{"replicas override beats values", func(p *RenderParams) {
			p.Replicas = map[string]int{dep: 0}
			p.Values = map[string]any{"replicaCount": 5}
		}, func(t *testing.T, objs []*unstructured.Unstructured) {
			if got := replicas(t, find(t, objs, "Deployment", dep)); got != 0 {
				t.Errorf("replicas = %d, want 0", got)
			}
		}},
		{"values", func(p *RenderParams) {
			p.Values = map[string]any{"replicaCount": 2, "image": map[string]any{"tag": "2.0"}}
		}, func(t *testing.T, objs []*unstructured.Unstructured) {
			d := find(t, objs, "Deployment", dep)
			if got := replicas(t, d); got != 2 {
				t.Errorf("replicas = %d, want 2", got)
			}
			// Values merge over the defaults: the repository is kept.
			if got := container(t, d, 0)["image"]; got != "registry.invalid/cnf/app:2.0" {
				t.Errorf("image = %v", got)
			}
		}},
		{"resources", func(p *RenderParams) { p.Resources = &Resources{CPU: "500m", Memory: "256Mi"} }, func(t *testing.T, objs []*unstructured.Unstructured) {
			c := container(t, find(t, objs, "Deployment", dep), 0)
			res := c["resources"].(map[string]any)
			want := map[string]any{
				"requests": map[string]any{"cpu": "500m", "memory": "256Mi"},
				// The chart's 200m limit would be below the request.
				"limits": map[string]any{"cpu": "500m"},
			}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("resources = %v, want %v", res, want)
			}
		}},
		{"cpu only", func(p *RenderParams) { p.Resources = &Resources{CPU: "100m"} }, func(t *testing.T, objs []*unstructured.Unstructured) {
			c := container(t, find(t, objs, "Deployment", dep), 0)
			want := map[string]any{"requests": map[string]any{"cpu": "100m"}, "limits": map[string]any{"cpu": "200m"}}
			if got := c["resources"]; !reflect.DeepEqual(got, want) {
				t.Errorf("resources = %v, want %v", got, want)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := baseParams()
			if tc.change != nil {
				tc.change(&p)
			}
			objs, err := Render(t.Context(), KindHelm, chart, p)
			if err != nil {
				t.Fatal(err)
			}
			checkCommon(t, objs, p)
			tc.check(t, objs)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	chart := helmChart(t)
	for _, tc := range []struct {
		name   string
		kind   Kind
		change func(*RenderParams)
		msg    string
	}{
		{"unknown workload", KindHelm, func(p *RenderParams) { p.Replicas = map[string]int{"nope": 2} }, "nope"},
		{"negative replicas", KindHelm, func(p *RenderParams) { p.Replicas = map[string]int{"cnf-0b7f3f7e-app": -1} }, "replicas"},
		{"no instance", KindHelm, func(p *RenderParams) { p.InstanceID = "" }, "instance id"},
		{"bad instance", KindHelm, func(p *RenderParams) { p.InstanceID = "a/b" }, "label value"},
		{"no namespace", KindHelm, func(p *RenderParams) { p.Namespace = "" }, "namespace"},
		{"bad namespace", KindKpt, func(p *RenderParams) { p.Namespace = "Not_OK" }, "namespace"},
		{"bad pool", KindHelm, func(p *RenderParams) { p.Pool = "pool a" }, "pool"},
		{"bad cpu", KindHelm, func(p *RenderParams) { p.Resources = &Resources{CPU: "lots"} }, "cpu"},
		{"no release name", KindHelm, func(p *RenderParams) { p.ReleaseName = "" }, "release name"},
		{"bad values", KindHelm, func(p *RenderParams) { p.Values = map[string]any{"image": "flat"} }, "render"},
		{"bad kind", "zip", nil, "unknown package kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := baseParams()
			if tc.change != nil {
				tc.change(&p)
			}
			content := chart
			if tc.kind == KindKpt {
				content = kptPackageTgz(t)
			}
			_, err := Render(t.Context(), tc.kind, content, p)
			wantCode(t, err, ims.EINVALID, tc.msg)
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Render(ctx, KindHelm, chart, baseParams()); err == nil {
		t.Error("Render with a cancelled context succeeded")
	}
}

// TestRenderDoesNotModifyInput renders twice with the same parameters: the
// results must be equal and the caller's values untouched.
func TestRenderDoesNotModifyInput(t *testing.T) {
	p := baseParams()
	p.Values = map[string]any{"image": map[string]any{"tag": "3.0"}, "list": []any{"a"}}
	p.Replicas = map[string]int{"cnf-0b7f3f7e-app": 2}
	before := deepCopyValues(p.Values)
	a, err := Render(t.Context(), KindHelm, helmChart(t), p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(t.Context(), KindHelm, helmChart(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two renders differ")
	}
	if !reflect.DeepEqual(before, p.Values) {
		t.Errorf("values changed: %v, was %v", p.Values, before)
	}
}

func TestRenderKpt(t *testing.T) {
	pkg := kptPackageTgz(t)
	withConfigPath := tarGz(t, append(replace(kptEntries(t), "kapp/Kptfile", []byte(`apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: kapp
pipeline:
  mutators:
    - image: ghcr.io/kptdev/krm-functions-catalog/apply-setters:v0.2
      configPath: setters.yaml
`)), entry{Name: "kapp/setters.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: setters
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  replicas: "4"
  tag: "1.4"
`)}))
	unquoted := tarGz(t, replace(kptEntries(t), "kapp/Kptfile", []byte(`apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: kapp
pipeline:
  mutators:
    - image: apply-setters:v0.2
      configMap:
        replicas: 2
        tag: 1.10
`)))
	// A subpackage's resources are part of the package; its own pipeline
	// runs first, then the parent's over everything.
	withSubpackage := tarGz(t, append(kptEntries(t),
		entry{Name: "kapp/db/Kptfile", Data: []byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: db\n" +
			"pipeline:\n  mutators:\n    - image: set-labels:v0.1\n      configMap:\n        component: db\n")},
		entry{Name: "kapp/db/settings.yaml", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db-settings # kpt-set: ${name}-db\n")},
	))
	for _, tc := range []struct {
		name    string
		content []byte
		change  func(*RenderParams)
		dep     string
		check   func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured)
	}{
		{"defaults", pkg, nil, "cnf-0b7f3f7e", func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
			if len(objs) != 2 {
				t.Errorf("%d objects, want 2", len(objs))
			}
			find(t, objs, "Service", "cnf-0b7f3f7e")
			if got := replicas(t, d); got != 1 {
				t.Errorf("replicas = %d, want 1 from the Kptfile", got)
			}
			c := container(t, d, 0)
			if c["image"] != "registry.invalid/cnf/kapp:1.0" {
				t.Errorf("image = %v", c["image"])
			}
			if !reflect.DeepEqual(c["args"], []any{"--default"}) {
				t.Errorf("args = %v; a setter without a value must leave the field alone", c["args"])
			}
		}},
		{"setters from values", pkg, func(p *RenderParams) {
			p.Values = map[string]any{"tag": "2.0", "replicas": 2.0, "port": 81, "args": []any{"--a", "--b=x,y"}}
		}, "cnf-0b7f3f7e", func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
			if got := replicas(t, d); got != 2 {
				t.Errorf("replicas = %d, want 2", got)
			}
			c := container(t, d, 0)
			if c["image"] != "registry.invalid/cnf/kapp:2.0" {
				t.Errorf("image = %v", c["image"])
			}
			if !reflect.DeepEqual(c["args"], []any{"--a", "--b=x,y"}) {
				t.Errorf("args = %#v", c["args"])
			}
			ports, _, _ := unstructured.NestedSlice(find(t, objs, "Service", "cnf-0b7f3f7e").Object, "spec", "ports")
			if got := ports[0].(map[string]any)["port"]; got != int64(81) {
				t.Errorf("port = %#v, want int64 81", got)
			}
		}},
		{"name from values", pkg, func(p *RenderParams) { p.Values = map[string]any{"name": "custom"} }, "custom", nil},
		{"no release name keeps the Kptfile's", pkg, func(p *RenderParams) { p.ReleaseName = "" }, "kapp", nil},
		{"overrides", pkg, func(p *RenderParams) {
			p.Pool = "pool-b"
			p.Replicas = map[string]int{"cnf-0b7f3f7e": 5}
			p.Resources = &Resources{Memory: "1Gi"}
		}, "cnf-0b7f3f7e", func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
			if got := replicas(t, d); got != 5 {
				t.Errorf("replicas = %d, want 5", got)
			}
			if got := nestedString(t, d, "spec", "template", "spec", "nodeSelector", LabelPool); got != "pool-b" {
				t.Errorf("node selector = %q", got)
			}
			if got := container(t, d, 0)["resources"]; !reflect.DeepEqual(got, map[string]any{"requests": map[string]any{"memory": "1Gi"}}) {
				t.Errorf("resources = %v", got)
			}
		}},
		{"unquoted Kptfile setters", unquoted, nil, "cnf-0b7f3f7e", func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
			if got := replicas(t, d); got != 2 {
				t.Errorf("replicas = %d, want 2", got)
			}
			c := container(t, d, 0)
			// The setter's text is used, not the float YAML reads.
			if c["image"] != "registry.invalid/cnf/kapp:1.10" {
				t.Errorf("image = %v", c["image"])
			}
		}},
		{"YAML 1.1 words stay strings", pkg, func(p *RenderParams) { p.Values = map[string]any{"name": "on", "args": []any{"y", "no"}} },
			"on", func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
				if c := container(t, d, 0); !reflect.DeepEqual(c["args"], []any{"y", "no"}) {
					t.Errorf("args = %#v", c["args"])
				}
			}},
		{"subpackage", withSubpackage, nil, "cnf-0b7f3f7e", func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
			cm := find(t, objs, "ConfigMap", "cnf-0b7f3f7e-db")
			if got := cm.GetLabels()["component"]; got != "db" {
				t.Errorf("the subpackage's pipeline did not run: labels %v", cm.GetLabels())
			}
		}},
		{"configPath setters", withConfigPath, nil, "cnf-0b7f3f7e", func(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
			if len(objs) != 2 {
				t.Errorf("%d objects, want 2: the setters ConfigMap is configuration, not a resource", len(objs))
			}
			if got := replicas(t, d); got != 4 {
				t.Errorf("replicas = %d, want 4", got)
			}
			if c := container(t, d, 0); c["image"] != "registry.invalid/cnf/kapp:1.4" {
				t.Errorf("image = %v", c["image"])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := baseParams()
			if tc.change != nil {
				tc.change(&p)
			}
			objs, err := Render(t.Context(), KindKpt, tc.content, p)
			if err != nil {
				t.Fatal(err)
			}
			checkCommon(t, objs, p)
			d := find(t, objs, "Deployment", tc.dep)
			if tc.check != nil {
				tc.check(t, objs, d)
			}
		})
	}
}

func TestSetterString(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"s", "s"}, {3, "3"}, {2.0, "2"}, {1e6, "1000000"}, {0.5, "0.5"}, {true, "true"}, {nil, ""},
		{[]any{"a", 1}, `["a", "1"]`}, {[]string{"x"}, `["x"]`}, {map[string]any{"k": "v"}, `{"k":"v"}`},
	} {
		got, err := setterString(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("setterString(%#v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestDecorateKinds covers the workload kinds besides Deployments and the
// namespace handling of namespaced and cluster-scoped objects.
func TestDecorateKinds(t *testing.T) {
	objs, err := parseManifests("all.yaml", []byte(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: elsewhere}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cr, namespace: bogus}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: db, image: x}]
  volumeClaimTemplates:
    - metadata: {name: data}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: a, image: x}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: j, image: x, resources: {limits: {memory: 1Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: bare}
spec:
  containers: [{name: p, image: x}]
---
apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: once}
    spec:
      template:
        spec:
          containers: [{name: j, image: x}]
`))
	if err != nil {
		t.Fatal(err)
	}
	p := RenderParams{InstanceID: "i-1", Namespace: "ns", Pool: "p1", Replicas: map[string]int{"db": 3},
		Resources: &Resources{CPU: "1", Memory: "2Gi"}}
	if err := decorate(objs, p); err != nil {
		t.Fatal(err)
	}
	if len(objs) != 7 {
		t.Fatalf("%d objects, want 7 (the List expanded)", len(objs))
	}
	if got := find(t, objs, "ConfigMap", "cm").GetNamespace(); got != "ns" {
		t.Errorf("ConfigMap namespace = %q, want ns", got)
	}
	if got := find(t, objs, "ClusterRole", "cr").GetNamespace(); got != "" {
		t.Errorf("ClusterRole namespace = %q, want none", got)
	}
	db := find(t, objs, "StatefulSet", "db")
	if got := replicas(t, db); got != 3 {
		t.Errorf("StatefulSet replicas = %d", got)
	}
	claims, _, _ := unstructured.NestedSlice(db.Object, "spec", "volumeClaimTemplates")
	if got, _, _ := unstructured.NestedString(claims[0].(map[string]any), "metadata", "labels", LabelInstance); got != "i-1" {
		t.Errorf("claim template label = %q", got)
	}
	templates := map[string][]string{
		"StatefulSet/db":  {"spec", "template"},
		"DaemonSet/agent": {"spec", "template"},
		"CronJob/nightly": {"spec", "jobTemplate", "spec", "template"},
		"Pod/bare":        {},
		"Job/once":        {"spec", "template"},
	}
	for name, path := range templates {
		kind, n, _ := strings.Cut(name, "/")
		o := find(t, objs, kind, n)
		if got := nestedString(t, o, append(append([]string{}, path...), "metadata", "labels", LabelInstance)...); got != "i-1" {
			t.Errorf("%s: pod label = %q", name, got)
		}
		if got := nestedString(t, o, append(append([]string{}, path...), "spec", "nodeSelector", LabelPool)...); got != "p1" {
			t.Errorf("%s: node selector = %q", name, got)
		}
		cs, _, _ := unstructured.NestedSlice(o.Object, append(append([]string{}, path...), "spec", "containers")...)
		res, _ := cs[0].(map[string]any)["resources"].(map[string]any)
		if req, _ := res["requests"].(map[string]any); req["cpu"] != "1" || req["memory"] != "2Gi" {
			t.Errorf("%s: resources = %v", name, res)
		}
	}
	if got := nestedString(t, find(t, objs, "CronJob", "nightly"), "spec", "jobTemplate", "metadata", "labels", LabelInstance); got != "i-1" {
		t.Errorf("job template label = %q", got)
	}
	// The CronJob's 1Gi memory limit was raised to the 2Gi request.
	cs, _, _ := unstructured.NestedSlice(find(t, objs, "CronJob", "nightly").Object, "spec", "jobTemplate", "spec", "template", "spec", "containers")
	if lim := cs[0].(map[string]any)["resources"].(map[string]any)["limits"]; !reflect.DeepEqual(lim, map[string]any{"memory": "2Gi"}) {
		t.Errorf("limits = %v", lim)
	}

	bad, err := parseManifests("bad.yaml", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template: oops\n"))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, decorate(bad, p), ims.EINVALID, "spec.template is not a mapping")
}
