// Package gitops is the provider of GitOps deployment managers: a git
// repository (branch and directory) that deployments are committed to as
// kpt packages, for the GitOps agent of a cluster to apply. It reports one
// deployment manager and no pools; the pools a deployment is placed on
// come from the other providers, or from the Kubernetes cluster the
// repository syncs to when that cluster is registered (TargetCluster).
// A Kubernetes cluster can also be registered with such a repository of
// its own (Cluster): its pools are then delivered through git.
package gitops

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	repo "github.com/nephoran/o2ims/internal/gitops"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider/kubernetes"
)

// ProviderType is the provider type and the deployment manager's
// extensions.provider.
const ProviderType = "gitops"

// Options configure a GitOps deployment manager.
type Options struct {
	// Name is the provider's and the deployment manager's name.
	Name string
	// Repository is the git repository: a remote URL, or a local bare
	// repository the server serves itself.
	Repository repo.Options
	// CloneURL is where clients clone a local repository from (the
	// server's own git endpoint); ignored for remote ones.
	CloneURL string
	// TargetCluster names the Kubernetes provider whose cluster the
	// repository's GitOps agent applies to; empty when none is registered.
	TargetCluster string
}

// Provider is a GitOps deployment manager.
type Provider struct {
	opts   Options
	repo   *repo.Repository
	dmID   string
	logger *slog.Logger
}

var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:nephoran:o2ims:gitops"))

// New opens the repository (creating a local one) and returns the
// provider; a remote repository is first contacted by Discover.
func New(opts Options, logger *slog.Logger) (*Provider, error) {
	r, err := repo.Open(opts.Repository, logger)
	if err != nil {
		return nil, err
	}
	return &Provider{opts: opts, repo: r, dmID: uuid.NewSHA1(idSpace, []byte(opts.Name)).String(), logger: logger}, nil
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.opts.Name }

// Repository is the repository deployments are committed to.
func (p *Provider) Repository() *repo.Repository { return p.repo }

// TargetCluster names the Kubernetes provider the repository syncs to.
func (p *Provider) TargetCluster() string { return p.opts.TargetCluster }

// DeploymentManagerID is the id of the deployment manager it reports.
func (p *Provider) DeploymentManagerID() string { return p.dmID }

// ServerURL is where the repository is reached: its URL, or the server's
// own git endpoint for a local one.
func (p *Provider) ServerURL() string {
	if p.repo.Local() && p.opts.CloneURL != "" {
		return p.opts.CloneURL
	}
	return p.repo.DisplayURL()
}

// Discover checks that the repository can be read and reports its
// deployment manager; an unreachable repository is a failed discovery,
// which makes the provider unhealthy.
func (p *Provider) Discover(ctx context.Context) (ims.Snapshot, error) {
	if err := p.repo.Check(ctx); err != nil {
		return ims.Snapshot{}, fmt.Errorf("repository %s: %w", p.ServerURL(), err)
	}
	ext := ims.Extensions{
		"provider": ProviderType, "providerName": p.opts.Name, "delivery": "gitops",
		"repository": p.ServerURL(), "branch": p.repo.Branch(), "directory": "/" + p.repo.Directory(),
		"local": p.repo.Local(),
	}
	if p.opts.TargetCluster != "" {
		ext["targetCluster"] = p.opts.TargetCluster
	}
	return ims.Snapshot{DeploymentManagers: []ims.DeploymentManager{{
		DeploymentManagerID: p.dmID,
		Name:                p.opts.Name,
		Description:         "GitOps repository " + p.ServerURL() + " (branch " + p.repo.Branch() + ")",
		ServiceURI:          p.ServerURL(),
		Capabilities:        map[string]any{"delivery": "gitops", "packageFormat": "kpt"},
		Extensions:          ext,
	}}}, nil
}

// Cluster is a Kubernetes cluster registered with delivery gitops: its
// inventory is the Kubernetes provider's, and deployments placed on its
// pools are committed to its repository, which its own GitOps agent
// applies, instead of being applied directly. Its deployment manager says
// so in extensions (delivery, repository, branch, directory).
type Cluster struct {
	*kubernetes.Provider
	repo *repo.Repository
}

// NewCluster returns the cluster k delivered through the repository of
// opts.
func NewCluster(k *kubernetes.Provider, opts repo.Options, logger *slog.Logger) (*Cluster, error) {
	r, err := repo.Open(opts, logger)
	if err != nil {
		return nil, err
	}
	return &Cluster{Provider: k, repo: r}, nil
}

// Repository is the repository deployments are committed to.
func (c *Cluster) Repository() *repo.Repository { return c.repo }

// TargetCluster is the cluster itself.
func (c *Cluster) TargetCluster() string { return c.Name() }

// Discover is the cluster's inventory, its deployment manager marked as
// delivered through the repository.
func (c *Cluster) Discover(ctx context.Context) (ims.Snapshot, error) {
	snap, err := c.Provider.Discover(ctx)
	if err != nil {
		return snap, err
	}
	for i := range snap.DeploymentManagers {
		dm := &snap.DeploymentManagers[i]
		if dm.Extensions == nil {
			dm.Extensions = ims.Extensions{}
		}
		dm.Extensions["delivery"] = "gitops"
		dm.Extensions["repository"] = c.repo.DisplayURL()
		dm.Extensions["branch"] = c.repo.Branch()
		dm.Extensions["directory"] = "/" + c.repo.Directory()
	}
	return snap, nil
}
