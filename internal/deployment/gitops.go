package deployment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/cnf"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/placement"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// A deployment placed with a GitOps deployment manager (DeploymentSpec's
// deploymentManagerId) is not applied to clusters: its components are
// rendered into one kpt package, o2ims-<name> in the manager's repository,
// committed whenever what it renders changes and removed in a commit when
// the deployment goes. The GitOps agent of the cluster the repository
// syncs to applies it; when that cluster is registered, the deployment's
// phase comes from the state of the committed workloads there, else it
// stays DEPLOYING with condition Synced Unknown.

// Conditions of GitOps deliveries.
const (
	// CondDelivered is True once the current package is committed, False
	// while committing fails (the reconciler retries with backoff).
	CondDelivered = "Delivered"
	// CondSynced says whether the committed workloads run on the cluster
	// the repository syncs to; Unknown when no such cluster is registered.
	CondSynced = "Synced"
)

// ComponentCommitted is the phase of a component part whose package is
// committed and not (yet) seen running.
const ComponentCommitted = "COMMITTED"

// GitOps is what deliveries through git need.
type GitOps interface {
	// Target describes the GitOps deployment manager dmID; ok is false
	// when dmID is not one.
	Target(ctx context.Context, dmID string) (t GitTarget, ok bool, err error)
	// Deliver makes dmID hold the deployment's package: committed to a
	// git repository (its Files), or rendered by Porch from its blueprint
	// (its Config and Setters).
	Deliver(ctx context.Context, dmID string, p Package) (Delivered, error)
	// Withdraw removes the deployment's package.
	Withdraw(ctx context.Context, dmID, deployment, message string) (changed bool, err error)
	// Workloads reads the state of workloads on a Kubernetes cluster.
	Workloads(ctx context.Context, clusterDM string, refs []cnf.ObjectRef) (cnf.WorkloadStatus, error)
}

// Kinds of GitOps deployment managers.
const (
	// GitRepository commits the package the server renders.
	GitRepository = "git"
	// PorchRepository has Porch render a blueprint with the deployment's
	// values (Nephio R5).
	PorchRepository = "porch"
)

// GitTarget is a GitOps deployment manager.
type GitTarget struct {
	// Kind is GitRepository or PorchRepository.
	Kind string
	// Repository is shown in deployments (no credentials).
	Repository, Branch string
	// ClusterDeploymentManagerID is the registered Kubernetes cluster the
	// repository's agent applies to, or "".
	ClusterDeploymentManagerID string
}

// Package is what a delivery writes.
type Package struct {
	// Deployment is the deployment's name; the package is o2ims-<name>.
	Deployment string
	// Files is the rendered package, for git repositories.
	Files map[string][]byte
	// Config is the data of the package's deployment-config ConfigMap and
	// Setters the values of its apply-setters function, for Porch.
	Config, Setters map[string]string
	// Message describes the change (the commit message).
	Message string
}

// Delivered is where a delivery left the package.
type Delivered struct {
	// Commit and Path: the commit holding the package and its directory.
	Commit, Path string
	// PackageRevision is the Porch package revision holding it, and
	// Detail its lifecycle as a sentence.
	PackageRevision, Detail string
	// Workloads are the workloads Porch rendered (for a git repository
	// they are known from the server's own render).
	Workloads []lcm.ResourceRef
	Changed   bool
}

// UseGitOps enables deliveries through git.
func (s *Service) UseGitOps(g GitOps) { s.gitops = g }

// packageName is the package directory of a deployment.
func packageName(d Deployment) string { return "o2ims-" + d.Name }

// gitRetry remembers when a failed or unobserved delivery is tried again.
type gitRetry struct {
	mu   sync.Mutex
	next map[string]time.Time
	wait map[string]time.Duration
}

const (
	gitRetryMin = 2 * time.Second
	gitRetryMax = 5 * time.Minute
	// gitVerify is how often a delivered package whose cluster is not
	// observed is checked to still be in the repository.
	gitVerify = time.Minute
)

func (g *gitRetry) due(id string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !now.Before(g.next[id])
}

func (g *gitRetry) failing(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.wait[id] > 0
}

func (g *gitRetry) failed(id string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := min(max(2*g.wait[id], gitRetryMin), gitRetryMax)
	if g.next == nil {
		g.next, g.wait = map[string]time.Time{}, map[string]time.Duration{}
	}
	g.wait[id], g.next[id] = w, now.Add(w)
	return w
}

func (g *gitRetry) succeeded(id string, now time.Time, again time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.next == nil {
		g.next, g.wait = map[string]time.Time{}, map[string]time.Duration{}
	}
	delete(g.wait, id)
	g.next[id] = now.Add(again)
}

func (g *gitRetry) forget(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.wait, id)
	delete(g.next, id)
}

// gitTarget resolves a spec's deploymentManagerId: a GitOps repository
// (ok), a Kubernetes cluster (restricting placement to its pools), or a
// 422.
func (s *Service) gitTarget(ctx context.Context, dmID string, kinds map[string]string) (GitTarget, bool, error) {
	if s.gitops != nil {
		t, ok, err := s.gitops.Target(ctx, dmID)
		if err != nil || ok {
			return t, ok, err
		}
	}
	switch kinds[dmID] {
	case kubernetesProvider:
		return GitTarget{}, false, nil
	case "":
		return GitTarget{}, false, ims.Errorf(ims.EUNPROCESSABLE, "deploymentManagerId: no deployment manager %q", dmID)
	}
	return GitTarget{}, false, ims.Errorf(ims.EUNPROCESSABLE, "deploymentManagerId: deployment manager %q neither runs CNFs nor is a GitOps repository or Porch", dmID)
}

// renderPackage renders the deployment's kpt package: a Kptfile, the
// deployment-config ConfigMap the package's functions read (local
// configuration, not applied), and per placed part a directory named
// after its namespace with the Namespace and the rendered objects, one
// file each. It returns the files, each part's workloads, and the
// deployment-config data. For Porch only the data is made: Porch renders
// its blueprint.
func (s *Service) renderPackage(ctx context.Context, d Deployment, pools map[string]poolFacts) (map[string][]byte, map[string][]lcm.ResourceRef, map[string]string, error) {
	var poolIDs []string
	for _, cs := range d.Status.Components {
		if !slices.Contains(poolIDs, cs.ResourcePoolID) {
			poolIDs = append(poolIDs, cs.ResourcePoolID)
		}
	}
	data := map[string]string{"deploymentId": d.DeploymentID, "deploymentName": d.Name, "resourcePools": strings.Join(poolIDs, ",")}
	if len(poolIDs) > 0 {
		first := pools[poolIDs[0]]
		data["resourcePoolId"], data["resourcePoolName"] = poolIDs[0], first.name
		data["provider"], data["region"] = first.provider, first.region
	}
	g := d.Status.GitOps
	data["deploymentManagerId"] = g.DeploymentManagerID
	if g.Kind == PorchRepository {
		return nil, map[string][]lcm.ResourceRef{}, data, nil
	}
	files := map[string][]byte{}
	workloads := map[string][]lcm.ResourceRef{}
	put := func(name string, obj map[string]any) error {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return ims.Internal(fmt.Errorf("encode %s: %w", name, err), "rendering the package failed")
		}
		files[name] = b
		return nil
	}
	desc := d.Description
	if desc == "" {
		desc = "O2 IMS deployment " + d.Name
	}
	err := put("Kptfile", map[string]any{
		"apiVersion": "kpt.dev/v1", "kind": "Kptfile",
		"metadata": map[string]any{"name": packageName(d), "annotations": map[string]any{
			"config.kubernetes.io/local-config": "true",
			"o2ims.nephoran.io/deployment-id":   d.DeploymentID,
			"o2ims.nephoran.io/deployment-name": d.Name,
		}},
		"info": map[string]any{"description": desc},
	})
	if err != nil {
		return nil, nil, nil, err
	}
	err = put("deployment-config.yaml", map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "deployment-config", "annotations": map[string]any{"config.kubernetes.io/local-config": "true"}},
		"data":     data,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	for _, cs := range d.Status.Components {
		spec := componentSpec(d, cs.Name)
		pkg, err := s.lcm.ResolvePackage(ctx, spec.VnfdID, spec.PackageID)
		if err != nil {
			return nil, nil, nil, err
		}
		objs, err := s.lcm.Render(ctx, lcm.RenderInput{
			PackageID: pkg.PackageID, FlavourID: spec.FlavourID, InstanceID: cs.CnfInstanceID, Namespace: cs.Namespace,
			ResourcePoolID: cs.ResourcePoolID, Replicas: cs.Replicas, Resources: spec.Resources, AdditionalParams: spec.AdditionalParams,
		})
		if err != nil {
			return nil, nil, nil, ims.Errorf(ims.ErrorCode(err), "component %s: %s", cs.Name, ims.ErrorMessage(err))
		}
		dir := cs.Namespace
		err = put(dir+"/namespace.yaml", map[string]any{
			"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": cs.Namespace, "labels": map[string]any{cnf.LabelInstance: cs.CnfInstanceID}},
		})
		if err != nil {
			return nil, nil, nil, err
		}
		for _, o := range objs {
			name := objectFile(dir, o, files)
			if err := put(name, o.Object); err != nil {
				return nil, nil, nil, err
			}
			if isWorkload(o.GetKind()) {
				workloads[cs.CnfInstanceID] = append(workloads[cs.CnfInstanceID], lcm.ResourceRef{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Name: o.GetName(), Namespace: cs.Namespace})
			}
		}
	}
	return files, workloads, data, nil
}

func isWorkload(kind string) bool { return kind == "Deployment" || kind == "StatefulSet" }

// porchSetters are the setter values a Porch blueprint gets: the pool's
// node label (resource-pool-id), the replicas, and the string values of
// the component's additionalParams (such as image).
func (s *Service) porchSetters(ctx context.Context, d Deployment, pools map[string]poolFacts) map[string]string {
	out := map[string]string{}
	if len(d.Status.Components) == 0 {
		return out
	}
	cs := d.Status.Components[0]
	for k, v := range componentSpec(d, cs.Name).AdditionalParams {
		switch t := v.(type) {
		case string:
			out[k] = t
		case float64, bool, int, int64:
			out[k] = fmt.Sprint(t)
		}
	}
	out["resource-pool-id"] = pools[cs.ResourcePoolID].label
	out["replicas"] = strconv.Itoa(cs.Replicas)
	return out
}

// objectFile names an object's file as kpt's sinks do, <kind>_<name>.yaml,
// numbered when two objects would share it.
func objectFile(dir string, o *unstructured.Unstructured, taken map[string][]byte) string {
	base := dir + "/" + strings.ToLower(o.GetKind()) + "_" + o.GetName()
	name := base + ".yaml"
	for i := 2; taken[name] != nil; i++ {
		name = fmt.Sprintf("%s_%d.yaml", base, i)
	}
	return name
}

// digest identifies a package's content.
func digest(p Package) string {
	h := sha256.New()
	for _, part := range []map[string][]byte{p.Files, bytesOf(p.Config), bytesOf(p.Setters)} {
		names := make([]string, 0, len(part))
		for n := range part {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(h, "%s\x00%d\x00", n, len(part[n]))
			h.Write(part[n])
		}
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func bytesOf(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

// poolFacts is what a package says of a pool.
type poolFacts struct{ name, label, provider, region string }

func (s *Service) poolFacts(ctx context.Context) (map[string]poolFacts, error) {
	pools, _, err := s.readPools(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]poolFacts, len(pools))
	for _, p := range pools {
		out[p.ID] = poolFacts{name: p.Name, label: p.Label, provider: p.Provider, region: p.Region}
	}
	return out, nil
}

// deliver commits the package of a deployment being deployed or scaled
// and, when the repository's cluster is registered, follows its
// workloads there to ACTIVE (or SCALED).
func (s *Service) deliver(ctx context.Context, d Deployment) error {
	now := s.now()
	g := d.Status.GitOps
	phases := []string{PhasePending, PhaseDeploying, PhaseScaling}
	pools, err := s.poolFacts(ctx)
	if err != nil {
		return err
	}
	files, workloads, config, err := s.renderPackage(ctx, d, pools)
	if err != nil {
		if clientMistake(err) {
			var failed *Deployment
			_, merr := s.mutateIn(ctx, d.DeploymentID, phases, func(tx *sqlstore.ObjectTx, cur *Deployment) error {
				failed = cur
				return s.markFailed(ctx, tx, cur, ims.ErrorMessage(err))
			})
			if merr == nil && failed != nil {
				s.raiseFailed(ctx, *failed)
			}
			return merr
		}
		return err
	}
	pkg := Package{Deployment: d.Name, Files: files, Config: config}
	if g.Kind == PorchRepository {
		pkg.Setters = s.porchSetters(ctx, d, pools)
		// Porch rendered the workloads; they are known from the last
		// delivery.
		for _, cs := range d.Status.Components {
			workloads[cs.CnfInstanceID] = cs.Workloads
		}
	}
	sum := digest(pkg)
	commit, revision, detail := g.Commit, d.Status.PackageRevision, ""
	delivered := commit != "" || revision != ""
	due := s.retry.due(d.DeploymentID, now)
	if s.retry.failing(d.DeploymentID) && !due {
		return nil // backing off
	}
	if sum != g.Digest || !delivered || due {
		verb := "Update"
		if !delivered {
			verb = "Create"
		}
		pkg.Message = fmt.Sprintf("%s deployment %s\n\nDeployment %s (resource version %d) placed by the O2 IMS.", verb, d.Name, d.DeploymentID, d.ResourceVersion)
		res, err := s.gitops.Deliver(ctx, g.DeploymentManagerID, pkg)
		if err != nil {
			wait := s.retry.failed(d.DeploymentID, now)
			s.logger.WarnContext(ctx, "delivering the deployment's package failed", "deployment", d.DeploymentID, "retry_in", wait, "err", err)
			_, merr := s.mutateIn(ctx, d.DeploymentID, phases, func(_ *sqlstore.ObjectTx, cur *Deployment) error {
				s.setCondition(cur, Condition{Type: CondDelivered, Status: "False", Reason: "DeliveryFailed", Message: truncate(fmt.Sprintf("delivering to %s failed (retrying in %s): %s", g.Repository, wait.Round(time.Second), gitMessage(err)), 2000)})
				if cur.Status.Phase == PhasePending {
					s.setPhase(cur, PhaseDeploying, "delivering the package")
				}
				return nil
			})
			return merr
		}
		s.retry.succeeded(d.DeploymentID, now, gitVerify)
		commit, revision, detail = res.Commit, res.PackageRevision, res.Detail
		if res.Changed || g.Commit != res.Commit || d.Status.PackageRevision != res.PackageRevision {
			s.logger.InfoContext(ctx, "deployment package delivered", "deployment", d.DeploymentID, "repository", g.Repository, "path", res.Path,
				"commit", res.Commit, "packageRevision", res.PackageRevision, "changed", res.Changed)
		}
		if res.Path != "" {
			g.Path = res.Path
		}
		if g.Kind == PorchRepository {
			for _, cs := range d.Status.Components {
				workloads[cs.CnfInstanceID] = res.Workloads
			}
		}
	}
	// The cluster's state, when it can be seen.
	synced, message := false, ""
	var observed map[string]cnf.WorkloadStatus
	if g.ClusterDeploymentManagerID != "" {
		observed = map[string]cnf.WorkloadStatus{}
		synced = true
		var waiting []string
		for _, cs := range d.Status.Components {
			st, err := s.gitops.Workloads(ctx, g.ClusterDeploymentManagerID, objectRefs(workloads[cs.CnfInstanceID]))
			if err != nil {
				return err
			}
			observed[cs.CnfInstanceID] = st
			if !running(st, cs.Replicas) {
				synced = false
				waiting = append(waiting, fmt.Sprintf("%s has %d of %d replicas ready", cs.Namespace, st.ReadyReplicas, cs.Replicas*max(1, len(st.Workloads))))
			}
		}
		message = strings.Join(waiting, "; ")
	}
	_, err = s.mutateIn(ctx, d.DeploymentID, phases, func(tx *sqlstore.ObjectTx, cur *Deployment) error {
		cg := cur.Status.GitOps
		if cg == nil {
			return errUnchanged
		}
		if cg.Commit != commit || cur.Status.PackageRevision != revision {
			cg.Commit, cg.CommittedAt = commit, s.timestamp()
		}
		cur.Status.PackageRevision = revision
		cg.Digest, cg.Path = sum, g.Path
		if cg.Kind == PorchRepository {
			if detail != "" || !conditionTrue(*cur, CondDelivered) {
				s.setCondition(cur, Condition{Type: CondDelivered, Status: "True", Reason: "PackageRevision", Message: fmt.Sprintf("package revision %s %s", revision, detail)})
			}
		} else {
			s.setCondition(cur, Condition{Type: CondDelivered, Status: "True", Reason: "Committed", Message: fmt.Sprintf("commit %s on branch %s of %s holds %s", short(commit), cg.Branch, cg.Repository, cg.Path)})
		}
		for i := range cur.Status.Components {
			c := &cur.Status.Components[i]
			c.Workloads = workloads[c.CnfInstanceID]
			c.Phase = ComponentCommitted
			if st, ok := observed[c.CnfInstanceID]; ok {
				c.ReadyReplicas = st.ReadyReplicas
				if running(st, c.Replicas) {
					c.Phase = lcm.Instantiated
				}
			}
		}
		scaling := cur.Status.Phase == PhaseScaling
		switch {
		case cg.ClusterDeploymentManagerID == "":
			s.setCondition(cur, Condition{Type: CondSynced, Status: "Unknown", Reason: "NoClusterRegistered", Message: "no registered cluster is known to apply this repository; the GitOps agent's progress is not observed"})
			s.setPhase(cur, PhaseDeploying, "committed; waiting for the GitOps agent, whose progress is not observed")
			// Nothing will tell when the workloads run: the held
			// capacity is released once the package is committed.
			return s.release(ctx, tx, cur)
		case synced:
			s.setCondition(cur, Condition{Type: CondSynced, Status: "True", Reason: "WorkloadsReady", Message: "the committed workloads run on the cluster"})
			if scaling {
				s.setPhase(cur, PhaseScaled, "scaled")
			} else {
				s.setPhase(cur, PhaseActive, "all components run")
			}
			return s.release(ctx, tx, cur)
		default:
			s.setCondition(cur, Condition{Type: CondSynced, Status: "False", Reason: "WaitingForWorkloads", Message: truncate(message, 2000)})
			if !scaling {
				s.setPhase(cur, PhaseDeploying, "committed; waiting for the cluster to run it")
			}
		}
		return nil
	})
	return err
}

// running tells whether every workload of a part runs its replicas.
func running(st cnf.WorkloadStatus, replicas int) bool {
	if len(st.Workloads) == 0 {
		return false
	}
	for _, w := range st.Workloads {
		if w.Replicas != replicas || w.ReadyReplicas < replicas {
			return false
		}
	}
	return true
}

// observeGit keeps a running GitOps deployment's status current from its
// cluster, like observe does for applied ones.
func (s *Service) observeGit(ctx context.Context, d Deployment) error {
	g := d.Status.GitOps
	if g.ClusterDeploymentManagerID == "" {
		return nil
	}
	var problems []string
	ready := map[string]int{}
	for _, cs := range d.Status.Components {
		st, err := s.gitops.Workloads(ctx, g.ClusterDeploymentManagerID, objectRefs(cs.Workloads))
		if err != nil {
			return err
		}
		ready[cs.CnfInstanceID] = st.ReadyReplicas
		if !running(st, cs.Replicas) {
			problems = append(problems, fmt.Sprintf("component %s in %s has %d of %d replicas ready", cs.Name, cs.Namespace, st.ReadyReplicas, cs.Replicas*max(1, len(st.Workloads))))
		}
		if p := s.poolProblem(ctx, cs.ResourcePoolID); p != "" {
			problems = append(problems, fmt.Sprintf("component %s: resource pool %s %s", cs.Name, poolLabel(cs), p))
		}
	}
	_, err := s.mutateIn(ctx, d.DeploymentID, []string{PhaseActive, PhaseScaled, PhaseDegraded}, func(_ *sqlstore.ObjectTx, cur *Deployment) error {
		for i := range cur.Status.Components {
			c := &cur.Status.Components[i]
			if n, ok := ready[c.CnfInstanceID]; ok {
				c.ReadyReplicas = n
			}
		}
		switch {
		case len(problems) > 0:
			s.setCondition(cur, Condition{Type: CondSynced, Status: "False", Reason: "WorkloadsNotReady", Message: truncate(strings.Join(problems, "; "), 2000)})
			s.setPhase(cur, PhaseDegraded, strings.Join(problems, "; "))
		case cur.Status.Phase == PhaseDegraded:
			s.setCondition(cur, Condition{Type: CondSynced, Status: "True", Reason: "WorkloadsReady", Message: "the committed workloads run on the cluster"})
			s.setPhase(cur, PhaseActive, "all components run")
		}
		return nil
	})
	return err
}

// withdraw removes the package of a deployment being deleted or rolled
// back; it reports whether it is gone from the repository.
func (s *Service) withdraw(ctx context.Context, d Deployment) (bool, error) {
	g := d.Status.GitOps
	now := s.now()
	if s.retry.failing(d.DeploymentID) && !s.retry.due(d.DeploymentID, now) {
		return false, nil // backing off
	}
	changed, err := s.gitops.Withdraw(ctx, g.DeploymentManagerID, d.Name, fmt.Sprintf("Delete deployment %s\n\nDeployment %s removed by the O2 IMS.", d.Name, d.DeploymentID))
	if err != nil {
		wait := s.retry.failed(d.DeploymentID, now)
		s.logger.WarnContext(ctx, "removing the deployment's package failed", "deployment", d.DeploymentID, "retry_in", wait, "err", err)
		_, merr := s.mutate(ctx, d.DeploymentID, "", func(_ *sqlstore.ObjectTx, cur *Deployment) error {
			s.setCondition(cur, Condition{Type: CondDelivered, Status: "False", Reason: "RemoveFailed", Message: truncate(fmt.Sprintf("removing the package from %s failed (retrying in %s): %s", g.Repository, wait.Round(time.Second), gitMessage(err)), 2000)})
			return nil
		})
		return false, merr
	}
	s.retry.forget(d.DeploymentID)
	if changed {
		s.logger.InfoContext(ctx, "deployment package removed", "deployment", d.DeploymentID, "repository", g.Repository)
	}
	return true, nil
}

// gitMessage is a git failure as a client may read it.
func gitMessage(err error) string {
	var e *ims.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

func objectRefs(refs []lcm.ResourceRef) []cnf.ObjectRef {
	out := make([]cnf.ObjectRef, 0, len(refs))
	for _, r := range refs {
		out = append(out, cnf.ObjectRef{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace})
	}
	return out
}

// deliveredBy applies a spec's deploymentManagerId to the pools placement
// sees: a GitOps repository delivers to any pool (to those of its cluster
// when that is registered), which it returns as the deployment's GitOps
// status; a Kubernetes cluster restricts placement to its own pools.
// Without one, it returns the clusters registered with delivery gitops,
// whose pools a deployment reaches through their repository.
func (s *Service) deliveredBy(ctx context.Context, dmID string, pools *[]placement.Pool) (*GitOpsStatus, map[string]GitTarget, error) {
	kinds := map[string]string{}
	var viaGit []string
	err := each(ctx, s.store, inventory.DeploymentManagerSchema, func(doc json.RawMessage) error {
		var dm ims.DeploymentManager
		if err := json.Unmarshal(doc, &dm); err != nil {
			return ims.Internal(fmt.Errorf("decode deployment manager: %w", err), "reading the inventory failed")
		}
		kind, _ := dm.Extensions["provider"].(string)
		kinds[dm.DeploymentManagerID] = kind
		if kind == kubernetesProvider && dm.Extensions["delivery"] == "gitops" {
			viaGit = append(viaGit, dm.DeploymentManagerID)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if dmID == "" {
		if s.gitops == nil || len(viaGit) == 0 {
			return nil, nil, nil
		}
		clusters := map[string]GitTarget{}
		for _, id := range viaGit {
			t, ok, err := s.gitops.Target(ctx, id)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				clusters[id] = t
			}
		}
		return nil, clusters, nil
	}
	t, ok, err := s.gitTarget(ctx, dmID, kinds)
	if err != nil {
		return nil, nil, err
	}
	keep := (*pools)[:0]
	for _, p := range *pools {
		switch {
		case !ok && p.DeploymentManagerID != dmID:
			continue
		case ok && t.ClusterDeploymentManagerID != "" && p.DeploymentManagerID != t.ClusterDeploymentManagerID:
			continue
		case ok:
			p.Deployable, p.DeploymentManagerID = true, dmID
		}
		keep = append(keep, p)
	}
	*pools = keep
	if !ok {
		return nil, nil, nil
	}
	return gitStatus(dmID, t), nil, nil
}

func gitStatus(dmID string, t GitTarget) *GitOpsStatus {
	return &GitOpsStatus{Kind: t.Kind, DeploymentManagerID: dmID, Repository: t.Repository, Branch: t.Branch, ClusterDeploymentManagerID: t.ClusterDeploymentManagerID}
}

// throughGit decides, once placed, whether a deployment goes through the
// repository of a cluster registered with delivery gitops: all its parts
// must then be on that one cluster.
func throughGit(d *Deployment, clusters map[string]GitTarget) error {
	if d.Status.GitOps != nil || len(clusters) == 0 {
		return nil
	}
	var dms []string
	for _, c := range d.Status.Components {
		if !slices.Contains(dms, c.DeploymentManagerID) {
			dms = append(dms, c.DeploymentManagerID)
		}
	}
	var git []string
	for _, id := range dms {
		if _, ok := clusters[id]; ok {
			git = append(git, id)
		}
	}
	switch {
	case len(git) == 0:
		return nil
	case len(dms) > 1:
		return ims.Errorf(ims.EUNPROCESSABLE, "no placement: the deployment spreads over clusters delivered differently (%d of %d through git); name one with deploymentManagerId, or narrow placement", len(git), len(dms))
	}
	d.Status.GitOps = gitStatus(git[0], clusters[git[0]])
	return nil
}
