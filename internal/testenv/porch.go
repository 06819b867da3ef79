package testenv

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// PorchBinaries lists the files StartPorch needs in the bin directory besides
// Binaries, all built by hack/porch/build.sh (`make testenv`): Porch v1.4.0
// (Nephio R5), its function runner, the apply-setters KRM function, and
// Porch's CRDs.
var PorchBinaries = []string{"porch-server", "porch-function-runner", "apply-setters", "porch-crds"}

// MissingPorchBinaries returns the names of the files from PorchBinaries that
// are not in dir.
func MissingPorchBinaries(dir string) []string {
	var missing []string
	for _, name := range PorchBinaries {
		if _, err := os.Stat(filepath.Join(dir, name)); dir == "" || err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}

// PorchFunctionImages are the KRM function images the function runner
// executes, mapped to the binaries hack/porch/build.sh built from the
// images' sources. Porch v1.4.0 runs apply-replacements, set-namespace and
// starlark in-process and sends every other function to the runner.
var PorchFunctionImages = map[string][]string{
	"apply-setters": {"gcr.io/kpt-fn/apply-setters:v0.2.0", "gcr.io/kpt-fn/apply-setters:v0.2"},
}

const (
	porchGroup       = "porch.kpt.dev"
	porchAPIService  = "v1alpha1." + porchGroup
	porchNamespace   = "porch-system"
	porchServiceName = "api"
)

// Porch is a porch-server serving the porch.kpt.dev API through the plane's
// kube-apiserver, with its function runner and a git server for the
// repositories it manages.
type Porch struct {
	// Git serves the repositories CreateRepository registers.
	Git *GitServer
	// URL is porch-server's own address, https://127.0.0.1:<port>. Clients
	// use the plane's API server, which forwards porch.kpt.dev there.
	URL string

	plane *Plane
}

// StartPorch runs Porch against the plane and returns once the
// v1alpha1.porch.kpt.dev APIService is Available, so that a client of the
// plane's API server can use PackageRevisions at once. Later calls return
// the same Porch (or the same error): the APIService is cluster-wide, so a
// plane has one Porch. Its processes stop with the plane.
//
// What runs, all as children of the test binary like the plane itself:
//   - Porch's two CRDs, Repository and the PackageRev store of
//     --cache-type CR, applied to the plane;
//   - porch-function-runner with its executable evaluator, running the KRM
//     functions of PorchFunctionImages from the built binaries;
//   - porch-server on 127.0.0.1 in --standalone-debug-mode (no
//     authorization; authentication is delegated to the plane), with
//     self-signed serving certificates;
//   - the APIService and the ExternalName Service porch-system/api
//     (localhost) through which kube-apiserver reaches porch-server, with
//     the front-proxy client certificate of the plane's PKI;
//   - a GitServer on loopback, in the test binary.
func (p *Plane) StartPorch(ctx context.Context) (*Porch, error) {
	p.porchMu.Lock()
	defer p.porchMu.Unlock()
	if p.porch != nil || p.porchErr != nil {
		return p.porch, p.porchErr
	}
	p.porch, p.porchErr = p.startPorch(ctx)
	return p.porch, p.porchErr
}

func (p *Plane) startPorch(ctx context.Context) (*Porch, error) {
	begin := time.Now()
	if missing := MissingPorchBinaries(p.opts.BinDir); len(missing) > 0 {
		return nil, fmt.Errorf("testenv: %s missing in %q; run `make testenv`", strings.Join(missing, ", "), p.opts.BinDir)
	}

	gitRoot := filepath.Join(p.Dir, "git")
	if err := os.MkdirAll(gitRoot, 0o700); err != nil {
		return nil, err
	}
	gs, err := StartGitServer(gitRoot)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.cleanups = append(p.cleanups, gs.Close)
	p.mu.Unlock()

	if err := p.applyPorchCRDs(ctx); err != nil {
		return nil, err
	}

	// Ports are reserved and released as in Start; on the rare "address
	// already in use" new ones are tried.
	var po *Porch
	for attempt := 1; ; attempt++ {
		po, err = p.startPorchProcesses(ctx)
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "address already in use") || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	po.Git = gs
	p.logf("testenv: porch-server ready after %v", time.Since(begin).Round(time.Millisecond))

	if err := p.registerPorchAPI(ctx, po); err != nil {
		return nil, err
	}
	p.logf("testenv: porch.kpt.dev available after %v", time.Since(begin).Round(time.Millisecond))
	return po, nil
}

func (p *Plane) startPorchProcesses(ctx context.Context) (*Porch, error) {
	free, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	serverPort, runnerPort := free[0], free[1]

	var cfg strings.Builder
	cfg.WriteString("functions:\n")
	for _, fn := range slices.Sorted(maps.Keys(PorchFunctionImages)) {
		fmt.Fprintf(&cfg, "- function: %s\n  images:\n", fn)
		for _, image := range PorchFunctionImages[fn] {
			fmt.Fprintf(&cfg, "  - %s\n", image)
		}
	}
	cfgFile := filepath.Join(p.Dir, "porch-functions.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		return nil, err
	}
	// The function runner has no flag for its address and listens on every
	// interface (":<port>", porch func/server/server.go); nothing else here
	// does. Porch reaches it on loopback.
	runner, err := p.launch("porch-function-runner",
		"--port", strconv.Itoa(runnerPort),
		// The pod evaluator would start functions as pods from images.
		"--disable-runtimes", "pod",
		// The evaluator runs <functions>/<function name>: the binaries
		// built next to this one.
		"--functions", p.opts.BinDir,
		"--config", cfgFile,
	)
	if err != nil {
		return nil, err
	}
	if err := waitListening(ctx, runner, "127.0.0.1:"+strconv.Itoa(runnerPort), 30*time.Second); err != nil {
		return nil, err
	}

	kubeconfig := p.Kubeconfig
	server, err := p.launch("porch-server",
		"--bind-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(serverPort),
		// No authorization, which outside a cluster would need
		// SubjectAccessReviews of a ServiceAccount; porch-server refuses
		// the flag when it runs in a pod.
		"--standalone-debug-mode",
		"--kubeconfig", kubeconfig,
		"--authentication-kubeconfig", kubeconfig,
		"--authorization-kubeconfig", kubeconfig,
		// Self-signed serving certificates for localhost and 127.0.0.1 are
		// written here.
		"--cert-dir", filepath.Join(p.Dir, "porch-certs"),
		"--cache-directory", filepath.Join(p.Dir, "porch-cache"),
		"--cache-type", "CR",
		"--function-runner", "127.0.0.1:"+strconv.Itoa(runnerPort),
		// Changes pushed to the git server by tests show up within
		// seconds rather than the default ten minutes.
		"--repo-sync-frequency", "10s",
	)
	if err != nil {
		return nil, err
	}
	po := &Porch{URL: "https://127.0.0.1:" + strconv.Itoa(serverPort), plane: p}
	// Only readiness is asked of this loopback port, so its self-signed
	// certificate is not verified here.
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, //nolint:gosec // loopback health check
	}}
	defer insecure.CloseIdleConnections()
	if err := waitHealthy(ctx, server, insecure, po.URL+"/readyz", 60*time.Second); err != nil {
		return nil, err
	}
	return po, nil
}

// applyPorchCRDs creates the CRDs shipped with Porch and waits until they
// are established, as porch-server watches Repository objects at start.
func (p *Plane) applyPorchCRDs(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(p.opts.BinDir, "porch-crds", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("testenv: no CRDs in %s: %v", filepath.Join(p.opts.BinDir, "porch-crds"), err)
	}
	return p.ApplyCRDs(ctx, files...)
}

// ApplyCRDs creates the CustomResourceDefinitions of the YAML files (one
// or more documents each), keeping those that exist already, and waits
// until all are established.
func (p *Plane) ApplyCRDs(ctx context.Context, files ...string) error {
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, doc := range strings.Split(string(data), "\n---") {
			var crd struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &crd); err != nil {
				return fmt.Errorf("testenv: %s: %w", f, err)
			}
			if crd.Kind != "CustomResourceDefinition" {
				continue
			}
			body, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				return fmt.Errorf("testenv: %s: %w", f, err)
			}
			err = p.Do(ctx, http.MethodPost, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "", json.RawMessage(body), nil)
			if err != nil && !isConflict(err) {
				return fmt.Errorf("testenv: CRD %s: %w", crd.Metadata.Name, err)
			}
			names = append(names, crd.Metadata.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("testenv: no CustomResourceDefinition in %s", strings.Join(files, ", "))
	}
	for _, name := range names {
		path := "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + name
		if err := p.waitCondition(ctx, path, "Established", 30*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// registerPorchAPI creates the ExternalName Service and the APIService that
// make kube-apiserver forward porch.kpt.dev to po, and waits until the
// APIService is Available.
func (p *Plane) registerPorchAPI(ctx context.Context, po *Porch) error {
	u, err := url.Parse(po.URL)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return err
	}
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": porchNamespace}}
	if err := p.Do(ctx, http.MethodPost, "/api/v1/namespaces", "", ns, nil); err != nil && !isConflict(err) {
		return err
	}
	// The aggregator resolves an ExternalName Service to its name and the
	// APIService's port, so "localhost" reaches porch-server; an Endpoints
	// object with 127.0.0.1 would be refused by validation.
	svc := map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": porchServiceName, "namespace": porchNamespace},
		"spec": map[string]any{
			"type":         "ExternalName",
			"externalName": "localhost",
			"ports":        []any{map[string]any{"name": "api", "port": port, "protocol": "TCP"}},
		},
	}
	if err := p.Do(ctx, http.MethodPost, "/api/v1/namespaces/"+porchNamespace+"/services", "", svc, nil); err != nil {
		return err
	}
	apiService := map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": porchAPIService},
		"spec": map[string]any{
			"group":                porchGroup,
			"version":              "v1alpha1",
			"groupPriorityMinimum": 1000,
			"versionPriority":      15,
			"service":              map[string]any{"namespace": porchNamespace, "name": porchServiceName, "port": port},
			// porch-server's self-signed certificate names localhost, not
			// the Service's DNS name the aggregator would verify.
			"insecureSkipTLSVerify": true,
		},
	}
	if err := p.Do(ctx, http.MethodPost, "/apis/apiregistration.k8s.io/v1/apiservices", "", apiService, nil); err != nil {
		return err
	}
	return p.waitCondition(ctx, "/apis/apiregistration.k8s.io/v1/apiservices/"+porchAPIService, "Available", 60*time.Second)
}

// RepositoryOptions describes a Porch Repository for CreateRepository.
type RepositoryOptions struct {
	// Name names both the bare git repository and the Repository object.
	Name string
	// Namespace of the Repository object; empty means "default".
	Namespace string
	// Directory within the git repository that holds the packages, such
	// as /packages; empty means the root.
	Directory string
	// Deployment marks the packages as deployable instances.
	Deployment bool
}

// CreateRepository creates an empty bare repository on the git server and
// a Porch Repository object of the same name for its branch main, and waits
// until Porch reports the repository Ready. Porch creates main on its first
// push (spec.git.createBranch).
func (po *Porch) CreateRepository(ctx context.Context, opts RepositoryOptions) error {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	repoURL, err := po.Git.CreateRepo(opts.Name)
	if err != nil {
		return err
	}
	repo := map[string]any{
		"apiVersion": "config.porch.kpt.dev/v1alpha1", "kind": "Repository",
		"metadata": map[string]any{"name": opts.Name, "namespace": opts.Namespace},
		"spec": map[string]any{
			"type":       "git",
			"content":    "Package",
			"deployment": opts.Deployment,
			"git": map[string]any{
				"repo":         repoURL,
				"branch":       "main",
				"createBranch": true,
				"directory":    opts.Directory,
			},
		},
	}
	base := "/apis/config.porch.kpt.dev/v1alpha1/namespaces/" + url.PathEscape(opts.Namespace) + "/repositories"
	if err := po.plane.Do(ctx, http.MethodPost, base, "", repo, nil); err != nil {
		return err
	}
	return po.plane.waitCondition(ctx, base+"/"+url.PathEscape(opts.Name), "Ready", 60*time.Second)
}

// waitCondition polls the object at path until its status condition typ is
// True.
func (p *Plane) waitCondition(ctx context.Context, path, typ string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		var obj struct {
			Status struct {
				Conditions []struct {
					Type    string `json:"type"`
					Status  string `json:"status"`
					Reason  string `json:"reason"`
					Message string `json:"message"`
				} `json:"conditions"`
			} `json:"status"`
		}
		err := p.Do(ctx, http.MethodGet, path, "", nil, &obj)
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("conditions %+v", obj.Status.Conditions)
			for _, c := range obj.Status.Conditions {
				if c.Type == typ && c.Status == "True" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: %s not %s: %w (last: %s)", path, typ, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitListening waits until addr accepts TCP connections, for a program
// without a health endpoint.
func waitListening(ctx context.Context, proc *process, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if proc.exited() {
			return proc.describe(fmt.Errorf("exited while waiting for %s", addr))
		}
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return proc.describe(fmt.Errorf("not listening on %s: %w", addr, ctx.Err()))
		case <-proc.done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func isConflict(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusConflict
}

// Publish creates package pkg in repository repo through Porch with files
// as its content, and publishes it: init, PackageRevisionResources (Porch
// renders the Kptfile pipeline), Proposed, approval.
func (po *Porch) Publish(ctx context.Context, repo, pkg string, files map[string]string) error {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(po.plane.RESTConfigBytes)
	if err != nil {
		return err
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return err
	}
	api := cs.PorchV1alpha1()
	pr, err := api.PackageRevisions("default").Create(ctx, &porchapi.PackageRevision{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default"},
		Spec: porchapi.PackageRevisionSpec{
			PackageName: pkg, WorkspaceName: "v1", RepositoryName: repo,
			Tasks: []porchapi.Task{{Type: porchapi.TaskTypeInit, Init: &porchapi.PackageInitTaskSpec{Description: pkg}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	prr, err := api.PackageRevisionResources("default").Get(ctx, pr.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	prr.Spec.Resources = files
	if prr, err = api.PackageRevisionResources("default").Update(ctx, prr, metav1.UpdateOptions{}); err != nil {
		return err
	}
	if rs := prr.Status.RenderStatus; rs.Err != "" || rs.Result.ExitCode != 0 {
		return errors.New("testenv: rendering package " + pkg + " failed: " + rs.Err)
	}
	if pr, err = api.PackageRevisions("default").Get(ctx, pr.Name, metav1.GetOptions{}); err != nil {
		return err
	}
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecycleProposed
	if pr, err = api.PackageRevisions("default").Update(ctx, pr, metav1.UpdateOptions{}); err != nil {
		return err
	}
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecyclePublished
	if _, err = api.PackageRevisions("default").UpdateApproval(ctx, pr.Name, pr, metav1.UpdateOptions{}); err != nil {
		return err
	}
	// Porch answers the approval before its package cache lists the
	// published revision (with its revision number): wait for that, as
	// the clients of the package look it up there.
	for {
		list, err := api.PackageRevisions("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, r := range list.Items {
			if r.Spec.RepositoryName == repo && r.Spec.PackageName == pkg && r.Spec.Lifecycle == porchapi.PackageRevisionLifecyclePublished && r.Spec.Revision > 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: package %s of repository %s is not listed as published: %w", pkg, repo, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ReadPackage reads the files of a package directory (no subdirectories)
// for Publish.
func ReadPackage(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = string(b)
	}
	return files, nil
}
