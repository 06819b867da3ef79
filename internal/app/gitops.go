package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/nephoran/o2ims/internal/cnf"
	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/gitops"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/provider"
	gitopsprovider "github.com/nephoran/o2ims/internal/provider/gitops"
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

func (g gitDeliveries) provider(ctx context.Context, dmID string) (*gitopsprovider.Provider, bool, error) {
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
	if dm.Extensions["provider"] != gitopsprovider.ProviderType {
		return nil, false, nil
	}
	name, _ := dm.Extensions["providerName"].(string)
	p, ok := g.syncer.Provider(name)
	if !ok {
		return nil, false, ims.Errorf(ims.EUNAVAILABLE, "the GitOps repository of deployment manager %q is not running", dmID)
	}
	gp, ok := p.(*gitopsprovider.Provider)
	return gp, ok, nil
}

func (g gitDeliveries) Target(ctx context.Context, dmID string) (deployment.GitTarget, bool, error) {
	p, ok, err := g.provider(ctx, dmID)
	if err != nil || !ok {
		return deployment.GitTarget{}, false, err
	}
	t := deployment.GitTarget{Repository: p.ServerURL(), Branch: p.Repository().Branch()}
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

func (g gitDeliveries) repository(ctx context.Context, dmID string) (*gitops.Repository, error) {
	p, ok, err := g.provider(ctx, dmID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ims.Errorf(ims.EUNPROCESSABLE, "deployment manager %q is not a GitOps repository", dmID)
	}
	return p.Repository(), nil
}

func (g gitDeliveries) Commit(ctx context.Context, dmID, pkg string, files map[string][]byte, message string) (gitops.Commit, error) {
	r, err := g.repository(ctx, dmID)
	if err != nil {
		return gitops.Commit{}, err
	}
	return r.Put(ctx, pkg, files, message)
}

func (g gitDeliveries) Remove(ctx context.Context, dmID, pkg, message string) (gitops.Commit, error) {
	r, err := g.repository(ctx, dmID)
	if err != nil {
		return gitops.Commit{}, err
	}
	return r.Remove(ctx, pkg, message)
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
