package collection

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/query"
)

// CountGauge is a Prometheus collector of the objects of one schema
// counted by a label read from each document, such as CNF instances by
// phase. Every key given is exported, as 0 when no object has it.
type CountGauge struct {
	store Store
	sc    *query.Schema
	desc  *prometheus.Desc
	keys  []string
	keyOf func(doc json.RawMessage) string
}

// NewCountGauge returns the gauge name{label} over the objects of sc.
func NewCountGauge(store Store, sc *query.Schema, name, help, label string, keys []string, keyOf func(doc json.RawMessage) string) *CountGauge {
	return &CountGauge{store: store, sc: sc, desc: prometheus.NewDesc(name, help, []string{label}, nil), keys: keys, keyOf: keyOf}
}

// Describe implements prometheus.Collector.
func (g *CountGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector; it reports nothing when the
// store cannot be read.
func (g *CountGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := make(map[string]float64, len(g.keys))
	for _, k := range g.keys {
		counts[k] = 0
	}
	err := Each(ctx, g.store, g.sc, query.Filter{}, func(doc json.RawMessage) error {
		counts[g.keyOf(doc)]++
		return nil
	})
	if err != nil {
		return
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, n, k)
	}
}
