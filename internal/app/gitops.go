package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/cnf"
	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/gitops"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/porch"
	"github.com/nephoran/o2ims/internal/provider"
	gitopsprovider "github.com/nephoran/o2ims/internal/provider/gitops"
	"github.com/nephoran/o2ims/internal/provider/kubernetes"
	porchprovider "github.com/nephoran/o2ims/internal/provider/porch"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// LocalGitOpsName is the GitOps deployment manager of the embedded
// default, and LocalGitOpsRepository the name its repository is served
// under (GitPathPrefix + name + ".git").
const (
	LocalGitOpsName       = "local-gitops"
	LocalGitOpsRepository = "o2ims-deployments"
)

// GitOpsOptions configure deliveries through git.
type GitOpsOptions struct {
	// Local adds the GitOps deployment manager local-gitops: a bare
	// repository under DataDir, served by the server itself.
	Local bool
	// DataDir holds the local repository (gitops/o2ims-deployments.git).
	DataDir string
	// AuthorName and AuthorEmail sign the server's commits.
	AuthorName, AuthorEmail string
}

// gitopsFactory builds GitOps deployment managers registered through the
// API or the configuration file.
func gitopsFactory(opts GitOpsOptions, logger *slog.Logger) provider.Factory {
	return func(name string, cfg provider.Config) (inventory.Provider, error) {
		dir := cfg.Directory
		if dir == "" {
			dir = "deployments"
		}
		p, err := gitopsprovider.New(gitopsprovider.Options{Name: name, TargetCluster: cfg.TargetCluster, Repository: gitops.Options{
			URL: cfg.Repository, Branch: cfg.Branch, Directory: dir, Username: cfg.Username, Password: cfg.Password,
			AuthorName: opts.AuthorName, AuthorEmail: opts.AuthorEmail,
		}}, logger.With("provider", name))
		if err != nil {
			return nil, ims.Errorf(ims.EINVALID, "config: %s", err.Error())
		}
		return p, nil
	}
}

// gitopsCluster is a cluster registered with delivery gitops.
func gitopsCluster(k *kubernetes.Provider, opts GitOpsOptions, cfg provider.Config, logger *slog.Logger) (inventory.Provider, error) {
	dir := cfg.Directory
	if dir == "" {
		dir = "deployments"
	}
	c, err := gitopsprovider.NewCluster(k, gitops.Options{
		URL: cfg.Repository, Branch: cfg.Branch, Directory: dir, Username: cfg.Username, Password: cfg.Password,
		AuthorName: opts.AuthorName, AuthorEmail: opts.AuthorEmail,
	}, logger)
	if err != nil {
		_ = k.Close()
		return nil, ims.Errorf(ims.EINVALID, "config: %s", err.Error())
	}
	return c, nil
}

// localGitOps is the embedded default's GitOps deployment manager.
func localGitOps(opts GitOpsOptions, serviceURI string, logger *slog.Logger) (*gitopsprovider.Provider, error) {
	return gitopsprovider.New(gitopsprovider.Options{
		Name:     LocalGitOpsName,
		CloneURL: strings.TrimSuffix(serviceURI, "/") + "/gitops/" + LocalGitOpsRepository + ".git",
		Repository: gitops.Options{
			Path: filepath.Join(opts.DataDir, "gitops", LocalGitOpsRepository+".git"), Directory: "deployments",
			AuthorName: opts.AuthorName, AuthorEmail: opts.AuthorEmail,
		},
	}, logger.With("provider", LocalGitOpsName))
}

// gitDeliveries finds the repository of a GitOps deployment manager among
// the running providers, and reads workloads of the cluster it syncs to.
type gitDeliveries struct {
	store    *sqlstore.Store
	syncer   *inventory.Syncer
	clusters clusters
	logger   *slog.Logger
}

var _ deployment.GitOps = gitDeliveries{}

// deliverer is a running GitOps or Porch deployment manager.
type deliverer interface {
	Name() string
	TargetCluster() string
}

func (g gitDeliveries) provider(ctx context.Context, dmID string) (deliverer, bool, error) {
	doc, err := g.store.Get(ctx, inventory.DeploymentManagerSchema, dmID)
	if ims.ErrorCode(err) == ims.ENOTFOUND {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var dm ims.DeploymentManager
	if err := json.Unmarshal(doc, &dm); err != nil {
		return nil, false, ims.Internal(err, "reading the deployment manager failed")
	}
	kind := dm.Extensions["provider"]
	if kind != gitopsprovider.ProviderType && kind != porchprovider.ProviderType && dm.Extensions["delivery"] != "gitops" {
		return nil, false, nil
	}
	name, _ := dm.Extensions["providerName"].(string)
	p, ok := g.syncer.Provider(name)
	if !ok {
		return nil, false, ims.Errorf(ims.EUNAVAILABLE, "the GitOps repository of deployment manager %q is not running", dmID)
	}
	d, ok := p.(deliverer)
	return d, ok, nil
}

func (g gitDeliveries) Target(ctx context.Context, dmID string) (deployment.GitTarget, bool, error) {
	p, ok, err := g.provider(ctx, dmID)
	if err != nil || !ok {
		return deployment.GitTarget{}, false, err
	}
	var t deployment.GitTarget
	switch p := p.(type) {
	case *gitopsprovider.Provider:
		t = deployment.GitTarget{Kind: deployment.GitRepository, Repository: p.ServerURL(), Branch: p.Repository().Branch()}
	case *porchprovider.Provider:
		t = deployment.GitTarget{Kind: deployment.PorchRepository, Repository: p.Client().DeploymentRepository(), Branch: "main"}
	case *gitopsprovider.Cluster:
		// The cluster applies its own repository.
		return deployment.GitTarget{Kind: deployment.GitRepository, Repository: p.Repository().DisplayURL(), Branch: p.Repository().Branch(), ClusterDeploymentManagerID: dmID}, true, nil
	}
	if name := p.TargetCluster(); name != "" {
		err := collection.Each(ctx, g.store, inventory.DeploymentManagerSchema, query.Filter{}, func(doc json.RawMessage) error {
			var dm ims.DeploymentManager
			if err := json.Unmarshal(doc, &dm); err != nil {
				return ims.Internal(err, "reading the deployment managers failed")
			}
			if dm.Extensions["providerName"] == name && dm.Extensions["provider"] == "kubernetes" {
				t.ClusterDeploymentManagerID = dm.DeploymentManagerID
			}
			return nil
		})
		if err != nil {
			return t, false, err
		}
		if t.ClusterDeploymentManagerID == "" {
			g.logger.WarnContext(ctx, "the cluster a GitOps repository syncs to is not in the inventory", "repository", p.Name(), "targetCluster", name)
		}
	}
	return t, true, nil
}

func (g gitDeliveries) deliverer(ctx context.Context, dmID string) (deliverer, error) {
	p, ok, err := g.provider(ctx, dmID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "deployment manager %q is not a GitOps repository", dmID)
	}
	return p, nil
}

func (g gitDeliveries) Deliver(ctx context.Context, dmID string, pkg deployment.Package) (deployment.Delivered, error) {
	p, err := g.deliverer(ctx, dmID)
	if err != nil {
		return deployment.Delivered{}, err
	}
	switch p := p.(type) {
	case interface{ Repository() *gitops.Repository }:
		c, err := p.Repository().Put(ctx, porch.PackageName(pkg.Deployment), pkg.Files, pkg.Message)
		return deployment.Delivered{Commit: c.Hash, Path: c.Path, Changed: c.Changed}, err
	case *porchprovider.Provider:
		res, err := p.Client().Apply(ctx, porch.Request{Deployment: pkg.Deployment, Config: pkg.Config, Setters: pkg.Setters})
		if err != nil {
			return deployment.Delivered{}, err
		}
		detail := "is " + string(res.Lifecycle)
		if res.Revision > 0 {
			detail += fmt.Sprintf(" (revision %d)", res.Revision)
		}
		return deployment.Delivered{PackageRevision: res.Name, Detail: detail, Changed: res.Changed, Path: p.Client().DeploymentRepository() + ":" + res.PackageName,
			Workloads: porchWorkloads(res.Resources)}, nil
	}
	return deployment.Delivered{}, ims.Errorf(ims.EUNPROCESSABLE, "deployment manager %q is not a GitOps repository", dmID)
}

func (g gitDeliveries) Withdraw(ctx context.Context, dmID, name, message string) (bool, error) {
	p, err := g.deliverer(ctx, dmID)
	if err != nil {
		return false, err
	}
	switch p := p.(type) {
	case interface{ Repository() *gitops.Repository }:
		c, err := p.Repository().Remove(ctx, porch.PackageName(name), message)
		return c.Changed, err
	case *porchprovider.Provider:
		return true, p.Client().Delete(ctx, name)
	}
	return false, nil
}

// porchWorkloads are the Deployments and StatefulSets among the files
// Porch rendered (namespace "default" when they name none).
func porchWorkloads(resources map[string]string) []lcm.ResourceRef {
	var out []lcm.ResourceRef
	names := make([]string, 0, len(resources))
	for n := range resources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") {
			continue
		}
		for _, doc := range strings.Split(resources[n], "\n---") {
			var o struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name        string            `json:"name"`
					Namespace   string            `json:"namespace"`
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			}
			if yaml.Unmarshal([]byte(doc), &o) != nil || (o.Kind != "Deployment" && o.Kind != "StatefulSet") || o.Metadata.Annotations["config.kubernetes.io/local-config"] == "true" {
				continue
			}
			ns := o.Metadata.Namespace
			if ns == "" {
				ns = "default"
			}
			out = append(out, lcm.ResourceRef{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Metadata.Name, Namespace: ns})
		}
	}
	return out
}

func (g gitDeliveries) Workloads(ctx context.Context, clusterDM string, refs []cnf.ObjectRef) (cnf.WorkloadStatus, error) {
	cfg, err := g.clusters.RESTConfig(ctx, clusterDM)
	if err != nil {
		return cnf.WorkloadStatus{}, err
	}
	c, err := cnf.NewCluster(cfg, g.logger)
	if err != nil {
		return cnf.WorkloadStatus{}, err
	}
	return c.Status(ctx, refs)
}

// porchFactory builds Porch deployment managers registered through the
// API or the configuration file.
func porchFactory(logger *slog.Logger) provider.Factory {
	return func(name string, cfg provider.Config) (inventory.Provider, error) {
		rc, err := kubernetes.RESTConfigFor(kubernetes.Options{Name: name, Kubeconfig: []byte(cfg.Kubeconfig), KubeconfigPath: cfg.KubeconfigPath, Context: cfg.Context, SelfContained: cfg.SelfContained})
		if err != nil {
			return nil, err
		}
		return porchprovider.New(porchprovider.Options{Name: name, Config: rc, TargetCluster: cfg.TargetCluster, Porch: porch.Options{
			DeploymentRepository: cfg.Repository, BlueprintRepository: cfg.BlueprintRepository, BlueprintPackage: cfg.Blueprint,
			Namespace: cfg.Namespace, AutoApprove: cfg.AutoApprove,
		}}, logger.With("provider", name))
	}
}
