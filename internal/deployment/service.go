package deployment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/placement"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Store is what deployments need from persistence.
type Store interface {
	collection.Store
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
	Update(ctx context.Context, fn func(tx *sqlstore.ObjectTx) error) error
	ExpireReservations(ctx context.Context, now time.Time) ([]string, error)
}

// LCM is the CNF lifecycle manager that realizes components.
type LCM interface {
	ResolvePackage(ctx context.Context, vnfdID, packageID string) (lcm.Package, error)
	CreateInstance(ctx context.Context, in lcm.InstanceInput) (lcm.Instance, error)
	GetInstance(ctx context.Context, id string) (lcm.Instance, error)
	DeleteInstance(ctx context.Context, id string) error
	Instantiate(ctx context.Context, id string, in lcm.InstantiateInput) (lcm.OpOcc, error)
	ScaleTo(ctx context.Context, id string, replicas int) (lcm.OpOcc, error)
	Terminate(ctx context.Context, id string, in lcm.TerminateInput) (lcm.OpOcc, error)
	GetOp(ctx context.Context, id string) (lcm.OpOcc, error)
	RefreshStatus(ctx context.Context, inst lcm.Instance) lcm.Instance
	Render(ctx context.Context, in lcm.RenderInput) ([]*unstructured.Unstructured, error)
}

// Alarms raises the alarm of a failed deployment.
type Alarms interface {
	Raise(ctx context.Context, c alarms.Condition) (*ims.AlarmEventRecord, error)
}

// Options tune deployments.
type Options struct {
	// ReservationTTL is how long held capacity waits for its workloads
	// to run before it expires (15m).
	ReservationTTL time.Duration
	// ReserveByDefault applies when a spec does not say reserveCapacity.
	ReserveByDefault bool
	// UtilizationThreshold refuses pools whose cpu or memory utilization
	// is above it (0: no threshold).
	UtilizationThreshold float64
	// ResyncInterval is how often the reconciler looks at every
	// deployment that is not at rest (5s).
	ResyncInterval time.Duration
}

// Service creates, reads, changes and deletes deployments; Run drives them.
type Service struct {
	store  Store
	lcm    LCM
	alarms Alarms
	opts   Options
	logger *slog.Logger
	now    func() time.Time
	wake   func()
	kick   chan struct{}
	// gitops, when set, delivers deployments through git repositories.
	gitops GitOps
	retry  gitRetry
}

// NewService returns the deployment service. wake (may be nil) is called
// after every committed change, to prompt notification delivery.
func NewService(store Store, l LCM, al Alarms, opts Options, logger *slog.Logger, wake func()) *Service {
	if opts.ReservationTTL <= 0 {
		opts.ReservationTTL = 15 * time.Minute
	}
	if opts.ResyncInterval <= 0 {
		opts.ResyncInterval = 5 * time.Second
	}
	if wake == nil {
		wake = func() {}
	}
	return &Service{store: store, lcm: l, alarms: al, opts: opts, logger: logger, now: time.Now, wake: wake, kick: make(chan struct{}, 1)}
}

func (s *Service) timestamp() string { return s.now().UTC().Format(query.TimeLayout) }

// changed prompts notification delivery and the reconciler.
func (s *Service) changed() {
	s.wake()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	instanceNS   = uuid.MustParse("6f1c8d4e-2b1a-5c7e-9d3f-4a5b6c7d8e9f")
	maxReplicas  = 1000
	maxSpread    = 16
	maxComponent = 32
)

// kubernetesProvider is the provider kind whose deployment managers run
// CNFs through the lifecycle manager.
const kubernetesProvider = "kubernetes"

// plan is a validated spec with what placement needs.
type plan struct {
	spec    Spec
	reserve bool
	request placement.Request
	pkgs    map[string]lcm.Package // by component name
}

func invalid(format string, args ...any) error { return ims.Errorf(ims.EINVALID, format, args...) }

// validate checks a spec and resolves its packages.
func (s *Service) validate(ctx context.Context, spec Spec) (plan, error) {
	p := plan{spec: spec, pkgs: map[string]lcm.Package{}}
	switch {
	case spec.Name == "":
		return p, invalid("name is required")
	case len(spec.Name) > 40 || !dnsLabel.MatchString(spec.Name):
		return p, invalid("name: %q must be a DNS label (lower-case letters, digits and '-') of at most 40 characters", truncate(spec.Name, 64))
	case len(spec.Description) > 1024:
		return p, invalid("description: at most 1024 characters")
	case len(spec.Components) == 0:
		return p, invalid("components: at least one component is required")
	case len(spec.Components) > maxComponent:
		return p, invalid("components: at most %d components", maxComponent)
	case len(spec.ResourcePools) > 64:
		return p, invalid("resourcePools: at most 64 pools")
	}
	if spec.DeploymentManagerID != "" {
		if _, err := uuid.Parse(spec.DeploymentManagerID); err != nil {
			return p, invalid("deploymentManagerId: not a deployment manager id")
		}
	}
	rules, err := placementRules(spec)
	if err != nil {
		return p, err
	}
	p.request.Rules = rules
	p.reserve = s.opts.ReserveByDefault
	if spec.ReserveCapacity != nil {
		p.reserve = *spec.ReserveCapacity
	}
	seen := map[string]bool{}
	for i := range spec.Components {
		c := &p.spec.Components[i]
		switch {
		case c.Name == "":
			return p, invalid("components[%d].name is required", i)
		case len(c.Name) > 15 || !dnsLabel.MatchString(c.Name):
			return p, invalid("components[%d].name: %q must be a DNS label of at most 15 characters", i, truncate(c.Name, 64))
		case seen[c.Name]:
			return p, invalid("components[%d].name: %q is used twice", i, c.Name)
		case c.VnfdID == "" && c.PackageID == "":
			return p, invalid("components[%d]: vnfdId or packageId is required", i)
		case c.Replicas < 0 || c.Replicas > maxReplicas:
			return p, invalid("components[%d].replicas: must be between 1 and %d", i, maxReplicas)
		case len(c.VnfdID) > 128 || len(c.PackageID) > 128 || len(c.FlavourID) > 128:
			return p, invalid("components[%d]: vnfdId, packageId and flavourId are at most 128 characters", i)
		}
		seen[c.Name] = true
		if c.Replicas == 0 {
			c.Replicas = 1
		}
		if c.Namespace != "" && (len(c.Namespace) > 59 || !dnsLabel.MatchString(c.Namespace)) {
			return p, invalid("components[%d].namespace: %q must be a DNS label of at most 59 characters", i, truncate(c.Namespace, 64))
		}
		pkg, err := s.lcm.ResolvePackage(ctx, c.VnfdID, c.PackageID)
		if err != nil {
			return p, ims.Errorf(ims.ErrorCode(err), "components[%d] (%s): %s", i, c.Name, ims.ErrorMessage(err))
		}
		if c.FlavourID == "" {
			if len(pkg.Flavours) != 1 {
				names := make([]string, 0, len(pkg.Flavours))
				for _, f := range pkg.Flavours {
					names = append(names, f.FlavourID)
				}
				return p, ims.Errorf(ims.EUNPROCESSABLE, "components[%d].flavourId: package %s has flavours %s; name one", i, pkg.PackageID, strings.Join(names, ", "))
			}
			c.FlavourID = pkg.Flavours[0].FlavourID
		}
		var fl *lcm.Flavour
		for k := range pkg.Flavours {
			if pkg.Flavours[k].FlavourID == c.FlavourID {
				fl = &pkg.Flavours[k]
			}
		}
		if fl == nil {
			return p, ims.Errorf(ims.EUNPROCESSABLE, "components[%d].flavourId: package %s has no flavour %q", i, pkg.PackageID, c.FlavourID)
		}
		res := c.Resources
		if res == nil {
			res = fl.Resources
		}
		var per placement.Resources
		if res != nil {
			if per, err = placement.ParseQuantities(res.CPU, res.Memory); err != nil {
				return p, invalid("components[%d].resources: %s", i, ims.ErrorMessage(err))
			}
		}
		// Every workload of the package runs the replica count with the
		// same container requests.
		workloads := int64(max(1, len(pkg.Workloads)))
		per = per.Times(workloads)
		per.Pods = workloads
		p.pkgs[c.Name] = pkg
		p.request.Components = append(p.request.Components, placement.Component{Name: c.Name, Replicas: c.Replicas, PerReplica: per})
	}
	p.request.UtilizationThreshold = s.opts.UtilizationThreshold
	return p, nil
}

// placementRules turns a spec's pools and placement rules into
// placement's.
func placementRules(spec Spec) (placement.Rules, error) {
	rules := spec.Placement
	if rules == nil {
		rules = &Rules{}
	}
	if rules.Spread < 0 || rules.Spread > maxSpread {
		return placement.Rules{}, invalid("placement.spread: must be between 0 and %d", maxSpread)
	}
	for _, l := range [][]string{rules.Providers, rules.Regions, rules.PreferProviders} {
		if len(l) > 64 {
			return placement.Rules{}, invalid("placement: at most 64 providers or regions")
		}
	}
	out := placement.Rules{PoolIDs: spec.ResourcePools, Providers: rules.Providers, Regions: rules.Regions, Spread: rules.Spread, PreferProviders: rules.PreferProviders}
	if rules.PoolSelector != "" {
		if len(rules.PoolSelector) > 1024 {
			return placement.Rules{}, invalid("placement.poolSelector: at most 1024 characters")
		}
		sel, err := labels.Parse(rules.PoolSelector)
		if err != nil {
			return placement.Rules{}, invalid("placement.poolSelector: not a valid label selector")
		}
		out.Selector = sel
	}
	if rules.MinCapacity != "" {
		need, err := placement.ParseResources(rules.MinCapacity)
		if err != nil {
			return placement.Rules{}, invalid("placement.minCapacity: %s", ims.ErrorMessage(err))
		}
		out.MinCapacity = need
	}
	for i, id := range spec.ResourcePools {
		if _, err := uuid.Parse(id); err != nil {
			return placement.Rules{}, invalid("resourcePools[%d]: not a resource pool id", i)
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// readPools reads every resource pool and deployment manager and turns
// them into what placement sees, without free capacity (which depends on
// reservations, read in the placing transaction).
func (s *Service) readPools(ctx context.Context) ([]placement.Pool, map[string]placement.Resources, error) {
	dms := map[string]ims.DeploymentManager{}
	err := each(ctx, s.store, inventory.DeploymentManagerSchema, func(doc json.RawMessage) error {
		var dm ims.DeploymentManager
		if err := json.Unmarshal(doc, &dm); err != nil {
			return ims.Internal(fmt.Errorf("decode deployment manager: %w", err), "reading the inventory failed")
		}
		dms[dm.DeploymentManagerID] = dm
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var pools []placement.Pool
	used := map[string]placement.Resources{}
	err = each(ctx, s.store, inventory.ResourcePoolSchema, func(doc json.RawMessage) error {
		var rp ims.ResourcePool
		if err := json.Unmarshal(doc, &rp); err != nil {
			return ims.Internal(fmt.Errorf("decode resource pool: %w", err), "reading the inventory failed")
		}
		pool, requested := toPool(rp, dms)
		pools = append(pools, pool)
		used[pool.ID] = requested
		return nil
	})
	return pools, used, err
}

// toPool maps a resource pool document to placement's view; Free is
// allocatable − requested here, reservations are subtracted later.
func toPool(rp ims.ResourcePool, dms map[string]ims.DeploymentManager) (placement.Pool, placement.Resources) {
	ext := rp.Extensions
	str := func(k string) string { v, _ := ext[k].(string); return v }
	p := placement.Pool{
		ID: rp.ResourcePoolID, Name: rp.Name, Provider: str("provider"), ProviderName: str("providerName"),
		Region: str("region"), Zone: str("zone"), DeploymentManagerID: str("deploymentManagerId"), Healthy: true,
	}
	if p.Provider == "" {
		p.Provider = "local"
	}
	if p.Label = str("poolLabel"); p.Label == "" {
		p.Label = rp.Name
	}
	if h, ok := ext["healthy"].(bool); ok {
		p.Healthy = h
	}
	if n, ok := ext["nodeCount"].(float64); ok {
		p.Nodes = int(n)
	}
	if l, ok := ext["labels"].(map[string]any); ok {
		p.Labels = map[string]string{}
		for k, v := range l {
			if sv, ok := v.(string); ok {
				p.Labels[k] = sv
			}
		}
	}
	if u, ok := ext["utilization"].(map[string]any); ok {
		for _, k := range []string{"cpu", "memory"} {
			if f, ok := u[k].(float64); ok && f > p.Utilization {
				p.Utilization = f
			}
		}
	}
	if dm, ok := dms[p.DeploymentManagerID]; ok && dm.Extensions["provider"] == kubernetesProvider {
		p.Deployable = true
	}
	var requested placement.Resources
	if c, ok := ext["capacity"].(map[string]any); ok {
		p.HasCapacity = true
		p.Allocatable, requested = inventory.PoolCapacity(c)
		p.Free = p.Allocatable.Sub(requested)
	}
	return p, requested
}

// each visits every object of a schema.
func each(ctx context.Context, st collection.Store, sc *query.Schema, fn func(json.RawMessage) error) error {
	return collection.Each(ctx, st, sc, query.Filter{}, fn)
}

func capacityOf(r placement.Resources) Capacity {
	return Capacity{CPUMillicores: r.CPUMillis, MemoryBytes: r.MemoryBytes, Pods: r.Pods}
}

func decisionsOf(ds []placement.Decision) []Decision {
	out := make([]Decision, 0, len(ds))
	for _, d := range ds {
		reasons := d.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		out = append(out, Decision{ResourcePoolID: d.PoolID, ResourcePoolName: d.PoolName, Eligible: d.Eligible, Chosen: d.Chosen, Score: d.Score, Reasons: reasons})
	}
	return out
}

// placeErr turns a placement failure into the API's 422.
func placeErr(err error) error {
	var nf *placement.NoFitError
	if errors.As(err, &nf) {
		return ims.Errorf(ims.EUNPROCESSABLE, "no placement: %s", nf.Error())
	}
	return ims.Errorf(ims.EINVALID, "%s", err.Error())
}

// Create validates and places a deployment and, unless it is a dry run,
// stores it PENDING with its reservations, in one transaction that no
// other placement can interleave with.
func (s *Service) Create(ctx context.Context, spec Spec) (Deployment, error) {
	p, err := s.validate(ctx, spec)
	if err != nil {
		return Deployment{}, err
	}
	pools, _, err := s.readPools(ctx)
	if err != nil {
		return Deployment{}, err
	}
	git, viaGit, err := s.deliveredBy(ctx, spec.DeploymentManagerID, &pools)
	if err != nil {
		return Deployment{}, err
	}
	now := s.now()
	ts := now.UTC().Format(query.TimeLayout)
	d := Deployment{Spec: p.spec, Status: Status{Phase: PhasePending, PhaseChangedAt: ts, Components: []ComponentStatus{}, Reservations: []Reservation{}, GitOps: git}}
	d.DryRun = false // the deployment, not the request: a dry run says so in its message
	d.ReserveCapacity = &p.reserve
	if !spec.DryRun {
		d.DeploymentID = uuid.NewString()
		d.ResourceVersion, d.CreatedAt, d.UpdatedAt = 1, ts, ts
	}
	err = s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		reserved, err := tx.LockPlacement(ctx, now)
		if err != nil {
			return err
		}
		if !spec.DryRun {
			n, err := tx.Count(ctx, "SELECT COUNT(*) FROM deployments WHERE name = ?", d.Name)
			if err != nil {
				return err
			}
			if n > 0 {
				return ims.Errorf(ims.ECONFLICT, "a deployment named %q exists already", d.Name)
			}
		}
		for i := range pools {
			pools[i].Free = pools[i].Free.Sub(reserved[pools[i].ID])
		}
		pl, err := placement.Place(p.request, pools)
		if err != nil {
			return placeErr(err)
		}
		s.applyPlan(&d, p, pl, pools)
		if err := throughGit(&d, viaGit); err != nil {
			return err
		}
		if g := d.Status.GitOps; g != nil && g.Kind == PorchRepository && len(d.Status.Components) != 1 {
			return ims.Errorf(ims.EUNPROCESSABLE, "deploymentManagerId: Porch delivers one component on one pool (its blueprint describes one workload); this deployment places %d parts", len(d.Status.Components))
		}
		if spec.DryRun {
			return nil
		}
		if p.reserve {
			var rs []sqlstore.Reservation
			for _, a := range pl.Assignments {
				rs = append(rs, sqlstore.Reservation{ID: uuid.NewString(), DeploymentID: d.DeploymentID, PoolID: a.PoolID, Requests: a.Requests, ExpiresAt: now.Add(s.opts.ReservationTTL), CreatedAt: now})
			}
			if err := tx.HoldReservations(ctx, rs); err != nil {
				return err
			}
			if err := syncReservations(ctx, tx, &d); err != nil {
				return err
			}
		}
		doc, err := json.Marshal(d)
		if err != nil {
			return ims.Internal(err, "storing failed")
		}
		return tx.Put(ctx, Schema, d.DeploymentID, doc)
	})
	if err != nil {
		return Deployment{}, err
	}
	if spec.DryRun {
		d.Status.Message = "dry run: nothing was created"
		if p.reserve {
			for _, a := range d.Status.Placement.Assignments {
				d.Status.Reservations = append(d.Status.Reservations, Reservation{ResourcePoolID: a.ResourcePoolID, Requests: a.Requests, State: "PLANNED"})
			}
		}
		return d, nil
	}
	s.changed()
	s.logger.InfoContext(ctx, "deployment accepted", "deployment", d.DeploymentID, "name", d.Name, "components", len(d.Components), "assignments", len(d.Status.Components))
	return d, nil
}

// applyPlan records a placement in the deployment's status.
func (s *Service) applyPlan(d *Deployment, p plan, pl placement.Plan, pools []placement.Pool) {
	names := map[string]string{}
	for _, pool := range pools {
		names[pool.ID] = pool.Name
	}
	shards := map[string]int{}
	for _, a := range pl.Assignments {
		shards[a.Component]++
	}
	ps := &PlacementStatus{Decisions: decisionsOf(pl.Decisions), Assignments: []Assignment{}}
	index := map[string]int{}
	d.Status.Components = d.Status.Components[:0]
	for _, a := range pl.Assignments {
		ps.Assignments = append(ps.Assignments, Assignment{Component: a.Component, ResourcePoolID: a.PoolID, ResourcePoolName: names[a.PoolID],
			DeploymentManagerID: a.DeploymentManagerID, Replicas: a.Replicas, Requests: capacityOf(a.Requests), Score: a.Score})
		index[a.Component]++
		var comp Component
		for _, c := range p.spec.Components {
			if c.Name == a.Component {
				comp = c
			}
		}
		ns := comp.Namespace
		if ns == "" {
			ns = d.Name + "-" + comp.Name
		}
		if shards[a.Component] > 1 {
			ns += "-" + strconv.Itoa(index[a.Component])
		}
		cs := ComponentStatus{Name: a.Component, ResourcePoolID: a.PoolID, ResourcePoolName: names[a.PoolID], DeploymentManagerID: a.DeploymentManagerID,
			Namespace: ns, Replicas: a.Replicas, Phase: lcm.NotInstantiated}
		if d.DeploymentID != "" {
			cs.CnfInstanceID = uuid.NewSHA1(instanceNS, []byte(d.DeploymentID+"/"+a.Component+"/"+strconv.Itoa(index[a.Component]))).String()
		}
		d.Status.Components = append(d.Status.Components, cs)
	}
	d.Status.Placement = ps
}

// syncReservations copies the deployment's reservation rows into its status.
func syncReservations(ctx context.Context, tx *sqlstore.ObjectTx, d *Deployment) error {
	rs, err := tx.Reservations(ctx, d.DeploymentID)
	if err != nil {
		return err
	}
	d.Status.Reservations = make([]Reservation, 0, len(rs))
	for _, r := range rs {
		d.Status.Reservations = append(d.Status.Reservations, Reservation{ResourcePoolID: r.PoolID, Requests: capacityOf(r.Requests), State: r.State, ExpiresAt: r.ExpiresAt.Format(query.TimeLayout)})
	}
	return nil
}

// List lists deployments; conds narrow the list further.
func (s *Service) List(ctx context.Context, req collection.Request, conds ...query.Cond) (collection.Page, error) {
	return collection.List(ctx, s.store, Schema, req, collection.Options{Conds: conds})
}

// All returns every deployment.
func (s *Service) All(ctx context.Context) ([]Deployment, error) {
	var out []Deployment
	err := each(ctx, s.store, Schema, func(doc json.RawMessage) error {
		d, err := decode(doc)
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// SetCondition records a condition of an integration (merged by type,
// its transition time kept while its status stays); nothing changes when
// it is already so.
func (s *Service) SetCondition(ctx context.Context, id string, c Condition) error {
	_, err := s.mutate(ctx, id, "", func(_ *sqlstore.ObjectTx, d *Deployment) error {
		s.setCondition(d, c)
		return nil
	})
	return err
}

// Get returns one deployment.
func (s *Service) Get(ctx context.Context, id string) (Deployment, error) {
	doc, err := s.store.Get(ctx, Schema, id)
	if err != nil {
		return Deployment{}, err
	}
	return decode(doc)
}

// load reads a deployment within a transaction.
func load(ctx context.Context, tx *sqlstore.ObjectTx, id string) (Deployment, error) {
	doc, err := tx.Get(ctx, Schema, id)
	if err != nil {
		return Deployment{}, err
	}
	return decode(doc)
}

func decode(doc json.RawMessage) (Deployment, error) {
	var d Deployment
	if err := json.Unmarshal(doc, &d); err != nil {
		return d, ims.Internal(fmt.Errorf("decode deployment: %w", err), "reading failed")
	}
	return d, nil
}

// errUnchanged makes mutate write nothing.
var errUnchanged = errors.New("unchanged")

// mutate changes a stored deployment in a transaction: fn edits it; a
// changed deployment gets the next resource version. ifMatch, when not
// empty, must be the current ETag.
func (s *Service) mutate(ctx context.Context, id, ifMatch string, fn func(tx *sqlstore.ObjectTx, d *Deployment) error) (Deployment, error) {
	var out Deployment
	changed := false
	err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error {
		d, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if ifMatch != "" && ifMatch != "*" && strings.TrimPrefix(ifMatch, "W/") != d.ETag() {
			return ims.Errorf(ims.EPRECONDITION, "If-Match %s does not match the current version %s", truncate(ifMatch, 64), d.ETag())
		}
		before, _ := json.Marshal(d)
		if err := fn(tx, &d); err != nil {
			if errors.Is(err, errUnchanged) {
				out = d
				return nil
			}
			return err
		}
		after, _ := json.Marshal(d)
		if string(before) == string(after) {
			out = d
			return nil
		}
		d.ResourceVersion++
		d.UpdatedAt = s.timestamp()
		b, err := json.Marshal(d)
		if err != nil {
			return ims.Internal(err, "storing failed")
		}
		out, changed = d, true
		return tx.Put(ctx, Schema, id, b)
	})
	if err == nil && changed {
		s.changed()
	}
	return out, err
}

// setPhase changes the phase and records when.
func (s *Service) setPhase(d *Deployment, phase, message string) {
	if d.Status.Phase != phase {
		d.Status.Phase = phase
		d.Status.PhaseChangedAt = s.timestamp()
	}
	d.Status.Message = message
}

// Update changes a deployment's description or its components' replicas;
// a change of replicas is checked against the pools' free capacity (held
// when the deployment reserves) and scales the CNF instances.
func (s *Service) Update(ctx context.Context, id string, patch Patch, ifMatch string) (Deployment, error) {
	if patch.Description != nil && len(*patch.Description) > 1024 {
		return Deployment{}, invalid("description: at most 1024 characters")
	}
	if len(patch.Components) > maxComponent {
		return Deployment{}, invalid("components: at most %d components", maxComponent)
	}
	seen := map[string]bool{}
	for i, c := range patch.Components {
		switch {
		case c.Name == "":
			return Deployment{}, invalid("components[%d].name is required", i)
		case seen[c.Name]:
			return Deployment{}, invalid("components[%d].name: %q is given twice", i, c.Name)
		case c.Replicas < 1 || c.Replicas > maxReplicas:
			return Deployment{}, invalid("components[%d].replicas: must be between 1 and %d", i, maxReplicas)
		}
		seen[c.Name] = true
	}
	var pools map[string]placement.Pool
	if len(patch.Components) > 0 {
		list, _, err := s.readPools(ctx)
		if err != nil {
			return Deployment{}, err
		}
		pools = map[string]placement.Pool{}
		for _, p := range list {
			pools[p.ID] = p
		}
	}
	return s.mutate(ctx, id, ifMatch, func(tx *sqlstore.ObjectTx, d *Deployment) error {
		if d.Status.Phase == PhaseDeleting {
			return ims.Errorf(ims.ECONFLICT, "deployment %q is being deleted", d.Name)
		}
		if patch.Description != nil {
			d.Description = *patch.Description
		}
		if len(patch.Components) == 0 {
			return nil
		}
		switch {
		case d.Status.Phase == PhaseActive, d.Status.Phase == PhaseScaled, d.Status.Phase == PhaseDegraded:
		case d.Status.Phase == PhaseDeploying && d.Status.GitOps != nil && d.Status.GitOps.Commit != "":
			// Delivered through git: a new commit changes it.
		default:
			return ims.Errorf(ims.ECONFLICT, "deployment %q is %s; its replicas can change when it is ACTIVE, SCALED or DEGRADED (or DEPLOYING once its package is committed)", d.Name, d.Status.Phase)
		}
		now := s.now()
		reserved, err := tx.LockPlacement(ctx, now)
		if err != nil {
			return err
		}
		return s.rescale(ctx, tx, d, patch.Components, pools, reserved, now)
	})
}

// rescale spreads new replica counts over each component's existing pools
// and checks (and, when reserving, holds) the extra capacity.
func (s *Service) rescale(ctx context.Context, tx *sqlstore.ObjectTx, d *Deployment, changes []ComponentPatch, pools map[string]placement.Pool, reserved map[string]placement.Resources, now time.Time) error {
	extra := map[string]placement.Resources{}
	scaling := false
	for _, ch := range changes {
		ci := -1
		for i, c := range d.Components {
			if c.Name == ch.Name {
				ci = i
			}
		}
		if ci < 0 {
			return ims.Errorf(ims.EUNPROCESSABLE, "components: deployment %q has no component %q", d.Name, ch.Name)
		}
		var shards []int
		for i, cs := range d.Status.Components {
			if cs.Name == ch.Name {
				shards = append(shards, i)
			}
		}
		if ch.Replicas < len(shards) {
			return ims.Errorf(ims.EUNPROCESSABLE, "components: %s is spread over %d pools, so it needs at least %d replicas", ch.Name, len(shards), len(shards))
		}
		old := d.Components[ci].Replicas
		if ch.Replicas == old {
			continue
		}
		per := perReplica(d, ch.Name)
		d.Components[ci].Replicas = ch.Replicas
		for k, idx := range shards {
			want := ch.Replicas / len(shards)
			if k < ch.Replicas%len(shards) {
				want++
			}
			cs := &d.Status.Components[idx]
			if want > cs.Replicas {
				extra[cs.ResourcePoolID] = extra[cs.ResourcePoolID].Add(per.Times(int64(want - cs.Replicas)))
			}
			cs.Replicas = want
		}
		scaling = true
	}
	if !scaling {
		return nil
	}
	for poolID, need := range extra {
		pool, ok := pools[poolID]
		if !ok {
			return ims.Errorf(ims.EUNPROCESSABLE, "resource pool %s of the deployment is no longer in the inventory", poolID)
		}
		free := pool.Free.Sub(reserved[poolID])
		if !free.Covers(need) {
			return ims.Errorf(ims.EUNPROCESSABLE, "resource pool %s cannot take the extra replicas: %s", pool.Name, free.Shortfall(need))
		}
	}
	if d.ReserveCapacity != nil && *d.ReserveCapacity {
		var rs []sqlstore.Reservation
		for poolID, need := range extra {
			rs = append(rs, sqlstore.Reservation{ID: uuid.NewString(), DeploymentID: d.DeploymentID, PoolID: poolID, Requests: need, ExpiresAt: now.Add(s.opts.ReservationTTL), CreatedAt: now})
		}
		if err := tx.HoldReservations(ctx, rs); err != nil {
			return err
		}
		if err := syncReservations(ctx, tx, d); err != nil {
			return err
		}
	}
	s.setPhase(d, PhaseScaling, "scaling")
	return nil
}

// perReplica is what one replica of a component requests, from the plan
// the deployment was accepted with.
func perReplica(d *Deployment, component string) placement.Resources {
	if d.Status.Placement == nil {
		return placement.Resources{}
	}
	for _, a := range d.Status.Placement.Assignments {
		if a.Component == component && a.Replicas > 0 {
			n := int64(a.Replicas)
			return placement.Resources{CPUMillis: a.Requests.CPUMillicores / n, MemoryBytes: a.Requests.MemoryBytes / n, Pods: a.Requests.Pods / n}
		}
	}
	return placement.Resources{}
}

// Delete starts deleting a deployment: DELETING, then gone once its CNF
// instances are terminated and deleted.
func (s *Service) Delete(ctx context.Context, id string) (Deployment, error) {
	d, err := s.mutate(ctx, id, "", func(_ *sqlstore.ObjectTx, d *Deployment) error {
		if d.Status.GitOps != nil {
			s.setPhase(d, PhaseDeleting, "removing the package from the repository")
		} else {
			s.setPhase(d, PhaseDeleting, "terminating the CNF instances")
		}
		return nil
	})
	if err == nil {
		s.logger.InfoContext(ctx, "deployment deleting", "deployment", id)
	}
	return d, err
}

// PutStatus records a status report of an external controller. The
// resourceVersion in the body (409) or ifMatch (412) must be current.
func (s *Service) PutStatus(ctx context.Context, id string, upd StatusUpdate, ifMatch string) (Deployment, error) {
	if upd.Phase != "" && !slices.Contains(Phases, upd.Phase) {
		return Deployment{}, invalid("phase: must be one of %s", strings.Join(Phases, ", "))
	}
	if upd.Phase == PhaseDeleting {
		return Deployment{}, ims.Errorf(ims.EUNPROCESSABLE, "phase: a deployment is deleted with DELETE, not by reporting DELETING")
	}
	if upd.Message != nil && len(*upd.Message) > 2048 {
		return Deployment{}, invalid("message: at most 2048 characters")
	}
	if upd.PackageRevision != nil && len(*upd.PackageRevision) > 256 {
		return Deployment{}, invalid("packageRevision: at most 256 characters")
	}
	if len(upd.Conditions) > 32 {
		return Deployment{}, invalid("conditions: at most 32")
	}
	for i, c := range upd.Conditions {
		switch {
		case c.Type == "" || len(c.Type) > 64:
			return Deployment{}, invalid("conditions[%d].type: required, at most 64 characters", i)
		case c.Status != "True" && c.Status != "False" && c.Status != "Unknown":
			return Deployment{}, invalid("conditions[%d].status: must be True, False or Unknown", i)
		case len(c.Reason) > 128 || len(c.Message) > 2048:
			return Deployment{}, invalid("conditions[%d]: reason at most 128 and message at most 2048 characters", i)
		}
	}
	return s.mutate(ctx, id, ifMatch, func(_ *sqlstore.ObjectTx, d *Deployment) error {
		if upd.ResourceVersion != nil && *upd.ResourceVersion != d.ResourceVersion {
			return ims.Errorf(ims.ECONFLICT, "resourceVersion %d is not the current version %d; read the deployment again", *upd.ResourceVersion, d.ResourceVersion)
		}
		if upd.Phase != "" {
			s.setPhase(d, upd.Phase, d.Status.Message)
		}
		if upd.Message != nil {
			d.Status.Message = *upd.Message
		}
		if upd.PackageRevision != nil {
			d.Status.PackageRevision = *upd.PackageRevision
		}
		for _, c := range upd.Conditions {
			s.setCondition(d, c)
		}
		return nil
	})
}

// setCondition merges a condition by type, keeping its transition time
// while its status stays.
func (s *Service) setCondition(d *Deployment, c Condition) {
	for i, old := range d.Status.Conditions {
		if old.Type == c.Type {
			if old.Status == c.Status && old.LastTransitionTime != "" {
				c.LastTransitionTime = old.LastTransitionTime
			} else if c.LastTransitionTime == "" {
				c.LastTransitionTime = s.timestamp()
			}
			d.Status.Conditions[i] = c
			return
		}
	}
	if c.LastTransitionTime == "" {
		c.LastTransitionTime = s.timestamp()
	}
	d.Status.Conditions = append(d.Status.Conditions, c)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
