package eventstream

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	published *prometheus.CounterVec
	errors    prometheus.Counter
	connected prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, p *Publisher) (*metrics, error) {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "o2ims_eventstream_published_total", Help: "Outbox events stored in the JetStream stream (not counting duplicates).",
		}, []string{"stream"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "o2ims_eventstream_errors_total", Help: "Failed publishing rounds, NATS disconnections and asynchronous NATS errors.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "o2ims_eventstream_connected", Help: "1 while the publisher is connected to NATS, else 0.",
		}),
	}
	for _, s := range p.opts.Streams {
		m.published.WithLabelValues(s)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.published, m.errors, m.connected} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
