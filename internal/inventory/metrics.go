package inventory

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// Collector exports provider health and resource pool utilization, the
// gauges the integration guide's dashboards use. It reads current state at
// scrape time.
type Collector struct {
	syncer *Syncer
	store  collection.Store
}

// NewCollector returns the inventory gauges.
func NewCollector(syncer *Syncer, store collection.Store) *Collector {
	return &Collector{syncer: syncer, store: store}
}

var (
	providerHealthDesc = prometheus.NewDesc("o2ims_provider_health",
		"1 when the provider's last discovery succeeded, 0 otherwise.", []string{"provider"}, nil)
	providerDurationDesc = prometheus.NewDesc("o2ims_provider_discovery_duration_seconds",
		"How long the provider's last discovery, with storing its inventory, took.", []string{"provider"}, nil)
	providerErrorsDesc = prometheus.NewDesc("o2ims_provider_discovery_errors_total",
		"Failed discoveries of the provider since the server started.", []string{"provider"}, nil)
	providerSuccessDesc = prometheus.NewDesc("o2ims_provider_last_success_timestamp_seconds",
		"When the provider's last successful discovery started (Unix time).", []string{"provider"}, nil)
	providerObjectsDesc = prometheus.NewDesc("o2ims_provider_objects",
		"Objects of the provider's last successful discovery, by kind.", []string{"provider", "kind"}, nil)
	poolUtilizationDesc = prometheus.NewDesc("o2ims_resource_pool_utilization",
		"Requested over allocatable capacity of a resource pool, by resource (cpu, memory).", []string{"pool_id", "resource"}, nil)
	poolCapacityDesc = prometheus.NewDesc("o2ims_resource_pool_capacity",
		"A resource pool's capacity (cpu in millicores, memory in bytes, pods), allocatable or requested.", []string{"pool_id", "resource", "state"}, nil)
	resourcesDesc = prometheus.NewDesc("o2ims_resources",
		"Resources of the inventory by pool and resource type.", []string{"pool_id", "resource_type_id"}, nil)
)

// ProviderMetrics and ResourceMetrics are the metric families of the
// /o2ims/v1/providers/metrics and /o2ims/v1/resources/metrics scrape
// paths.
var (
	ProviderMetrics = []string{"o2ims_provider_health", "o2ims_provider_discovery_duration_seconds",
		"o2ims_provider_discovery_errors_total", "o2ims_provider_last_success_timestamp_seconds", "o2ims_provider_objects"}
	ResourceMetrics = []string{"o2ims_resource_pool_utilization", "o2ims_resource_pool_capacity", "o2ims_resources"}
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{providerHealthDesc, providerDurationDesc, providerErrorsDesc, providerSuccessDesc,
		providerObjectsDesc, poolUtilizationDesc, poolCapacityDesc, resourcesDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.syncer.Status() {
		v := 0.0
		if st.Healthy {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(providerHealthDesc, prometheus.GaugeValue, v, st.Name)
		ch <- prometheus.MustNewConstMetric(providerDurationDesc, prometheus.GaugeValue, st.LastDuration.Seconds(), st.Name)
		ch <- prometheus.MustNewConstMetric(providerErrorsDesc, prometheus.CounterValue, float64(st.Failures), st.Name)
		if !st.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(providerSuccessDesc, prometheus.GaugeValue, float64(st.LastSuccess.UnixNano())/1e9, st.Name)
		}
		for kind, n := range st.Objects {
			ch <- prometheus.MustNewConstMetric(providerObjectsDesc, prometheus.GaugeValue, float64(n), st.Name, kind)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = collection.Each(ctx, c.store, ResourcePoolSchema, query.Filter{}, func(d json.RawMessage) error {
		var p ims.ResourcePool
		if json.Unmarshal(d, &p) != nil {
			return nil
		}
		u, _ := p.Extensions["utilization"].(map[string]any)
		for _, r := range []string{"cpu", "memory"} {
			if v, ok := u[r].(float64); ok {
				ch <- prometheus.MustNewConstMetric(poolUtilizationDesc, prometheus.GaugeValue, v, p.ResourcePoolID, r)
			}
		}
		capacity, _ := p.Extensions["capacity"].(map[string]any)
		for _, state := range []string{"allocatable", "requested"} {
			m, _ := capacity[state].(map[string]any)
			for key, r := range map[string]string{"cpuMillicores": "cpu", "memoryBytes": "memory", "pods": "pods"} {
				if v, ok := m[key].(float64); ok {
					ch <- prometheus.MustNewConstMetric(poolCapacityDesc, prometheus.GaugeValue, v, p.ResourcePoolID, r, state)
				}
			}
		}
		return nil
	})
	type key struct{ pool, typ string }
	counts := map[key]int{}
	_ = collection.Each(ctx, c.store, ResourceSchema, query.Filter{}, func(d json.RawMessage) error {
		var r struct {
			Pool string `json:"resourcePoolId"`
			Type string `json:"resourceTypeId"`
		}
		if json.Unmarshal(d, &r) == nil {
			counts[key{r.Pool, r.Type}]++
		}
		return nil
	})
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(resourcesDesc, prometheus.GaugeValue, float64(n), k.pool, k.typ)
	}
}
