package frontend

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The frontend's own seed metrics; frontend_requests_total and
// frontend_request_duration_seconds come from telemetry.Instrument.

// errorType is the bounded `type` label of frontend_errors_total.
type errorType string

const (
	errBadRequest         errorType = "bad_request"         // the visitor's input is invalid (a bad id)
	errNotFound           errorType = "not_found"           // the user or product does not exist
	errBackendError       errorType = "backend_error"       // the backend answered 5xx, refused the call (4xx) or garbage
	errBackendUnavailable errorType = "backend_unavailable" // the backend could not be reached
	errBackendTimeout     errorType = "backend_timeout"     // the backend did not answer in time
	errInternal           errorType = "internal"            // a failure of the frontend itself
)

type metrics struct {
	errors map[errorType]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, visitors *visitorTracker) *metrics {
	activeUsers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "frontend_active_users",
		Help: "Distinct visitors (by cookie) seen in the active window (default the last minute).",
	}, func() float64 { return float64(visitors.active()) })
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frontend_errors_total",
		Help: "Requests the frontend answered with an error, by type.",
	}, []string{"type"})
	reg.MustRegister(activeUsers, errs)

	// Every type exists at zero from the start, and the hot path skips the label lookup.
	m := &metrics{errors: make(map[errorType]prometheus.Counter)}
	for _, t := range []errorType{
		errBadRequest, errNotFound, errBackendError, errBackendUnavailable, errBackendTimeout, errInternal,
	} {
		m.errors[t] = errs.WithLabelValues(string(t))
	}
	return m
}

// countError adds one error of type t, with the current trace as exemplar.
func (m *metrics) countError(ctx context.Context, t errorType) {
	telemetry.Inc(ctx, m.errors[t])
}
