package dispatch

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/o2ims/internal/sqlstore"
)

type metrics struct {
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	expired   *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, d *Dispatcher) (*metrics, error) {
	m := &metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "o2ims_notifications_delivered_total", Help: "Notifications a subscriber accepted with a 2xx.",
		}, []string{"stream"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "o2ims_notifications_failed_attempts_total", Help: "Failed delivery attempts; reason retry (will be retried) or rejected (final).",
		}, []string{"stream", "reason"}),
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "o2ims_notifications_expired_total", Help: "Notifications given up undelivered because they outlived the maximum age.",
		}, []string{"stream"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "o2ims_notification_delivery_latency_seconds",
			Help:    "Time from the commit of a change to the subscriber's 2xx.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"stream"}),
	}
	// Every stream's counters exist from the start, at 0: a series that
	// first appears at 150 shows no increase to rate() and increase(), so
	// an alert on the first expiries of a running server would miss them.
	for _, stream := range []string{sqlstore.StreamInventory, sqlstore.StreamAlarm} {
		m.delivered.WithLabelValues(stream)
		m.expired.WithLabelValues(stream)
		for _, reason := range []string{"retry", "rejected"} {
			m.failed.WithLabelValues(stream, reason)
		}
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.delivered, m.failed, m.expired, m.latency, queueDepth{d}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// queueDepth reports, at scrape time, the events each subscription has
// still to process.
type queueDepth struct{ d *Dispatcher }

var queueDepthDesc = prometheus.NewDesc("o2ims_notification_queue_depth",
	"Events a subscription has not processed yet (matching its filter or not).", []string{"subscription"}, nil)

func (q queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (q queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	depths, err := q.d.store.QueueDepths(ctx)
	if err != nil {
		q.d.logger.Warn("queue depth metric", "err", err)
		return
	}
	for id, n := range depths {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(n), id)
	}
}
