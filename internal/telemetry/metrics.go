package telemetry

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
)

// NewRegistry returns a registry of one service's own, with the Go runtime and process
// collectors. Never the global default registry: `pillars all` and parallel tests run several
// services in one process.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// MetricsHandler serves the registry, in OpenMetrics when the scraper asks for it: only that
// format carries exemplars.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg,
		EnableOpenMetrics: true,
	})
}

// Native histogram settings of every latency histogram. A bucket factor of 1.1 (schema 3:
// buckets about 9 % wide) resolves any quantile within a few percent, where the classic
// buckets resolve only between their fixed bounds; 160 buckets hold latencies from
// microseconds to minutes before the resolution is halved, and a histogram that grew past
// them is reset at most once an hour.
const (
	nativeBucketFactor    = 1.1
	nativeMaxBucketNumber = 160
	nativeMinReset        = time.Hour
)

// NativeHistogram returns opts with native buckets as well as its classic ones: a scraper
// that asks for the protobuf format (Prometheus with scrape_native_histograms) gets both, the
// text and OpenMetrics formats keep the classic _bucket series, and exemplars are kept on
// both.
func NativeHistogram(opts prometheus.HistogramOpts) prometheus.HistogramOpts {
	opts.NativeHistogramBucketFactor = nativeBucketFactor
	opts.NativeHistogramMaxBucketNumber = nativeMaxBucketNumber
	opts.NativeHistogramMinResetDuration = nativeMinReset
	return opts
}

// HTTPMetrics are the per-service request metrics the seed names <service>_requests_total and
// <service>_request_duration_seconds, and beside them the semantic conventions' HTTP server
// metrics under the same name in every service (told apart by the job label), so that one
// query covers them all.
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	standardDuration          *prometheus.HistogramVec // http.server.request.duration
	requestSize, responseSize *prometheus.HistogramVec // http.server.{request,response}.body.size
}

// standardLabels are the conventions' attributes of the HTTP server metrics, with the dots
// that Prometheus names cannot hold turned into underscores.
var standardLabels = []string{"http_request_method", "http_route", "http_response_status_code"}

// bodySizeBuckets run from 64 bytes to 4 MiB (the largest answer a client here reads).
var bodySizeBuckets = prometheus.ExponentialBuckets(64, 4, 9)

func newHTTPMetrics(reg prometheus.Registerer, service string) *HTTPMetrics {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: service + "_requests_total",
			Help: "HTTP requests served, by method, route template and status code.",
		}, []string{"method", "endpoint", "status"}),
		duration: prometheus.NewHistogramVec(NativeHistogram(prometheus.HistogramOpts{
			Name:    service + "_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route template.",
			Buckets: prometheus.DefBuckets,
		}), []string{"endpoint"}),
		standardDuration: prometheus.NewHistogramVec(NativeHistogram(prometheus.HistogramOpts{
			Name: "http_server_request_duration_seconds",
			Help: "Duration of HTTP server requests (the semantic conventions' http.server.request.duration).",
			// The conventions' advised bucket boundaries.
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10},
		}), append(standardLabels[:3:3], "error_type")),
		requestSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_server_request_body_size_bytes",
			Help:    "Size of HTTP server request bodies as read (http.server.request.body.size).",
			Buckets: bodySizeBuckets,
		}, standardLabels),
		responseSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_server_response_body_size_bytes",
			Help:    "Size of HTTP server response bodies as sent (http.server.response.body.size).",
			Buckets: bodySizeBuckets,
		}, standardLabels),
	}
	reg.MustRegister(m.requests, m.duration, m.standardDuration, m.requestSize, m.responseSize)
	return m
}

// exemplar returns the labels that link a sample to its trace, or nil outside a sampled span
// (an exemplar pointing at a trace that was never exported would be a dead link).
func exemplar(ctx context.Context) prometheus.Labels {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsSampled() {
		return nil
	}
	if ex := exemplarFrom(ctx, sc); ex != nil {
		return ex
	}
	return prometheus.Labels{"trace_id": sc.TraceID().String()}
}

// Observe records v on a histogram, with the current trace as exemplar.
func Observe(ctx context.Context, o prometheus.Observer, v float64) {
	if unmeasured(ctx) {
		return
	}
	if ex := exemplar(ctx); ex != nil {
		if eo, ok := o.(prometheus.ExemplarObserver); ok {
			eo.ObserveWithExemplar(v, ex)
			return
		}
	}
	o.Observe(v)
}

// Inc adds one to a counter, with the current trace as exemplar.
func Inc(ctx context.Context, c prometheus.Counter) {
	if unmeasured(ctx) {
		return
	}
	if ex := exemplar(ctx); ex != nil {
		if ea, ok := c.(prometheus.ExemplarAdder); ok {
			ea.AddWithExemplar(1, ex)
			return
		}
	}
	c.Inc()
}

var errMetricsPushed = errors.New(`metrics are pushed over OTLP (OTEL_METRICS_EXPORTER does not list "prometheus"): nothing to scrape here`)

// MetricsHandler serves /metrics when OTEL_METRICS_EXPORTER lists "prometheus" (the default),
// and answers 404 otherwise: metrics that are pushed over OTLP and scraped as well would be
// counted twice.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t.pull {
		return MetricsHandler(t.Registry)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.WriteError(w, r, http.StatusNotFound, errMetricsPushed)
	})
}
