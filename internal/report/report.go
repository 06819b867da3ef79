// Package report assembles the performance document of /o2ims/v1/metrics:
// per resource pool and per deployment, with the metadata knowledge
// indexers key on (provider, region, resource type, performance profile),
// and the health of the API and of notification delivery.
package report

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/deployment"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/query"
)

// ProfileLabel is the pool label naming its performance profile (for
// example "low-latency", "high-throughput"); pools without it are
// "standard".
const ProfileLabel = "nephoran.io/performance-profile"

// Pool is one resource pool's figures.
type Pool struct {
	ResourcePoolID     string             `json:"resourcePoolId"`
	Name               string             `json:"name"`
	Provider           string             `json:"provider"`
	ProviderName       string             `json:"providerName,omitempty"`
	Region             string             `json:"region,omitempty"`
	Zone               string             `json:"zone,omitempty"`
	ResourceType       string             `json:"resourceType,omitempty"`
	PerformanceProfile string             `json:"performanceProfile"`
	Healthy            bool               `json:"healthy"`
	NodeCount          int                `json:"nodeCount"`
	Resources          int                `json:"resources"`
	Utilization        map[string]float64 `json:"utilization"`
	Capacity           map[string]any     `json:"capacity,omitempty"`
	Deployments        int                `json:"deployments"`
}

// Deployment is one deployment's figures.
type Deployment struct {
	DeploymentID  string   `json:"deploymentId"`
	Name          string   `json:"name"`
	Phase         string   `json:"phase"`
	Replicas      int      `json:"replicas"`
	ReadyReplicas int      `json:"readyReplicas"`
	ResourcePools []string `json:"resourcePools"`
	Providers     []string `json:"providers"`
	Regions       []string `json:"regions"`
}

// API is the health of the API since the server started.
type API struct {
	Requests           float64 `json:"requests"`
	ServerErrors       float64 `json:"serverErrors"`
	MeanLatencySeconds float64 `json:"meanLatencySeconds"`
}

// Notifications is the health of notification delivery since start.
type Notifications struct {
	Delivered          float64 `json:"delivered"`
	FailedAttempts     float64 `json:"failedAttempts"`
	Expired            float64 `json:"expired"`
	MeanLatencySeconds float64 `json:"meanLatencySeconds"`
}

// Report is the document.
type Report struct {
	GeneratedAt   string        `json:"generatedAt"`
	ResourcePools []Pool        `json:"resourcePools"`
	Deployments   []Deployment  `json:"deployments"`
	API           API           `json:"api"`
	Notifications Notifications `json:"notifications"`
}

// Inventory reads the pools with their free capacity.
type Inventory interface {
	ListPools(ctx context.Context, v *inventory.Version, req collection.Request, minCapacity string, conds ...query.Cond) (collection.Page, error)
}

// Store reads resource and type counts.
type Store interface {
	collection.Store
	ResourceTypesByPool(ctx context.Context) (map[string]map[string]int, error)
}

// Deployments lists the deployments.
type Deployments interface {
	All(ctx context.Context) ([]deployment.Deployment, error)
}

// Builder builds reports.
type Builder struct {
	inv      Inventory
	store    Store
	deps     Deployments
	gatherer prometheus.Gatherer
	now      func() time.Time
}

// NewBuilder returns a builder; gatherer may be nil.
func NewBuilder(inv Inventory, store Store, deps Deployments, gatherer prometheus.Gatherer) *Builder {
	return &Builder{inv: inv, store: store, deps: deps, gatherer: gatherer, now: time.Now}
}

// Build reads everything and returns the document, in a stable order
// (pools and deployments by id) so that an unchanged system gives the
// same document but for generatedAt and the counters.
func (b *Builder) Build(ctx context.Context) (Report, error) {
	r := Report{GeneratedAt: b.now().UTC().Format(query.TimeLayout), ResourcePools: []Pool{}, Deployments: []Deployment{}}
	types := map[string]ims.ResourceType{}
	err := collection.Each(ctx, b.store, inventory.ResourceTypeSchema, query.Filter{}, func(doc json.RawMessage) error {
		var rt ims.ResourceType
		if json.Unmarshal(doc, &rt) == nil {
			types[rt.ResourceTypeID] = rt
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	counts, err := b.store.ResourceTypesByPool(ctx)
	if err != nil {
		return r, err
	}
	deps, err := b.deps.All(ctx)
	if err != nil {
		return r, err
	}
	depsOnPool := map[string]int{}
	poolInfo := map[string]Pool{}
	marker := ""
	for {
		page, err := b.inv.ListPools(ctx, inventory.V1, collection.Request{AllFields: true, Limit: ptr(collection.MaxLimit), Marker: marker}, "")
		if err != nil {
			return r, err
		}
		for _, obj := range page.Items {
			p := poolOf(obj, counts, types)
			poolInfo[p.ResourcePoolID] = p
			r.ResourcePools = append(r.ResourcePools, p)
		}
		if page.NextMarker == "" {
			break
		}
		marker = page.NextMarker
	}
	for _, d := range deps {
		rd := Deployment{DeploymentID: d.DeploymentID, Name: d.Name, Phase: d.Status.Phase, ResourcePools: []string{}, Providers: []string{}, Regions: []string{}}
		for _, cs := range d.Status.Components {
			rd.Replicas += cs.Replicas
			rd.ReadyReplicas += cs.ReadyReplicas
			if !slices.Contains(rd.ResourcePools, cs.ResourcePoolID) {
				rd.ResourcePools = append(rd.ResourcePools, cs.ResourcePoolID)
				depsOnPool[cs.ResourcePoolID]++
				p := poolInfo[cs.ResourcePoolID]
				if p.Provider != "" && !slices.Contains(rd.Providers, p.Provider) {
					rd.Providers = append(rd.Providers, p.Provider)
				}
				if p.Region != "" && !slices.Contains(rd.Regions, p.Region) {
					rd.Regions = append(rd.Regions, p.Region)
				}
			}
		}
		r.Deployments = append(r.Deployments, rd)
	}
	for i := range r.ResourcePools {
		r.ResourcePools[i].Deployments = depsOnPool[r.ResourcePools[i].ResourcePoolID]
	}
	sort.Slice(r.Deployments, func(i, j int) bool { return r.Deployments[i].DeploymentID < r.Deployments[j].DeploymentID })
	if b.gatherer != nil {
		if mfs, err := b.gatherer.Gather(); err == nil {
			r.API, r.Notifications = health(mfs)
		}
	}
	return r, nil
}

func ptr[T any](v T) *T { return &v }

// poolOf reads a pool object (as the API renders it, capacity decorated).
func poolOf(obj map[string]any, counts map[string]map[string]int, types map[string]ims.ResourceType) Pool {
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	ext, _ := obj["extensions"].(map[string]any)
	p := Pool{ResourcePoolID: str(obj, "resourcePoolId"), Name: str(obj, "name"), Provider: str(ext, "provider"), ProviderName: str(ext, "providerName"),
		Region: str(ext, "region"), Zone: str(ext, "zone"), PerformanceProfile: "standard", Healthy: true, Utilization: map[string]float64{}}
	if h, ok := ext["healthy"].(bool); ok {
		p.Healthy = h
	}
	if n, ok := ext["nodeCount"].(float64); ok {
		p.NodeCount = int(n)
	}
	if u, ok := ext["utilization"].(map[string]any); ok {
		for k, v := range u {
			if f, ok := v.(float64); ok {
				p.Utilization[k] = f
			}
		}
	}
	if c, ok := ext["capacity"].(map[string]any); ok {
		p.Capacity = c
	}
	if l, ok := ext["labels"].(map[string]any); ok {
		if prof, ok := l[ProfileLabel].(string); ok && prof != "" {
			p.PerformanceProfile = prof
		}
	}
	// The pool's resource type: the compute type most of its resources
	// have (a host, a node), else the most common type.
	best, bestN, bestCompute := "", 0, false
	for typ, n := range counts[p.ResourcePoolID] {
		p.Resources += n
		rt := types[typ]
		name := rt.Name
		if name == "" {
			name = typ
		}
		compute := rt.ResourceClass == ims.ResourceClassCompute
		better := compute && !bestCompute || compute == bestCompute && (n > bestN || n == bestN && strings.Compare(name, best) < 0)
		if best == "" || better {
			best, bestN, bestCompute = name, n, compute
		}
	}
	p.ResourceType = best
	return p
}

// health reads the API and delivery counters from the registry.
func health(mfs []*dto.MetricFamily) (API, Notifications) {
	var api API
	var n Notifications
	var apiSum, apiCount, dSum, dCount float64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "o2ims_api_requests_total":
				v := m.GetCounter().GetValue()
				api.Requests += v
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" && strings.HasPrefix(l.GetValue(), "5") {
						api.ServerErrors += v
					}
				}
			case "o2ims_api_request_duration_seconds":
				apiSum += m.GetHistogram().GetSampleSum()
				apiCount += float64(m.GetHistogram().GetSampleCount())
			case "o2ims_notifications_delivered_total":
				n.Delivered += m.GetCounter().GetValue()
			case "o2ims_notifications_failed_attempts_total":
				n.FailedAttempts += m.GetCounter().GetValue()
			case "o2ims_notifications_expired_total":
				n.Expired += m.GetCounter().GetValue()
			case "o2ims_notification_delivery_latency_seconds":
				dSum += m.GetHistogram().GetSampleSum()
				dCount += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	if apiCount > 0 {
		api.MeanLatencySeconds = round(apiSum / apiCount)
	}
	if dCount > 0 {
		n.MeanLatencySeconds = round(dSum / dCount)
	}
	return api, n
}

func round(f float64) float64 { return math.Round(f*1e6) / 1e6 }
