// Package advisor recommends deployments for network intents: it
// analyses the intent, maps its network functions to CNF packages through
// a catalog, has the placement engine place the plan on the live
// inventory (a dry run), prices it and stores the recommendation. The plan
// is a deployment spec that can be submitted as it is.
package advisor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/intent"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/query"
	"github.com/nephoran/o2ims/internal/sqlstore"
)

// Schema names the table the sqlstore migrations create for
// recommendations.
var Schema = &query.Schema{
	Name: "recommendations", Object: "recommendation", DocColumn: "doc",
	Attrs: []query.Attr{
		{Name: "recommendationId", Type: query.String, Column: "id"},
		{Name: "intent", Type: query.String},
		{Name: "createdAt", Type: query.Time},
		{Name: "source", Type: query.String},
		{Name: "requirements", Type: query.Object, Complex: true},
		{Name: "plan", Type: query.Object, Complex: true},
		{Name: "placement", Type: query.Object, Complex: true, ExcludedByDefault: true},
		{Name: "estimatedCost", Type: query.Object, Complex: true},
		{Name: "timeline", Type: query.Object, Complex: true},
		{Name: "confidence", Type: query.Number},
		{Name: "reasons", Type: query.String, List: true, Complex: true},
		{Name: "modelAnswer", Type: query.String},
		{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true},
	},
}

// Price is what one CPU core and one GiB of memory cost an hour on a kind
// of provider.
type Price struct {
	Currency      string  `json:"currency"`
	CPUCoreHour   float64 `json:"cpuCoreHour"`
	MemoryGiBHour float64 `json:"memoryGiBHour"`
}

// Prices are by provider kind (kubernetes, local, aws, azure, edge).
type Prices map[string]Price

// DefaultPrices are list-price-like figures in USD; operators set their
// own with a price table.
func DefaultPrices() Prices {
	return Prices{
		"kubernetes": {Currency: "USD", CPUCoreHour: 0.031, MemoryGiBHour: 0.0042},
		"local":      {Currency: "USD", CPUCoreHour: 0.02, MemoryGiBHour: 0.0027},
		"edge":       {Currency: "USD", CPUCoreHour: 0.045, MemoryGiBHour: 0.006},
		"aws":        {Currency: "USD", CPUCoreHour: 0.0425, MemoryGiBHour: 0.0057},
		"azure":      {Currency: "USD", CPUCoreHour: 0.0416, MemoryGiBHour: 0.0056},
	}
}

// LoadPrices reads a YAML or JSON price table keyed by provider kind over
// the defaults.
func LoadPrices(path string) (Prices, error) {
	p := DefaultPrices()
	if path == "" {
		return p, nil
	}
	var file Prices
	if err := readYAML(path, &file); err != nil {
		return nil, err
	}
	for k, v := range file {
		if v.CPUCoreHour < 0 || v.MemoryGiBHour < 0 {
			return nil, fmt.Errorf("price table %s: %s has a negative price", path, k)
		}
		if v.Currency == "" {
			v.Currency = "USD"
		}
		p[k] = v
	}
	return p, nil
}

func readYAML(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// hoursPerMonth prices a month of running.
const hoursPerMonth = 730

// Constraints narrow what the advisor may recommend.
type Constraints struct {
	Providers      []string `json:"providers,omitempty"`
	PoolSelector   string   `json:"poolSelector,omitempty"`
	MinCapacity    string   `json:"minCapacity,omitempty"`
	MaxMonthlyCost *float64 `json:"maxMonthlyCost,omitempty"`
}

// Request asks for a recommendation.
type Request struct {
	Intent           string      `json:"intent"`
	IntentType       string      `json:"intentType,omitempty"`
	TargetComponents []string    `json:"targetComponents,omitempty"`
	Region           string      `json:"region,omitempty"`
	NetworkSlice     string      `json:"networkSlice,omitempty"`
	Replicas         int         `json:"replicas,omitempty"`
	Constraints      Constraints `json:"constraints,omitzero"`
}

// Requirements are the intent's analysis as the API renders it.
type Requirements struct {
	IntentType       string            `json:"intentType"`
	Functions        []intent.Function `json:"functions"`
	HighAvailability bool              `json:"highAvailability"`
	Spread           int               `json:"spread,omitempty"`
	Region           string            `json:"region,omitempty"`
	CPU              string            `json:"cpu,omitempty"`
	Memory           string            `json:"memory,omitempty"`
	Latency          string            `json:"latency,omitempty"`
	Bandwidth        string            `json:"bandwidth,omitempty"`
	NetworkSlice     string            `json:"networkSlice,omitempty"`
	Reasons          []string          `json:"reasons"`
}

// PoolCost is the monthly cost of what a plan runs on one pool.
type PoolCost struct {
	ResourcePoolID   string  `json:"resourcePoolId"`
	ResourcePoolName string  `json:"resourcePoolName,omitempty"`
	Provider         string  `json:"provider"`
	Monthly          float64 `json:"monthly"`
}

// Cost is a plan's estimated cost.
type Cost struct {
	Currency string     `json:"currency"`
	Monthly  float64    `json:"monthly"`
	PerPool  []PoolCost `json:"perPool"`
}

// Timeline estimates how long realising the plan takes.
type Timeline struct {
	EstimatedMinutes int      `json:"estimatedMinutes"`
	Steps            []string `json:"steps"`
}

// Recommendation is a stored recommendation.
type Recommendation struct {
	RecommendationID string                      `json:"recommendationId"`
	Intent           string                      `json:"intent"`
	CreatedAt        string                      `json:"createdAt"`
	Source           string                      `json:"source"`
	Requirements     Requirements                `json:"requirements"`
	Plan             deployment.Spec             `json:"plan"`
	Placement        *deployment.PlacementStatus `json:"placement,omitempty"`
	EstimatedCost    Cost                        `json:"estimatedCost"`
	Timeline         Timeline                    `json:"timeline"`
	Confidence       float64                     `json:"confidence"`
	Reasons          []string                    `json:"reasons"`
	ModelAnswer      string                      `json:"modelAnswer,omitempty"`
}

// Planner places a deployment spec without creating anything (a dry run
// of the deployment service).
type Planner interface {
	Create(ctx context.Context, spec deployment.Spec) (deployment.Deployment, error)
}

// Store is what the advisor needs from persistence.
type Store interface {
	collection.Store
	Get(ctx context.Context, sc *query.Schema, id string) (json.RawMessage, error)
	Update(ctx context.Context, fn func(tx *sqlstore.ObjectTx) error) error
}

// Service recommends deployments.
type Service struct {
	store   Store
	planner Planner
	catalog intent.Catalog
	prices  Prices
	logger  *slog.Logger
	now     func() time.Time
	model   *Model // nil: the rule-based planner only
}

// UseModel makes the advisor ask m for plans first.
func (s *Service) UseModel(m *Model) { s.model = m }

// askModel asks the model and validates its plan: known functions and
// pools, then a dry run of the placement engine.
func (s *Service) askModel(ctx context.Context, text string, reqs intent.Requirements, base func(intent.Requirements) (deployment.Spec, error)) (deployment.Spec, deployment.Deployment, float64, []string, string, error) {
	pools, known, err := s.poolContexts(ctx)
	if err != nil {
		return deployment.Spec{}, deployment.Deployment{}, 0, nil, "", err
	}
	answer, err := s.model.ask(ctx, text, reqs, pools, s.prices)
	if err != nil {
		return deployment.Spec{}, deployment.Deployment{}, 0, nil, "", err
	}
	spec, conf, why, err := s.modelSpec(answer, reqs, known, base)
	if err != nil {
		return deployment.Spec{}, deployment.Deployment{}, 0, nil, answer, err
	}
	dry := spec
	dry.DryRun = true
	placed, err := s.planner.Create(ctx, dry)
	if err != nil {
		return deployment.Spec{}, deployment.Deployment{}, 0, nil, answer, fmt.Errorf("the placement engine refused it: %s", ims.ErrorMessage(err))
	}
	return spec, placed, conf, why, answer, nil
}

// poolContexts describes every resource pool for the model.
func (s *Service) poolContexts(ctx context.Context) ([]poolContext, map[string]bool, error) {
	var out []poolContext
	known := map[string]bool{}
	err := collection.Each(ctx, s.store, inventory.ResourcePoolSchema, query.Filter{}, func(doc json.RawMessage) error {
		var rp ims.ResourcePool
		if json.Unmarshal(doc, &rp) != nil {
			return nil
		}
		known[rp.ResourcePoolID] = true
		pc := poolContext{ID: rp.ResourcePoolID, Name: rp.Name, Healthy: true}
		pc.Provider, _ = rp.Extensions["provider"].(string)
		pc.Region, _ = rp.Extensions["region"].(string)
		if h, ok := rp.Extensions["healthy"].(bool); ok {
			pc.Healthy = h
		}
		if c, ok := rp.Extensions["capacity"].(map[string]any); ok {
			alloc, requested := inventory.PoolCapacity(c)
			free := alloc.Sub(requested)
			pc.Free = deployment.Capacity{CPUMillicores: free.CPUMillis, MemoryBytes: free.MemoryBytes, Pods: free.Pods}
		}
		if u, ok := rp.Extensions["utilization"].(map[string]any); ok {
			for _, k := range []string{"cpu", "memory"} {
				if f, ok := u[k].(float64); ok && f > pc.Utilization {
					pc.Utilization = f
				}
			}
		}
		if l, ok := rp.Extensions["labels"].(map[string]any); ok {
			pc.Labels = map[string]string{}
			for k, v := range l {
				if sv, ok := v.(string); ok {
					pc.Labels[k] = sv
				}
			}
		}
		out = append(out, pc)
		return nil
	})
	return out, known, err
}

// NewService returns the advisor; nil catalog or prices take the
// defaults.
func NewService(store Store, planner Planner, catalog intent.Catalog, prices Prices, logger *slog.Logger) *Service {
	if catalog == nil {
		catalog = intent.DefaultCatalog()
	}
	if prices == nil {
		prices = DefaultPrices()
	}
	return &Service{store: store, planner: planner, catalog: catalog, prices: prices, logger: logger, now: time.Now}
}

// Recommend analyses the intent, places the plan and stores the
// recommendation.
func (s *Service) Recommend(ctx context.Context, req Request) (Recommendation, error) {
	if strings.TrimSpace(req.Intent) == "" {
		return Recommendation{}, ims.Errorf(ims.EINVALID, "intent is required")
	}
	reqs, err := intent.Parse(intent.Input{Text: req.Intent, IntentType: req.IntentType, TargetComponents: req.TargetComponents,
		Region: req.Region, NetworkSlice: req.NetworkSlice, Replicas: req.Replicas})
	if err != nil {
		return Recommendation{}, err
	}
	if c := req.Constraints.MaxMonthlyCost; c != nil && (*c < 0 || math.IsNaN(*c)) {
		return Recommendation{}, ims.Errorf(ims.EINVALID, "constraints.maxMonthlyCost: must not be negative")
	}
	rec := Recommendation{
		RecommendationID: uuid.NewString(), Intent: req.Intent, CreatedAt: s.now().UTC().Format(query.TimeLayout), Source: "rules",
		Requirements: Requirements{IntentType: reqs.IntentType, Functions: reqs.Functions, HighAvailability: reqs.HighAvailability, Spread: reqs.Spread,
			Region: reqs.Region, CPU: reqs.CPU, Memory: reqs.Memory, Latency: reqs.Latency, Bandwidth: reqs.Bandwidth, NetworkSlice: reqs.NetworkSlice, Reasons: reqs.Reasons},
	}
	base := func(r intent.Requirements) (deployment.Spec, error) {
		return s.plan(rec.RecommendationID, req.Intent, r, req.Constraints)
	}
	spec, err := base(reqs)
	if err != nil {
		return Recommendation{}, err
	}
	var modelReasons []string
	modelConf := 0.0
	var placed deployment.Deployment
	placedByModel := false
	if s.model != nil {
		// The model's plan, when it passes the placement engine, wins;
		// on any failure the rule-based plan stands, and the reasons say
		// why.
		mspec, mplaced, conf, why, answer, err := s.askModel(ctx, req.Intent, reqs, base)
		rec.ModelAnswer = answer
		if err != nil {
			modelReasons = append(modelReasons, "the model's plan was not used ("+err.Error()+"); this is the rule-based plan")
			s.logger.WarnContext(ctx, "model plan rejected", "err", err)
		} else {
			spec, placed, modelConf, modelReasons, placedByModel = mspec, mplaced, conf, why, true
			rec.Source = "model"
		}
	}
	if !placedByModel {
		dry := spec
		dry.DryRun = true
		if placed, err = s.planner.Create(ctx, dry); err != nil {
			return Recommendation{}, err
		}
	}
	rec.Plan = spec
	rec.Placement = placed.Status.Placement
	rec.EstimatedCost = s.cost(ctx, placed.Status.Placement)
	if c := req.Constraints.MaxMonthlyCost; c != nil && rec.EstimatedCost.Monthly > *c {
		return Recommendation{}, ims.Errorf(ims.EUNPROCESSABLE, "the plan's estimated monthly cost %.2f %s exceeds constraints.maxMonthlyCost %.2f",
			rec.EstimatedCost.Monthly, rec.EstimatedCost.Currency, *c)
	}
	parts := 0
	if placed.Status.Placement != nil {
		parts = len(placed.Status.Placement.Assignments)
	}
	rec.Timeline = Timeline{EstimatedMinutes: 2 + parts, Steps: []string{
		"place the components and hold their capacity",
		fmt.Sprintf("instantiate %d CNF instance(s) on their pools", parts),
		"wait for every replica to be ready (ACTIVE)",
	}}
	rec.Confidence, rec.Reasons = confidence(req, reqs, placed)
	if rec.Source == "model" {
		rec.Confidence = round2(math.Min(modelConf, 0.95))
		rec.Reasons = append(modelReasons, "the placement engine validated the model's plan")
	} else {
		rec.Reasons = append(rec.Reasons, modelReasons...)
	}
	doc, err := json.Marshal(rec)
	if err != nil {
		return Recommendation{}, ims.Internal(err, "storing failed")
	}
	if err := s.store.Update(ctx, func(tx *sqlstore.ObjectTx) error { return tx.Put(ctx, Schema, rec.RecommendationID, doc) }); err != nil {
		return Recommendation{}, err
	}
	s.logger.InfoContext(ctx, "recommendation made", "recommendation", rec.RecommendationID, "functions", len(reqs.Functions), "monthly", rec.EstimatedCost.Monthly)
	return rec, nil
}

// plan builds the deployment spec of the requirements.
func (s *Service) plan(recID, text string, reqs intent.Requirements, c Constraints) (deployment.Spec, error) {
	var names []string
	spec := deployment.Spec{Placement: &deployment.Rules{Providers: c.Providers, PoolSelector: c.PoolSelector, MinCapacity: c.MinCapacity, Spread: reqs.Spread}}
	comps, err := s.catalog.Components(reqs)
	if err != nil {
		return spec, err
	}
	for _, c := range comps {
		comp := deployment.Component{Name: c.Name, VnfdID: c.VnfdID, PackageID: c.PackageID, FlavourID: c.FlavourID, Replicas: c.Replicas}
		if c.Resources != nil {
			comp.Resources = &lcm.Resources{CPU: c.Resources.CPU, Memory: c.Resources.Memory}
		}
		spec.Components = append(spec.Components, comp)
		names = append(names, comp.Name)
	}
	if reqs.Region != "" {
		spec.Placement.Regions = []string{reqs.Region}
	}
	nr := map[string]any{}
	for k, v := range map[string]string{"latency": reqs.Latency, "bandwidth": reqs.Bandwidth, "sliceId": reqs.NetworkSlice} {
		if v != "" {
			nr[k] = v
		}
	}
	if len(nr) > 0 {
		spec.NetworkRequirements = nr
	}
	// A name that says what runs where, unique per recommendation.
	base := strings.Join(names, "-")
	if reqs.Region != "" {
		base += "-" + reqs.Region
	}
	sum := sha256.Sum256([]byte(recID))
	suffix := hex.EncodeToString(sum[:3])
	if len(base) > 40-len(suffix)-1 {
		base = strings.TrimRight(base[:40-len(suffix)-1], "-")
	}
	spec.Name = base + "-" + suffix
	spec.Description = truncate("Recommended for the intent: "+text, 1024)
	return spec, nil
}

// cost prices each assignment by its pool's provider kind.
func (s *Service) cost(ctx context.Context, p *deployment.PlacementStatus) Cost {
	c := Cost{Currency: "USD", PerPool: []PoolCost{}}
	if p == nil {
		return c
	}
	byPool := map[string]*PoolCost{}
	var order []string
	for _, a := range p.Assignments {
		pc := byPool[a.ResourcePoolID]
		if pc == nil {
			pc = &PoolCost{ResourcePoolID: a.ResourcePoolID, ResourcePoolName: a.ResourcePoolName, Provider: s.providerOf(ctx, a.ResourcePoolID)}
			byPool[a.ResourcePoolID] = pc
			order = append(order, a.ResourcePoolID)
		}
		price, ok := s.prices[pc.Provider]
		if !ok {
			price = s.prices["kubernetes"]
		}
		c.Currency = price.Currency
		cores := float64(a.Requests.CPUMillicores) / 1000
		gib := float64(a.Requests.MemoryBytes) / float64(1<<30)
		pc.Monthly += (cores*price.CPUCoreHour + gib*price.MemoryGiBHour) * hoursPerMonth
	}
	for _, id := range order {
		pc := byPool[id]
		pc.Monthly = round2(pc.Monthly)
		c.Monthly += pc.Monthly
		c.PerPool = append(c.PerPool, *pc)
	}
	c.Monthly = round2(c.Monthly)
	return c
}

func (s *Service) providerOf(ctx context.Context, poolID string) string {
	doc, err := s.store.Get(ctx, inventory.ResourcePoolSchema, poolID)
	if err != nil {
		return ""
	}
	var rp ims.ResourcePool
	if json.Unmarshal(doc, &rp) != nil {
		return ""
	}
	p, _ := rp.Extensions["provider"].(string)
	return p
}

// confidence rates a rule-based plan: what came from structured fields
// is certain, what was read from free text less so.
func confidence(req Request, reqs intent.Requirements, placed deployment.Deployment) (float64, []string) {
	conf := 0.7
	reasons := []string{"the placement engine placed every component on eligible pools"}
	if len(req.TargetComponents) > 0 {
		conf += 0.15
		reasons = append(reasons, "the network functions were given explicitly")
	} else {
		reasons = append(reasons, "the network functions were read from the intent text")
	}
	if reqs.Region != "" {
		conf += 0.05
		reasons = append(reasons, "the pools are in the region "+reqs.Region)
	}
	if reqs.HighAvailability {
		conf += 0.05
		reasons = append(reasons, "high availability: each function's replicas are on distinct pools")
	}
	if placed.Status.Placement != nil {
		for _, a := range placed.Status.Placement.Assignments {
			if a.Score < 0.3 {
				conf -= 0.1
				reasons = append(reasons, fmt.Sprintf("pool %s is nearly full after the plan (score %.2f)", a.ResourcePoolName, a.Score))
				break
			}
		}
	}
	return round2(math.Min(conf, 0.95)), reasons
}

// List lists recommendations.
func (s *Service) List(ctx context.Context, req collection.Request) (collection.Page, error) {
	return collection.List(ctx, s.store, Schema, req, collection.Options{})
}

// Get returns one recommendation.
func (s *Service) Get(ctx context.Context, id string) (Recommendation, error) {
	doc, err := s.store.Get(ctx, Schema, id)
	if err != nil {
		return Recommendation{}, err
	}
	var r Recommendation
	if err := json.Unmarshal(doc, &r); err != nil {
		return r, ims.Internal(fmt.Errorf("decode recommendation: %w", err), "reading failed")
	}
	return r, nil
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
