package telemetry

import (
	"context"
	"encoding/hex"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	promBridge "go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// MetricsConfig is OTEL_METRICS_EXPORTER and the OTLP metric exporter's settings, read from
// the environment by main. The zero value is the default: metrics are pulled from /metrics
// and nothing is pushed.
type MetricsConfig struct {
	// Unmeasured turns the recording of requests off (--metrics=false): nothing is counted,
	// timed or given an exemplar through the middleware, Inc and Observe. For measuring what
	// metrics cost; the registry and /metrics stay.
	Unmeasured bool
	// NoPull is true when OTEL_METRICS_EXPORTER does not list "prometheus": /metrics then
	// answers 404, so a scraper cannot count what is also pushed.
	NoPull bool
	// OTLP is true when OTEL_METRICS_EXPORTER lists "otlp": the registry is pushed over OTLP.
	OTLP            bool
	Endpoint        string        // OTEL_EXPORTER_OTLP_ENDPOINT
	MetricsEndpoint string        // OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, used as is
	Protocol        string        // OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL
	Interval        time.Duration // OTEL_METRIC_EXPORT_INTERVAL (default 5s, the stacks' scrape interval)
	Timeout         time.Duration // OTEL_METRIC_EXPORT_TIMEOUT (default 10s)

	// Exporter replaces the OTLP exporter; tests use an in-memory one.
	Exporter metric.Exporter
}

// Defaults of the metric push. The specification's interval is 60s; 5s is the scrape
// interval of the project's Prometheus configs, so dashboards and rules (rates over 1m)
// see the same resolution whichever way the samples came.
const (
	DefaultMetricExportInterval = 5 * time.Second
	DefaultMetricExportTimeout  = 10 * time.Second
)

// newMetricPush pushes the registry over OTLP through the OpenTelemetry Prometheus bridge:
// the registry stays the one source of truth, so the pushed metrics have the names, labels
// and exemplars of a scrape. It returns nil when OTLP export is off.
func newMetricPush(ctx context.Context, cfg MetricsConfig, reg promclient.Gatherer, res *resource.Resource) (*metric.MeterProvider, error) {
	if !cfg.OTLP {
		return nil, nil
	}
	exp := cfg.Exporter
	if exp == nil {
		var err error
		if exp, err = newOTLPMetricExporter(ctx, cfg); err != nil {
			return nil, err
		}
	}
	producer := exemplarIDs{promBridge.NewMetricProducer(promBridge.WithGatherer(classicHistograms{reg}))}
	reader := metric.NewPeriodicReader(exp,
		metric.WithProducer(producer),
		metric.WithInterval(orDefault(cfg.Interval, DefaultMetricExportInterval)),
		metric.WithTimeout(orDefault(cfg.Timeout, DefaultMetricExportTimeout)))
	return metric.NewMeterProvider(metric.WithResource(res), metric.WithReader(reader)), nil
}

func newOTLPMetricExporter(ctx context.Context, cfg MetricsConfig) (metric.Exporter, error) {
	protocol, url, err := otlpTarget(cfg.Protocol, cfg.MetricsEndpoint, cfg.Endpoint, "metrics")
	if err != nil {
		return nil, err
	}
	if protocol == protocolGRPC {
		return otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpointURL(url))
	}
	return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(url))
}

// classicHistograms gathers the registry with every histogram in its classic form only. The
// bridge turns a histogram that also has native buckets into an exponential histogram, which
// would reach Prometheus without its _bucket series (that the recording rules, alerts and
// older Prometheus versions read) and without exemplars (the bridge drops those of native
// histograms). A scrape of /metrics still offers both forms.
type classicHistograms struct{ g promclient.Gatherer }

func (c classicHistograms) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := c.g.Gather()
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		for _, m := range mf.GetMetric() {
			// Gather builds new values on every call, so they are ours to change.
			if h := m.GetHistogram(); h != nil && len(h.GetBucket()) > 0 {
				h.Schema, h.ZeroThreshold, h.ZeroCount, h.ZeroCountFloat = nil, nil, nil, nil
				h.PositiveSpan, h.PositiveDelta, h.PositiveCount = nil, nil, nil
				h.NegativeSpan, h.NegativeDelta, h.NegativeCount = nil, nil, nil
				h.Exemplars = nil
			}
		}
	}
	return mfs, err
}

// exemplarIDs corrects the trace and span ids of the bridge's exemplars. The bridge copies
// the text of the trace_id and span_id labels as the ids' bytes (32 and 16 bytes of hex),
// where OTLP wants the ids themselves (16 and 8 bytes): a receiver rejects such a batch, or
// stores ids that name no trace. Ids already of the right size pass unchanged.
type exemplarIDs struct{ metric.Producer }

func (p exemplarIDs) Produce(ctx context.Context) ([]metricdata.ScopeMetrics, error) {
	sms, err := p.Producer.Produce(ctx)
	for i := range sms {
		for j := range sms[i].Metrics {
			switch d := sms[i].Metrics[j].Data.(type) {
			case metricdata.Sum[float64]:
				for k := range d.DataPoints {
					fixExemplarIDs(d.DataPoints[k].Exemplars)
				}
			case metricdata.Histogram[float64]:
				for k := range d.DataPoints {
					fixExemplarIDs(d.DataPoints[k].Exemplars)
				}
			}
		}
	}
	return sms, err
}

func fixExemplarIDs(exs []metricdata.Exemplar[float64]) {
	for i := range exs {
		exs[i].TraceID = hexID(exs[i].TraceID, 16)
		exs[i].SpanID = hexID(exs[i].SpanID, 8)
	}
}

// hexID returns the size bytes that b spells in hex, b when it already has size bytes, and
// nil (no id) for anything else.
func hexID(b []byte, size int) []byte {
	switch len(b) {
	case 0, size:
		return b
	case 2 * size:
		id := make([]byte, size)
		if _, err := hex.Decode(id, b); err == nil {
			return id
		}
	}
	return nil
}
