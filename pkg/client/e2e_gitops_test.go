package o2_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/cnf"
	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/testenv"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// git runs the real git client in dir.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// readYAML decodes a file of a clone.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func dig(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func condition(d *o2.Deployment, typ string) o2.DeploymentCondition {
	for _, c := range d.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return o2.DeploymentCondition{}
}

// TestEndToEndLocalGitOps is the integration guide's GitOps flow on the
// embedded default, with nothing installed: a deployment sent to the
// local-gitops deployment manager is rendered into a kpt package and
// committed to the server's own repository, which the real git client
// clones over the server's HTTP; a scale is a new commit, a delete removes
// the package in a commit, and nothing can be pushed.
func TestEndToEndLocalGitOps(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	addr := startServer(t)
	endpoint := "http://" + addr
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}

	dm := firstOf(ctx, t, "local-gitops deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
		return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "local-gitops"), AllFields: true})
	})
	repoURL := endpoint + "/gitops/o2ims-deployments.git"
	if dm.Extensions["provider"] != "gitops" || dm.Extensions["repository"] != repoURL || dm.ServiceURI != repoURL {
		t.Fatalf("local-gitops deployment manager: %+v", dm)
	}
	pool := firstOf(ctx, t, "host pool", func() (*o2.Page[o2.ResourcePool], error) {
		return c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("extensions/provider", "local")})
	})

	content := cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", nil)
	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "kapp", Version: "2.1.0", ContentType: o2.PackageKpt, VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-kapp"},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1), Resources: &o2.FlavourResources{CPU: "250m", Memory: "128Mi"}}},
	}, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}

	d, err := c.Deployments().Create(ctx, &o2.DeploymentSpec{
		Name: "gitops-demo", DeploymentManagerID: dm.DeploymentManagerID, ResourcePools: []string{pool.ResourcePoolID},
		Components: []o2.DeploymentComponent{{Name: "upf", VnfdID: pkg.VnfdInfo.VnfdID, Replicas: 2, AdditionalParams: map[string]any{"tag": "2.4"}}},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if d.Status.GitOps == nil || d.Status.GitOps.Repository != repoURL || d.Status.GitOps.Branch != "main" {
		t.Fatalf("new deployment's gitops status: %+v", d.Status.GitOps)
	}
	committed := func(after string) *o2.Deployment {
		t.Helper()
		var got *o2.Deployment
		waitFor(t, "commit of "+d.Name, func() bool {
			got, err = c.Deployments().Get(ctx, d.DeploymentID)
			if err != nil {
				t.Fatal(err)
			}
			g := got.Status.GitOps
			return g != nil && g.Commit != "" && g.Commit != after && condition(got, "Delivered").Status == "True" && got.Status.Phase != o2.DeploymentPhase("SCALING")
		})
		return got
	}
	d = committed("")
	g := d.Status.GitOps
	if g.Path != "deployments/o2ims-gitops-demo" || d.Status.Phase != "DEPLOYING" || condition(d, "Synced").Status != "Unknown" {
		t.Errorf("delivered deployment: phase %s, gitops %+v, conditions %+v", d.Status.Phase, g, d.Status.Conditions)
	}
	if len(d.Status.Components) != 1 || d.Status.Components[0].Phase != "COMMITTED" || len(d.Status.Components[0].Workloads) != 1 {
		t.Errorf("components: %+v", d.Status.Components)
	}

	// Clone what the IMS committed, over its own HTTP.
	work := t.TempDir()
	git(t, work, "clone", "--quiet", repoURL, "repo")
	repo := filepath.Join(work, "repo")
	if head := git(t, repo, "rev-parse", "HEAD"); head != g.Commit {
		t.Fatalf("cloned head %s, deployment says %s", head, g.Commit)
	}
	if msg := git(t, repo, "log", "-1", "--format=%an|%s"); msg != "Nephoran O2 IMS|Create deployment gitops-demo" {
		t.Errorf("commit: %s", msg)
	}
	dir := filepath.Join(repo, "deployments", "o2ims-gitops-demo")
	kptfile := readYAML(t, filepath.Join(dir, "Kptfile"))
	if dig(kptfile, "kind") != "Kptfile" || dig(kptfile, "metadata", "name") != "o2ims-gitops-demo" || dig(kptfile, "metadata", "annotations", "o2ims.nephoran.io/deployment-id") != d.DeploymentID {
		t.Errorf("Kptfile: %v", kptfile)
	}
	config := readYAML(t, filepath.Join(dir, "deployment-config.yaml"))
	if dig(config, "metadata", "name") != "deployment-config" || dig(config, "data", "resourcePoolId") != pool.ResourcePoolID ||
		dig(config, "data", "provider") != "local" || dig(config, "data", "deploymentId") != d.DeploymentID {
		t.Errorf("deployment-config: %v", config)
	}
	ns := d.Status.Components[0].Namespace
	workload := readYAML(t, filepath.Join(dir, ns, "deployment_kapp.yaml"))
	spec := dig(workload, "spec", "template", "spec").(map[string]any)
	container := spec["containers"].([]any)[0].(map[string]any)
	if dig(workload, "metadata", "namespace") != ns || dig(workload, "spec", "replicas") != float64(2) ||
		dig(spec, "nodeSelector", "nephoran.io/resource-pool") != pool.Name ||
		container["image"] != "registry.invalid/cnf/kapp:2.4" ||
		dig(container, "resources", "requests", "cpu") != "250m" || dig(container, "resources", "requests", "memory") != "128Mi" {
		t.Errorf("rendered Deployment: %v", workload)
	}
	if nsDoc := readYAML(t, filepath.Join(dir, ns, "namespace.yaml")); dig(nsDoc, "kind") != "Namespace" || dig(nsDoc, "metadata", "name") != ns {
		t.Errorf("namespace: %v", nsDoc)
	}

	// Scaling is a new commit on top.
	if _, err := c.Deployments().Update(ctx, d.DeploymentID, o2.DeploymentPatch{Components: []o2.ComponentReplicas{{Name: "upf", Replicas: 3}}}); err != nil {
		t.Fatalf("scale: %v", err)
	}
	d = committed(g.Commit)
	git(t, repo, "pull", "--quiet", "--ff-only")
	if parent := git(t, repo, "rev-parse", "HEAD^"); parent != g.Commit {
		t.Errorf("the scale's commit is not on top of the first: parent %s, want %s", parent, g.Commit)
	}
	g = d.Status.GitOps
	if dig(readYAML(t, filepath.Join(dir, ns, "deployment_kapp.yaml")), "spec", "replicas") != float64(3) {
		t.Error("the scale's commit does not hold 3 replicas")
	}

	// Nothing can be pushed to it.
	if err := os.WriteFile(filepath.Join(repo, "x.txt"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", "x.txt")
	git(t, repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "x")
	push := exec.Command("git", "push", "origin", "HEAD:main")
	push.Dir = repo
	push.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir(), "GIT_TERMINAL_PROMPT=0")
	if out, err := push.CombinedOutput(); err == nil {
		t.Errorf("a push to the IMS's repository succeeded:\n%s", out)
	}
	resp, err := http.Post(repoURL+"/git-receive-pack", "application/x-git-receive-pack-request", strings.NewReader("0000"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("receive-pack: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	git(t, repo, "reset", "--quiet", "--hard", "origin/main")

	// Deleting removes the package in a commit, then the deployment.
	if err := c.Deployments().Delete(ctx, d.DeploymentID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deployment gone", func() bool {
		_, err := c.Deployments().Get(ctx, d.DeploymentID)
		return o2.IsNotFound(err)
	})
	git(t, repo, "pull", "--quiet", "--ff-only")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the package is still in the repository: %v", err)
	}
	if msg := git(t, repo, "log", "-1", "--format=%s"); msg != "Delete deployment gitops-demo" {
		t.Errorf("last commit: %s", msg)
	}
	if n := git(t, repo, "rev-list", "--count", "HEAD"); n != "3" {
		t.Errorf("commits: %s, want 3 (create, scale, delete)", n)
	}
}

// syncLoop is a small GitOps agent: every half second it pulls the
// repository and server-side-applies each package's namespace directories
// to the cluster, deleting the namespaces whose directory went away. It
// stops with the test.
func syncLoop(t *testing.T, ctx context.Context, repoURL string, plane *testenv.Plane) {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(plane.RESTConfigBytes)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := cnf.NewCluster(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	git(t, work, "init", "--quiet", "--initial-branch=main", "repo")
	repo := filepath.Join(work, "repo")
	git(t, repo, "remote", "add", "origin", repoURL)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	applied := map[string]bool{}
	pass := func() error {
		fetch := exec.CommandContext(ctx, "git", "fetch", "--quiet", "origin", "main")
		fetch.Dir = repo
		if out, err := fetch.CombinedOutput(); err != nil {
			if strings.Contains(string(out), "couldn't find remote ref") {
				return nil // nothing committed yet
			}
			return fmt.Errorf("fetch: %v: %s", err, out)
		}
		reset := exec.CommandContext(ctx, "git", "reset", "--quiet", "--hard", "FETCH_HEAD")
		reset.Dir = repo
		if out, err := reset.CombinedOutput(); err != nil {
			return fmt.Errorf("reset: %v: %s", err, out)
		}
		present := map[string]bool{}
		// A package's own files go to namespace default, those of a
		// directory to the namespace it is named after; local
		// configuration is not applied.
		pkgs, _ := filepath.Glob(filepath.Join(repo, "deployments", "*"))
		for _, pkg := range pkgs {
			dirs, _ := filepath.Glob(filepath.Join(pkg, "*"))
			for _, dir := range append([]string{pkg}, dirs...) {
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					continue
				}
				ns := filepath.Base(dir)
				if dir == pkg {
					ns = "default"
				}
				files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
				var objs []*unstructured.Unstructured
				for _, f := range files {
					b, err := os.ReadFile(f)
					if err != nil {
						return err
					}
					var m map[string]any
					if err := yaml.Unmarshal(b, &m); err != nil {
						return fmt.Errorf("%s: %w", f, err)
					}
					o := &unstructured.Unstructured{Object: m}
					if v, ok := o.GetAnnotations()["config.kubernetes.io/local-config"]; (ok && v != "false") || o.GetKind() == "Kptfile" {
						continue
					}
					objs = append(objs, o)
				}
				if len(objs) == 0 {
					continue
				}
				if _, err := cluster.Apply(ctx, ns, objs); err != nil {
					return fmt.Errorf("apply %s: %w", dir, err)
				}
				if ns != "default" {
					present[ns], applied[ns] = true, true
				}
			}
		}
		for ns := range applied {
			if !present[ns] {
				if err := kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
				delete(applied, ns)
			}
		}
		return nil
	}
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := pass(); err != nil && ctx.Err() == nil {
				t.Logf("sync: %v", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
}

// TestEndToEndGitOpsOnCluster delivers deployments through a remote
// GitOps repository whose agent (a sync loop of the test) applies it to a
// registered cluster of the real control plane, in both ways a cluster
// can be reached through git: a gitops provider naming the cluster as its
// targetCluster, and the cluster registered with delivery gitops. The IMS
// pushes the package, follows the committed workloads on the cluster to
// ACTIVE, scales through a second commit to SCALED, and on delete removes
// the package, after which the agent prunes the cluster.
func TestEndToEndGitOpsOnCluster(t *testing.T) {
	for _, mode := range []string{"targetCluster", "delivery"} {
		t.Run(mode, func(t *testing.T) { gitOpsOnCluster(t, mode) })
	}
}

func gitOpsOnCluster(t *testing.T, mode string) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	uniq := clusterTest(t, "git")
	poolName := uniq + "-pool"
	for _, n := range []string{uniq + "-n1", uniq + "-n2"} {
		if err := plane.CreateNode(ctx, n, map[string]string{"nephoran.io/resource-pool": poolName, "topology.kubernetes.io/region": "eu-west-1"}, "4", "8Gi"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), n) })
	}
	gs, err := testenv.StartGitServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gs.Close() })
	repoURL, err := gs.CreateRepo("fleet")
	if err != nil {
		t.Fatal(err)
	}

	endpoint := "http://" + startServer(t, "--local-provider=false", "--local-gitops=false", "--refresh-interval", "2s")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	clusterName, repoName := uniq+"-cluster", uniq+"-fleet"
	clusterConfig := o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}
	if mode == "delivery" {
		for _, bad := range []o2.ProviderConfig{{Kubeconfig: clusterConfig.Kubeconfig, Delivery: "gitops"}, {Kubeconfig: clusterConfig.Kubeconfig, Delivery: "carrier-pigeon"},
			{Kubeconfig: clusterConfig.Kubeconfig, Repository: repoURL}} {
			if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: uniq + "-bad", Config: bad}); !o2.IsBadRequest(err) {
				t.Errorf("cluster %+v: %v, want 400", bad, err)
			}
		}
		clusterConfig.Delivery, clusterConfig.Repository = "gitops", repoURL
	}
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: clusterName, Config: clusterConfig}); err != nil {
		t.Fatalf("register cluster: %v", err)
	}
	clusterDM := firstOf(ctx, t, "cluster deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
		return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", clusterName)})
	})
	spec := &o2.DeploymentSpec{Name: uniq, Placement: &o2.PlacementRules{Regions: []string{"eu-west"}}}
	if mode == "targetCluster" {
		// Refused: a gitops provider with a kubeconfig, or without a repository.
		for _, bad := range []o2.ProviderConfig{{Repository: repoURL, Kubeconfig: "x"}, {Branch: "main"}, {Repository: "file:///etc"}} {
			if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: uniq + "-bad", Type: o2.ProviderTypeGitOps, Config: bad}); !o2.IsBadRequest(err) {
				t.Errorf("gitops provider %+v: %v, want 400", bad, err)
			}
		}
		prov, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: repoName, Type: o2.ProviderTypeGitOps, Config: o2.ProviderConfig{
			Repository: repoURL, Username: "o2ims", Password: "not-checked-by-this-server", TargetCluster: clusterName}})
		if err != nil {
			t.Fatalf("register repository: %v", err)
		}
		if prov.Type != o2.ProviderTypeGitOps || prov.Endpoint != repoURL {
			t.Errorf("gitops provider: %+v", prov)
		}
		dm := firstOf(ctx, t, "gitops deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
			return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", repoName)})
		})
		spec.DeploymentManagerID = dm.DeploymentManagerID
	}
	pool := firstOf(ctx, t, "cluster pool", func() (*o2.Page[o2.ResourcePool], error) {
		return c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", poolName)})
	})
	syncLoop(t, ctx, repoURL, plane)

	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "app", Version: "0.3.1", VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-" + uniq},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1), Resources: &o2.FlavourResources{CPU: "100m", Memory: "64Mi"}}},
	}, bytes.NewReader(cnftest.HelmChart(t)))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	spec.Components = []o2.DeploymentComponent{{Name: "amf", VnfdID: pkg.VnfdInfo.VnfdID, Replicas: 2}}
	d, err := c.Deployments().Create(ctx, spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if d.Status.GitOps == nil || d.Status.GitOps.ClusterDeploymentManagerID != clusterDM.DeploymentManagerID || d.Status.GitOps.Repository != repoURL ||
		len(d.Status.Components) != 1 || d.Status.Components[0].ResourcePoolID != pool.ResourcePoolID {
		t.Fatalf("deployment through the repository: gitops %+v, components %+v", d.Status.GitOps, d.Status.Components)
	}
	waitPhase := func(phase o2.DeploymentPhase) *o2.Deployment {
		t.Helper()
		var got *o2.Deployment
		waitFor(t, "phase "+string(phase), func() bool {
			got, err = c.Deployments().Get(ctx, d.DeploymentID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status.Phase == phase
		})
		return got
	}
	d = waitPhase("ACTIVE")
	if condition(d, "Synced").Status != "True" || d.Status.Components[0].ReadyReplicas != 2 || d.Status.Components[0].Phase != "INSTANTIATED" {
		t.Errorf("active deployment: %+v, conditions %+v", d.Status.Components, d.Status.Conditions)
	}
	head, err := gs.Git("--git-dir", gs.RepoDir("fleet"), "rev-parse", "main")
	if err != nil || strings.TrimSpace(head) != d.Status.GitOps.Commit {
		t.Errorf("repository main %q (%v), deployment commit %s", head, err, d.Status.GitOps.Commit)
	}

	if _, err := c.Deployments().Update(ctx, d.DeploymentID, o2.DeploymentPatch{Components: []o2.ComponentReplicas{{Name: "amf", Replicas: 3}}}); err != nil {
		t.Fatalf("scale: %v", err)
	}
	d = waitPhase("SCALED")
	if d.Status.Components[0].ReadyReplicas != 3 {
		t.Errorf("scaled: %+v", d.Status.Components)
	}

	ns := d.Status.Components[0].Namespace
	if err := c.Deployments().Delete(ctx, d.DeploymentID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deployment gone", func() bool {
		_, err := c.Deployments().Get(ctx, d.DeploymentID)
		return o2.IsNotFound(err)
	})
	if out, err := gs.Git("--git-dir", gs.RepoDir("fleet"), "ls-tree", "-r", "--name-only", "main"); err != nil || strings.Contains(out, "o2ims-"+uniq) {
		t.Errorf("package still on main: %q %v", out, err)
	}
	cfg, _ := clientcmd.RESTConfigFromKubeConfig(plane.RESTConfigBytes)
	kube := kubernetes.NewForConfigOrDie(cfg)
	waitFor(t, "namespace pruned", func() bool {
		n, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err) || (err == nil && n.DeletionTimestamp != nil)
	})
}

// TestEndToEndPorch delivers a deployment the Nephio R5 way through real
// Porch v1.4.0: the IMS clones the guide's blueprint into a package
// revision, writes the deployment's pool, region, replicas and image, and
// Porch renders and publishes it to the deployment repository, whose
// agent (the test's sync loop) applies it to the registered cluster; the
// deployment follows the workload there to ACTIVE, and its deletion
// removes the package from the repository.
func TestEndToEndPorch(t *testing.T) {
	plane, po := testenv.RequirePorch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	uniq := clusterTest(t, "porch")
	poolName := uniq + "-pool"
	for _, n := range []string{uniq + "-n1", uniq + "-n2"} {
		if err := plane.CreateNode(ctx, n, map[string]string{"nephoran.io/resource-pool": poolName, "topology.kubernetes.io/region": "us-west-1"}, "4", "8Gi"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), n) })
	}
	packages, deployments := uniq+"-packages", uniq+"-deployments"
	for _, r := range []testenv.RepositoryOptions{{Name: packages, Directory: "/packages", Deployment: true}, {Name: deployments, Directory: "/deployments", Deployment: true}} {
		if err := po.CreateRepository(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	blueprint, err := testenv.ReadPackage(filepath.Join("..", "..", "internal", "kpt", "testdata", "guide-template"))
	if err != nil {
		t.Fatal(err)
	}
	if err := po.Publish(ctx, packages, "o2ims-deployment-template", blueprint); err != nil {
		t.Fatal(err)
	}

	endpoint := "http://" + startServer(t, "--local-provider=false", "--local-gitops=false", "--refresh-interval", "2s")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	clusterName := uniq + "-cluster"
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: clusterName, Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}}); err != nil {
		t.Fatalf("register cluster: %v", err)
	}
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: uniq + "-bad", Type: o2.ProviderTypePorch, Config: o2.ProviderConfig{
		Kubeconfig: string(plane.RESTConfigBytes), Password: "x"}}); !o2.IsBadRequest(err) {
		t.Errorf("a porch provider with a password: %v, want 400", err)
	}
	prov, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: uniq + "-porch", Type: o2.ProviderTypePorch, Config: o2.ProviderConfig{
		Kubeconfig: string(plane.RESTConfigBytes), Repository: deployments, BlueprintRepository: packages, AutoApprove: true, TargetCluster: clusterName}})
	if err != nil {
		t.Fatalf("register porch: %v", err)
	}
	if prov.Type != o2.ProviderTypePorch {
		t.Errorf("porch provider: %+v", prov)
	}
	dm := firstOf(ctx, t, "porch deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
		return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", uniq+"-porch")})
	})
	pool := firstOf(ctx, t, "cluster pool", func() (*o2.Page[o2.ResourcePool], error) {
		return c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("name", poolName)})
	})
	syncLoop(t, ctx, po.Git.RepoURL(deployments), plane)

	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "app", Version: "0.3.1", VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-" + uniq},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1), Resources: &o2.FlavourResources{CPU: "100m", Memory: "64Mi"}}},
	}, bytes.NewReader(cnftest.HelmChart(t)))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	// Porch renders one workload: two components are refused.
	two := []o2.DeploymentComponent{{Name: "amf", VnfdID: pkg.VnfdInfo.VnfdID}, {Name: "smf", VnfdID: pkg.VnfdInfo.VnfdID}}
	if _, err := c.Deployments().Create(ctx, &o2.DeploymentSpec{Name: uniq + "-two", DeploymentManagerID: dm.DeploymentManagerID, Components: two}); !o2.IsUnprocessable(err) {
		t.Errorf("two components through Porch: %v, want 422", err)
	}
	d, err := c.Deployments().Create(ctx, &o2.DeploymentSpec{
		Name: uniq, DeploymentManagerID: dm.DeploymentManagerID,
		Components: []o2.DeploymentComponent{{Name: "amf", VnfdID: pkg.VnfdInfo.VnfdID, Replicas: 2, AdditionalParams: map[string]any{"image": "registry.example/o2ims/amf:1.2.3"}}},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if d.Status.GitOps == nil || d.Status.GitOps.Kind != "porch" || d.Status.Components[0].ResourcePoolID != pool.ResourcePoolID {
		t.Fatalf("deployment through Porch: %+v %+v", d.Status.GitOps, d.Status.Components)
	}
	waitFor(t, "ACTIVE through Porch", func() bool {
		d, err = c.Deployments().Get(ctx, d.DeploymentID)
		if err != nil {
			t.Fatal(err)
		}
		return d.Status.Phase == "ACTIVE"
	})
	revision := deployments + ".o2ims-" + uniq + "." + uniq
	if d.Status.PackageRevision != revision || condition(d, "Delivered").Status != "True" || !strings.Contains(condition(d, "Delivered").Message, "Published") ||
		d.Status.Components[0].ReadyReplicas != 2 || len(d.Status.Components[0].Workloads) != 1 {
		t.Errorf("active deployment: packageRevision %q, conditions %+v, components %+v", d.Status.PackageRevision, d.Status.Conditions, d.Status.Components)
	}
	show := func(object string) string {
		out, err := po.Git.Git("-C", po.Git.RepoDir(deployments), "show", object)
		if err != nil {
			t.Fatalf("git show %s: %v", object, err)
		}
		return out
	}
	dir := "main:deployments/o2ims-" + uniq + "/"
	if cfg := show(dir + "deployment-config.yaml"); !strings.Contains(cfg, "resourcePoolId: "+pool.ResourcePoolID) || !strings.Contains(cfg, "region: us-west-1") {
		t.Errorf("deployment-config on main:\n%s", cfg)
	}
	if dep := show(dir + "deployment.yaml"); !strings.Contains(dep, "nephoran.io/resource-pool: "+poolName) || !strings.Contains(dep, "image: registry.example/o2ims/amf:1.2.3") ||
		!strings.Contains(dep, "replicas: 2") || !strings.Contains(dep, "topology.kubernetes.io/region: us-west-1") {
		t.Errorf("deployment on main:\n%s", dep)
	}

	if err := c.Deployments().Delete(ctx, d.DeploymentID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deployment gone", func() bool {
		_, err := c.Deployments().Get(ctx, d.DeploymentID)
		return o2.IsNotFound(err)
	})
	if out, err := po.Git.Git("-C", po.Git.RepoDir(deployments), "ls-tree", "-r", "--name-only", "main"); err != nil || strings.Contains(out, "o2ims-"+uniq+"/") {
		t.Errorf("package still on main: %q %v", out, err)
	}
}

// TestEndToEndGitOpsRetries: while the repository cannot be reached the
// deployment says so (condition Delivered False, with the error) and stays
// DEPLOYING; once it can, the same package is committed, nothing lost.
func TestEndToEndGitOpsRetries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	uniq := clusterTest(t, "flaky")
	gs, err := testenv.StartGitServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gs.Close() })
	if _, err := gs.CreateRepo("fleet"); err != nil {
		t.Fatal(err)
	}
	// The repository's server, down until up is set.
	var up atomic.Bool
	target, _ := url.Parse(gs.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(flaky.Close)

	endpoint := "http://" + startServer(t, "--local-gitops=false", "--refresh-interval", "2s")
	c, err := o2.NewClient(&o2.Config{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	// Registered although unreachable; unhealthy until it answers.
	prov, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: uniq, Type: o2.ProviderTypeGitOps, Config: o2.ProviderConfig{Repository: flaky.URL + "/fleet.git"}})
	if err != nil {
		t.Fatalf("register an unreachable repository: %v", err)
	}
	waitFor(t, "unhealthy repository", func() bool {
		got, err := c.Providers().Get(ctx, prov.ProviderID)
		return err == nil && !got.Status.Healthy && got.Status.Error != ""
	})
	up.Store(true)
	dm := firstOf(ctx, t, "gitops deployment manager", func() (*o2.Page[o2.DeploymentManager], error) {
		return c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", uniq)})
	})
	up.Store(false)
	pool := firstOf(ctx, t, "host pool", func() (*o2.Page[o2.ResourcePool], error) {
		return c.ResourcePools().List(ctx, o2.ListOptions{Filter: o2.Eq("extensions/provider", "local")})
	})
	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "kapp", Version: "2.1.0", ContentType: o2.PackageKpt, VnfdInfo: o2.VnfdInfo{VnfdID: "vnfd-" + uniq},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1)}},
	}, bytes.NewReader(cnftest.TarDir(t, cnftest.Dir("kpt", "app"), "kapp", nil)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deployments().Create(ctx, &o2.DeploymentSpec{Name: uniq, DeploymentManagerID: dm.DeploymentManagerID, ResourcePools: []string{pool.ResourcePoolID},
		Components: []o2.DeploymentComponent{{Name: "upf", VnfdID: pkg.VnfdInfo.VnfdID}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed delivery reported", func() bool {
		d, err = c.Deployments().Get(ctx, d.DeploymentID)
		if err != nil {
			t.Fatal(err)
		}
		cond := condition(d, "Delivered")
		return cond.Status == "False" && strings.Contains(cond.Message, "503") && d.Status.Phase == "DEPLOYING"
	})
	up.Store(true)
	waitFor(t, "the package committed once the repository answers", func() bool {
		d, err = c.Deployments().Get(ctx, d.DeploymentID)
		if err != nil {
			t.Fatal(err)
		}
		return condition(d, "Delivered").Status == "True" && d.Status.GitOps.Commit != ""
	})
	if out, err := gs.Git("-C", gs.RepoDir("fleet"), "show", "main:deployments/o2ims-"+uniq+"/deployment-config.yaml"); err != nil || !strings.Contains(out, pool.ResourcePoolID) {
		t.Errorf("committed deployment-config: %q %v", out, err)
	}
}
