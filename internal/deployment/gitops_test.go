package deployment_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/cnf"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/gitops"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// repoDelivery delivers to a real local git repository as deployment
// manager gitDM, and claims porchDM as a Porch manager (never delivered
// to here); fail makes deliveries fail as an unreachable remote would.
type repoDelivery struct {
	gitDM, porchDM string
	repo           *gitops.Repository
	fail           atomic.Bool
}

func (r *repoDelivery) Target(_ context.Context, dmID string) (deployment.GitTarget, bool, error) {
	switch dmID {
	case r.gitDM:
		return deployment.GitTarget{Kind: deployment.GitRepository, Repository: "file://repo", Branch: "main"}, true, nil
	case r.porchDM:
		return deployment.GitTarget{Kind: deployment.PorchRepository, Repository: "o2ims-deployments", Branch: "main"}, true, nil
	}
	return deployment.GitTarget{}, false, nil
}

func (r *repoDelivery) Deliver(ctx context.Context, dmID string, p deployment.Package) (deployment.Delivered, error) {
	if r.fail.Load() {
		return deployment.Delivered{}, errors.New("push to https://git.example/fleet.git: authentication required")
	}
	c, err := r.repo.Put(ctx, "o2ims-"+p.Deployment, p.Files, p.Message)
	return deployment.Delivered{Commit: c.Hash, Path: c.Path, Changed: c.Changed}, err
}

func (r *repoDelivery) Withdraw(ctx context.Context, dmID, name, message string) (bool, error) {
	if r.fail.Load() {
		return false, errors.New("push to https://git.example/fleet.git: authentication required")
	}
	c, err := r.repo.Remove(ctx, "o2ims-"+name, message)
	return c.Changed, err
}

func (r *repoDelivery) Workloads(context.Context, string, []cnf.ObjectRef) (cnf.WorkloadStatus, error) {
	return cnf.WorkloadStatus{}, errors.New("no cluster")
}

// TestGitOpsDelivery follows a deployment sent to a GitOps deployment
// manager through the reconciler, on both databases: committed (on a pool
// no cluster serves), changed in a new commit, retried while the
// repository refuses, removed in a commit on delete.
func TestGitOpsDelivery(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		f := newFixture(t, b, deployment.Options{ReserveByDefault: true, ResyncInterval: 20 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		repo, err := gitops.Open(gitops.Options{Path: filepath.Join(t.TempDir(), "r.git"), Directory: "deployments"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		rd := &repoDelivery{gitDM: uuid.NewString(), porchDM: uuid.NewString(), repo: repo}
		f.svc.UseGitOps(rd)
		go f.svc.Run(ctx)

		// Porch renders one workload: a spread deployment is refused.
		spread := spec("wide", comp("amf", 2, "100m"))
		spread.DeploymentManagerID, spread.Placement = rd.porchDM, &deployment.Rules{Spread: 2}
		_, err = f.svc.Create(ctx, spread)
		wantErr(t, err, ims.EUNPROCESSABLE, "Porch delivers one component on one pool")

		s := spec("core", comp("amf", 2, "100m"))
		s.DeploymentManagerID, s.ResourcePools = rd.gitDM, []string{f.poolC}
		d, err := f.svc.Create(ctx, s)
		if err != nil {
			t.Fatalf("create on a pool no cluster serves, through git: %v", err)
		}
		if d.Status.GitOps == nil || d.Status.GitOps.Kind != deployment.GitRepository || d.Status.Components[0].DeploymentManagerID != rd.gitDM {
			t.Fatalf("gitops status %+v, components %+v", d.Status.GitOps, d.Status.Components)
		}
		wait := func(what string, cond func(deployment.Deployment) bool) deployment.Deployment {
			t.Helper()
			for {
				got, err := f.svc.Get(ctx, d.DeploymentID)
				if err == nil && cond(got) {
					return got
				}
				if ctx.Err() != nil {
					t.Fatalf("no %s: %+v (%v)", what, got.Status, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		cond := func(d deployment.Deployment, typ string) deployment.Condition {
			for _, c := range d.Status.Conditions {
				if c.Type == typ {
					return c
				}
			}
			return deployment.Condition{}
		}
		d = wait("commit", func(d deployment.Deployment) bool { return d.Status.GitOps.Commit != "" })
		if d.Status.Phase != deployment.PhaseDeploying || cond(d, deployment.CondSynced).Status != "Unknown" || cond(d, deployment.CondDelivered).Status != "True" ||
			d.Status.Components[0].Phase != deployment.ComponentCommitted || len(d.Status.Reservations) != 1 || d.Status.Reservations[0].State != "RELEASED" {
			t.Fatalf("delivered: %+v", d.Status)
		}
		first := d.Status.GitOps.Commit
		files, head, err := repo.Read(ctx, "o2ims-core")
		if err != nil || head != first {
			t.Fatalf("package in the repository: %v (head %s, deployment says %s)", err, head, first)
		}
		var config struct {
			Data map[string]string `json:"data"`
		}
		if err := yaml.Unmarshal(files["deployment-config.yaml"], &config); err != nil || config.Data["resourcePoolId"] != f.poolC || config.Data["deploymentId"] != d.DeploymentID {
			t.Errorf("deployment-config: %s (%v)", files["deployment-config.yaml"], err)
		}
		ns := d.Status.Components[0].Namespace
		var workload string
		for name, b := range files {
			if strings.HasPrefix(name, ns+"/deployment_") {
				workload = string(b)
			}
		}
		if !strings.Contains(workload, "nephoran.io/resource-pool: host-c") || !strings.Contains(workload, "replicas: 2") || !strings.Contains(workload, "cpu: 100m") {
			t.Errorf("rendered workload of %s:\n%s", ns, workload)
		}

		// A change while the repository refuses: the error is shown, the
		// change lands once it accepts.
		rd.fail.Store(true)
		if _, err := f.svc.Update(ctx, d.DeploymentID, deployment.Patch{Components: []deployment.ComponentPatch{{Name: "amf", Replicas: 3}}}, ""); err != nil {
			t.Fatalf("scale a delivered deployment: %v", err)
		}
		d = wait("failure shown", func(d deployment.Deployment) bool {
			c := cond(d, deployment.CondDelivered)
			return c.Status == "False" && strings.Contains(c.Message, "authentication required")
		})
		rd.fail.Store(false)
		d = wait("second commit", func(d deployment.Deployment) bool {
			return d.Status.GitOps.Commit != first && cond(d, deployment.CondDelivered).Status == "True"
		})
		files, _, _ = repo.Read(ctx, "o2ims-core")
		for name, b := range files {
			if strings.HasPrefix(name, ns+"/deployment_") && !strings.Contains(string(b), "replicas: 3") {
				t.Errorf("after scaling, %s:\n%s", name, b)
			}
		}

		if _, err := f.svc.Delete(ctx, d.DeploymentID); err != nil {
			t.Fatal(err)
		}
		for {
			_, err := f.svc.Get(ctx, d.DeploymentID)
			if ims.ErrorCode(err) == ims.ENOTFOUND {
				break
			}
			if ctx.Err() != nil {
				t.Fatal("deployment not removed")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, _, err := repo.Read(ctx, "o2ims-core"); !errors.Is(err, gitops.ErrNotFound) {
			t.Errorf("package after delete: %v", err)
		}
	})
}
