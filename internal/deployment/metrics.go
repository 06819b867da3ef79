package deployment

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/query"
)

// Collector exports o2ims_deployments{phase}.
type Collector struct{ store collection.Store }

// NewCollector returns the deployment gauge.
func NewCollector(store collection.Store) *Collector { return &Collector{store: store} }

var deploymentsDesc = prometheus.NewDesc("o2ims_deployments", "Deployments by phase.", []string{"phase"}, nil)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- deploymentsDesc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := map[string]float64{}
	for _, p := range Phases {
		counts[p] = 0
	}
	err := collection.Each(ctx, c.store, Schema, query.Filter{}, func(doc json.RawMessage) error {
		var d struct {
			Status struct {
				Phase string `json:"phase"`
			} `json:"status"`
		}
		if json.Unmarshal(doc, &d) == nil {
			counts[d.Status.Phase]++
		}
		return nil
	})
	if err != nil {
		return
	}
	for phase, n := range counts {
		ch <- prometheus.MustNewConstMetric(deploymentsDesc, prometheus.GaugeValue, n, phase)
	}
}
