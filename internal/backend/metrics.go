package backend

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The backend's own metrics, named as in the seed. backend_requests_total and
// backend_request_duration_seconds come from telemetry.Instrument.
//
// Label values are fixed enums; every series is created up front, so dashboards and rate()
// see zeros from the start instead of a series appearing with the first event.
type metrics struct {
	databaseCalls *prometheus.CounterVec // operation, status

	cacheHit  prometheus.Counter
	cacheMiss prometheus.Counter

	validateUser    prometheus.Observer
	validateProduct prometheus.Observer
	cacheLookup     prometheus.Observer
	pricing         prometheus.Observer
}

// Values of backend_database_calls_total's operation label.
const (
	opGetUser    = "get_user"
	opGetProduct = "get_product"
	opQuery      = "query"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "backend_database_calls_total",
		Help: "Calls to the database service, by operation (get_user, get_product, query) and outcome " +
			"(success, not_found, client_error, error, timeout, unavailable, canceled).",
	}, []string{"operation", "status"})
	cache := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "backend_cache_operations_total",
		Help: "Cache lookups, by result: hit or miss.",
	}, []string{"operation"})
	processing := prometheus.NewHistogramVec(telemetry.NativeHistogram(prometheus.HistogramOpts{
		Name: "backend_processing_time_seconds",
		Help: "Time spent in the backend's own work, by operation (validate_user_id, validate_product_id, " +
			"cache_lookup, apply_pricing_rules).",
		// This is in-process work, microseconds when all is well: the default buckets
		// (5ms and up) would put every sample in the first one.
		Buckets: []float64{1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1},
	}), []string{"operation"})
	reg.MustRegister(calls, cache, processing)

	for _, op := range []string{opGetUser, opGetProduct, opQuery} {
		for _, st := range telemetry.CallLabels() {
			calls.WithLabelValues(op, st)
		}
	}
	return &metrics{
		databaseCalls:   calls,
		cacheHit:        cache.WithLabelValues("hit"),
		cacheMiss:       cache.WithLabelValues("miss"),
		validateUser:    processing.WithLabelValues("validate_user_id"),
		validateProduct: processing.WithLabelValues("validate_product_id"),
		cacheLookup:     processing.WithLabelValues("cache_lookup"),
		pricing:         processing.WithLabelValues("apply_pricing_rules"),
	}
}
