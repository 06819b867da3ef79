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
	poolUtilizationDesc = prometheus.NewDesc("o2ims_resource_pool_utilization",
		"Requested over allocatable capacity of a resource pool, by resource (cpu, memory).", []string{"pool_id", "resource"}, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- providerHealthDesc
	ch <- poolUtilizationDesc
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.syncer.Status() {
		v := 0.0
		if st.Healthy {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(providerHealthDesc, prometheus.GaugeValue, v, st.Name)
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
		return nil
	})
}
