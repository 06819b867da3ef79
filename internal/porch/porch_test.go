package porch_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/kpt"
	"github.com/nephoran/o2ims/internal/porch"
	"github.com/nephoran/o2ims/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// env is the shared plane with Porch and the guide's two repositories, the
// blueprint published in o2ims-packages.
type env struct {
	cfg   *rest.Config
	cs    *versioned.Clientset
	porch *testenv.Porch
}

func setup(t *testing.T, ctx context.Context) *env {
	t.Helper()
	plane, po := testenv.RequirePorch(t)
	cfg, err := clientcmd.RESTConfigFromKubeConfig(plane.RESTConfigBytes)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cfg: cfg, cs: cs, porch: po}
	setupOnce.Do(func() {
		begin := time.Now()
		// As the integration guide has them: both deployment: true. That
		// the blueprint's repository is a deployment repository does not
		// keep Porch from cloning from it (only the target repository's
		// flag matters: it adds package-context.yaml to the clone).
		for _, r := range []testenv.RepositoryOptions{
			{Name: porch.DefaultBlueprintRepository, Directory: "/packages", Deployment: true},
			{Name: porch.DefaultDeploymentRepository, Directory: "/deployments", Deployment: true},
		} {
			if setupErr = po.CreateRepository(ctx, r); setupErr != nil {
				return
			}
		}
		files, err := testenv.ReadPackage(filepath.Join("..", "kpt", "testdata", "guide-template"))
		if err != nil {
			setupErr = err
			return
		}
		setupErr = po.Publish(ctx, porch.DefaultBlueprintRepository, porch.DefaultBlueprintPackage, files)
		t.Logf("repositories and blueprint ready after %v", time.Since(begin).Round(time.Millisecond))
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return e
}

var (
	setupOnce sync.Once
	setupErr  error
)

// TestApplyPublishesAndRevises follows one deployment through Porch: the
// first Apply clones the blueprint, Porch renders the values into it and
// publishes revision 1 to git; the same values again change nothing; another
// pool makes revision 2; Delete removes the package from main.
func TestApplyPublishesAndRevises(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	e := setup(t, ctx)
	c, err := porch.New(e.cfg, porch.Options{AutoApprove: true}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	req := porch.Request{
		Deployment: "edge-a",
		Config:     map[string]string{"resourcePoolId": "pool-a", "provider": "kubernetes", "region": "eu-west-1"},
		Setters:    map[string]string{"resource-pool-id": "pool-a", "replicas": "3", "image": "registry.example.com/o2ims/du:2.1.0"},
	}
	begin := time.Now()
	r1, err := c.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first Apply (clone, render, propose, approve) took %v", time.Since(begin).Round(time.Millisecond))
	if r1.Name != "o2ims-deployments.o2ims-edge-a.edge-a" || r1.PackageName != "o2ims-edge-a" || r1.Workspace != "edge-a" ||
		r1.Lifecycle != porchapi.PackageRevisionLifecyclePublished || r1.Revision != 1 || !r1.Changed {
		t.Fatalf("first Apply = %+v", withoutResources(r1))
	}
	checkRendered(t, r1.Resources, "pool-a", "eu-west-1", 3, "registry.example.com/o2ims/du:2.1.0")
	repo := porch.DefaultDeploymentRepository
	if got := e.gitShow(t, repo, "main:deployments/o2ims-edge-a/deployment-config.yaml"); !strings.Contains(got, "resourcePoolId: pool-a") {
		t.Errorf("deployment-config.yaml on main:\n%s", got)
	}
	if got := e.gitShow(t, repo, "main:deployments/o2ims-edge-a/deployment.yaml"); !strings.Contains(got, "nephoran.io/resource-pool: pool-a") {
		t.Errorf("deployment.yaml on main:\n%s", got)
	}

	// The same values: the published revision already holds them.
	again, err := c.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Name != r1.Name || again.Revision != 1 || again.Changed {
		t.Errorf("repeated Apply = %+v, want revision 1 unchanged", withoutResources(again))
	}

	// Another pool: a new revision, copied from revision 1.
	req.Config["resourcePoolId"] = "pool-b"
	req.Setters["resource-pool-id"] = "pool-b"
	r2, err := c.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Name != "o2ims-deployments.o2ims-edge-a.edge-a-2" || r2.Revision != 2 ||
		r2.Lifecycle != porchapi.PackageRevisionLifecyclePublished || !r2.Changed {
		t.Fatalf("second Apply = %+v", withoutResources(r2))
	}
	checkRendered(t, r2.Resources, "pool-b", "eu-west-1", 3, "registry.example.com/o2ims/du:2.1.0")
	if got := e.gitShow(t, repo, "main:deployments/o2ims-edge-a/deployment-config.yaml"); !strings.Contains(got, "resourcePoolId: pool-b") {
		t.Errorf("deployment-config.yaml on main after revision 2:\n%s", got)
	}
	prs := e.revisions(t, ctx, "o2ims-edge-a")
	if len(prs) != 3 { // revisions 1 and 2, and the one tracking main
		t.Errorf("revisions after the second Apply: %v", prs)
	}

	if err := c.Delete(ctx, "edge-a"); err != nil {
		t.Fatal(err)
	}
	if prs := e.revisions(t, ctx, "o2ims-edge-a"); len(prs) != 0 {
		t.Errorf("revisions after Delete: %v", prs)
	}
	if out, err := e.porch.Git.Git("-C", e.porch.Git.RepoDir(repo), "ls-tree", "-r", "--name-only", "main"); err != nil || strings.Contains(out, "o2ims-edge-a/") {
		t.Errorf("main after Delete (%v):\n%s", err, out)
	}
	if err := c.Delete(ctx, "edge-a"); err != nil {
		t.Errorf("deleting a deleted package: %v", err)
	}
}

// TestApplyWithoutApproval leaves the revision Proposed; a second Apply
// rewrites the same proposal, and nothing reaches main until approval.
func TestApplyWithoutApproval(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	e := setup(t, ctx)
	c, err := porch.New(e.cfg, porch.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	req := porch.Request{
		Deployment: "edge-b",
		Config:     map[string]string{"resourcePoolId": "pool-c", "region": "us-east-1"},
		Setters:    map[string]string{"resource-pool-id": "pool-c"},
	}
	r1, err := c.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Lifecycle != porchapi.PackageRevisionLifecycleProposed || r1.Revision != 0 {
		t.Fatalf("Apply = %+v, want Proposed without a revision number", withoutResources(r1))
	}
	req.Setters["resource-pool-id"] = "pool-d"
	req.Config["resourcePoolId"] = "pool-d"
	r2, err := c.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Name != r1.Name || r2.Lifecycle != porchapi.PackageRevisionLifecycleProposed || !r2.Changed {
		t.Fatalf("second Apply = %+v, want the same proposal rewritten", withoutResources(r2))
	}
	checkRendered(t, r2.Resources, "pool-d", "us-east-1", 1, "registry.example/o2ims/workload:1.0.0")
	if _, err := e.porch.Git.Git("-C", e.porch.Git.RepoDir(porch.DefaultDeploymentRepository),
		"cat-file", "-e", "main:deployments/o2ims-edge-b"); err == nil {
		t.Error("an unapproved package is on main")
	}
	if err := c.Delete(ctx, "edge-b"); err != nil {
		t.Fatal(err)
	}
	if prs := e.revisions(t, ctx, "o2ims-edge-b"); len(prs) != 0 {
		t.Errorf("revisions after Delete: %v", prs)
	}
}

// TestApplyErrors: a blueprint that does not exist, and values Porch cannot
// render, which leave a draft that a corrected Apply finishes.
func TestApplyErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	e := setup(t, ctx)

	missing, err := porch.New(e.cfg, porch.Options{BlueprintPackage: "no-such-template"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = missing.Apply(ctx, porch.Request{Deployment: "edge-c"})
	if err == nil || !strings.Contains(err.Error(), "no-such-template") || !strings.Contains(err.Error(), "o2ims-packages") {
		t.Errorf("Apply with a missing blueprint: %v", err)
	}

	// A blueprint with an array setter: apply-setters v0.2.0 fails when the
	// value given for it is not a YAML sequence.
	files := map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: args-template
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - image: gcr.io/kpt-fn/apply-setters:v0.2.0
      configMap:
        args: "[serve]"
`,
		"deployment-config.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: deployment-config
data:
  resourcePoolId: unset
`,
		"deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: args
spec:
  template:
    spec:
      containers:
        - name: app
          image: app:1
          args: # kpt-set: ${args}
            - serve
`,
	}
	if err := e.porch.Publish(ctx, porch.DefaultBlueprintRepository, "args-template", files); err != nil {
		t.Fatal(err)
	}
	c, err := porch.New(e.cfg, porch.Options{BlueprintPackage: "args-template", AutoApprove: true}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	req := porch.Request{Deployment: "edge-d", Setters: map[string]string{"args": "not-a-list"}}
	_, err = c.Apply(ctx, req)
	var re *porch.RenderError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "apply-setters") {
		t.Fatalf("Apply with a value the pipeline refuses: %v, want a *RenderError naming apply-setters", err)
	}
	t.Logf("render error: %v", err)
	if re.PackageRevision != "o2ims-deployments.o2ims-edge-d.edge-d" {
		t.Errorf("RenderError.PackageRevision = %q", re.PackageRevision)
	}
	req.Setters["args"] = "[serve, --verbose]"
	r, err := c.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != re.PackageRevision || r.Lifecycle != porchapi.PackageRevisionLifecyclePublished {
		t.Errorf("corrected Apply = %+v, want the draft left behind, published", withoutResources(r))
	}
	if !strings.Contains(r.Resources["deployment.yaml"], "--verbose") {
		t.Errorf("deployment.yaml:\n%s", r.Resources["deployment.yaml"])
	}
	if err := c.Delete(ctx, "edge-d"); err != nil {
		t.Fatal(err)
	}
}

// checkRendered checks what Porch's render made of the values: the setters
// in the Deployment, the region replaced from deployment-config.
func checkRendered(t *testing.T, resources map[string]string, pool, region string, replicas int, image string) {
	t.Helper()
	var d struct {
		Spec struct {
			Replicas int `json:"replicas"`
			Template struct {
				Spec struct {
					NodeSelector map[string]string `json:"nodeSelector"`
					Containers   []struct {
						Image string `json:"image"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(resources["deployment.yaml"]), &d); err != nil {
		t.Fatalf("deployment.yaml: %v\n%s", err, resources["deployment.yaml"])
	}
	ns := d.Spec.Template.Spec.NodeSelector
	if ns["nephoran.io/resource-pool"] != pool || ns["topology.kubernetes.io/region"] != region ||
		d.Spec.Replicas != replicas || len(d.Spec.Template.Spec.Containers) != 1 || d.Spec.Template.Spec.Containers[0].Image != image {
		t.Errorf("rendered deployment.yaml, want pool %s, region %s, %d replicas, image %s:\n%s",
			pool, region, replicas, image, resources["deployment.yaml"])
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal([]byte(resources["deployment-config.yaml"]), &cm); err != nil || cm.Data["resourcePoolId"] != pool {
		t.Errorf("rendered deployment-config.yaml (%v):\n%s", err, resources["deployment-config.yaml"])
	}
}

func (e *env) gitShow(t *testing.T, repo, object string) string {
	t.Helper()
	out, err := e.porch.Git.Git("-C", e.porch.Git.RepoDir(repo), "show", object)
	if err != nil {
		t.Errorf("reading %s from git repository %s: %v", object, repo, err)
	}
	return out
}

// revisions returns the names of the package's revisions in the deployment
// repository.
func (e *env) revisions(t *testing.T, ctx context.Context, pkg string) []string {
	t.Helper()
	list, err := e.cs.PorchV1alpha1().PackageRevisions("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pr := range list.Items {
		if pr.Spec.PackageName == pkg && pr.Spec.RepositoryName == porch.DefaultDeploymentRepository {
			names = append(names, pr.Name+"("+string(pr.Spec.Lifecycle)+")")
		}
	}
	return names
}

func withoutResources(r porch.Result) porch.Result {
	r.Resources = nil
	return r
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// TestInProcessRenderingAgreesWithPorch renders the guide's template with
// the same values twice, by real Porch (kustomize v0.17.2 inside) and by
// the server's in-process kpt renderer (internal/kpt), and compares every
// resource the template has: the Deployment (setters and replacements)
// and deployment-config must be the same objects.
func TestInProcessRenderingAgreesWithPorch(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	e := setup(t, ctx)
	c, err := porch.New(e.cfg, porch.Options{AutoApprove: true}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	req := porch.Request{
		Deployment: "agree",
		Config:     map[string]string{"resourcePoolId": "4c7b9ff0-11d1-59a7-bed2-5c6c20088c15", "provider": "kubernetes", "region": "us-west-1"},
		Setters:    map[string]string{"resource-pool-id": "edge-west", "replicas": "4", "image": "registry.example.com/o2ims/amf:1.2.3"},
	}
	res, err := c.Apply(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), req.Deployment) })

	template, err := testenv.ReadPackage(filepath.Join("..", "kpt", "testdata", "guide-template"))
	if err != nil {
		t.Fatal(err)
	}
	in := map[string][]byte{}
	for name, s := range template {
		in[name] = []byte(s)
	}
	pkg, err := kpt.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := pkg.SetConfigMapData("deployment-config", req.Config); err != nil {
		t.Fatal(err)
	}
	if err := pkg.SetSetters(req.Setters); err != nil {
		t.Fatal(err)
	}
	if err := pkg.Render(ctx); err != nil {
		t.Fatal(err)
	}
	local, err := pkg.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deployment.yaml", "deployment-config.yaml"} {
		var fromPorch, inProcess map[string]any
		if err := yaml.Unmarshal([]byte(res.Resources[name]), &fromPorch); err != nil {
			t.Fatalf("Porch's %s: %v", name, err)
		}
		if err := yaml.Unmarshal(local[name], &inProcess); err != nil {
			t.Fatalf("in-process %s: %v", name, err)
		}
		// Porch records where a resource came from in internal
		// annotations of its own; they are not part of the rendering.
		for _, m := range []map[string]any{fromPorch, inProcess} {
			if md, ok := m["metadata"].(map[string]any); ok {
				if ann, ok := md["annotations"].(map[string]any); ok {
					for k := range ann {
						if strings.HasPrefix(k, "internal.config.kubernetes.io/") || strings.HasPrefix(k, "internal.kpt.dev/") {
							delete(ann, k)
						}
					}
				}
			}
		}
		if !reflect.DeepEqual(fromPorch, inProcess) {
			t.Errorf("%s differs:\nPorch:\n%s\nin-process:\n%s", name, res.Resources[name], local[name])
		}
	}
	// And they hold the values.
	for _, want := range []string{"nephoran.io/resource-pool: edge-west", "topology.kubernetes.io/region: us-west-1", "replicas: 4",
		"image: registry.example.com/o2ims/amf:1.2.3", "o2ims.nephoran.io/resource-pool-id: 4c7b9ff0-11d1-59a7-bed2-5c6c20088c15"} {
		if !strings.Contains(string(local["deployment.yaml"]), want) {
			t.Errorf("the rendered Deployment lacks %q:\n%s", want, local["deployment.yaml"])
		}
	}
}
