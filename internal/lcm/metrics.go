package lcm

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/query"
)

// Collector exports o2ims_cnf_instances{state}, which the guide's dashboard
// counts instances by.
type Collector struct{ store collection.Store }

// NewCollector returns the CNF instance gauge.
func NewCollector(store collection.Store) *Collector { return &Collector{store: store} }

var instancesDesc = prometheus.NewDesc("o2ims_cnf_instances", "CNF instances by phase.", []string{"state"}, nil)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- instancesDesc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := map[string]float64{NotInstantiated: 0, Instantiated: 0, PhaseInstantiating: 0, PhaseScaling: 0, PhaseTerminating: 0, PhaseFailed: 0}
	err := collection.Each(ctx, c.store, InstanceSchema, query.Filter{}, func(d json.RawMessage) error {
		var inst struct {
			Phase string `json:"phase"`
		}
		if json.Unmarshal(d, &inst) == nil {
			counts[inst.Phase]++
		}
		return nil
	})
	if err != nil {
		return
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(instancesDesc, prometheus.GaugeValue, n, state)
	}
}
