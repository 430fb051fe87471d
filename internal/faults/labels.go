package faults

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Labels says whether a service names its faults. Labelled (the default) is for teaching:
// spans carry pillars.fault.* attributes, logs say which knob changed, pillars_faults_active
// says which knobs are on, errors say "on purpose". Unlabelled is drill mode: a fault shows
// only through what it does (latency, errors, plans, pool waits, memory, retries, versions),
// so that finding it takes diagnosis, not reading a label.
//
// Every place that labels a fault asks Labelled first; the drill turns labels off through
// PUT /admin/labels (behind the admin token) and on again when the episode ends.
type Labels struct{ off atomic.Bool }

// Labelled reports whether faults are named (true unless a drill turned labels off).
func (l *Labels) Labelled() bool { return l == nil || !l.off.Load() }

// Set turns labels on or off.
func (l *Labels) Set(on bool) { l.off.Store(!on) }

// Labels returns the switch's labels flag, shared with everything in the service that names
// a fault.
func (s *Switch[T]) Labels() *Labels { return &s.labels }

// Labelled reports whether the service names its faults now.
func (s *Switch[T]) Labelled() bool { return s.labels.Labelled() }

// Annotate sets fault attributes on the span in ctx, in labelled mode only.
func (s *Switch[T]) Annotate(ctx context.Context, attrs ...attribute.KeyValue) {
	annotate(&s.labels, ctx, attrs...)
}

func annotate(l *Labels, ctx context.Context, attrs ...attribute.KeyValue) {
	if l.Labelled() {
		trace.SpanFromContext(ctx).SetAttributes(attrs...)
	}
}

// Unlabel returns err as it must read in the mode the service is in: itself when labelled,
// otherwise an error that still matches err (errors.Is) but reads as neutral, the way a real
// failure of that kind would, instead of "failed on purpose (fault injection)".
func (s *Switch[T]) Unlabel(err error, neutral string) error {
	if err == nil || s.Labelled() {
		return err
	}
	return &maskedError{err: err, text: neutral}
}

// Unlabelled reports whether err was unlabelled by Unlabel: its text must not be replaced by
// one that names the fault.
func Unlabelled(err error) bool {
	_, ok := errors.AsType[*maskedError](err)
	return ok
}

type maskedError struct {
	err  error
	text string
}

func (e *maskedError) Error() string { return e.text }
func (e *maskedError) Unwrap() error { return e.err }

// LabelsState is what GET and PUT /admin/labels carry.
type LabelsState struct {
	Labels bool `json:"labels"`
}

// labelRoutes serves the labels flag behind guard:
//
//	GET /admin/labels   {"labels": true}
//	PUT /admin/labels   {"labels": false} starts drill mode, {"labels": true} ends it
//
// Drill mode needs an admin token: without one, the admin reads that would name the faults
// are open to anyone on the machine, so turning labels off is refused (409).
func (s *Switch[T]) labelRoutes(mux *http.ServeMux, tel *telemetry.Telemetry, guard *telemetry.AdminGuard) {
	mux.Handle("GET /admin/labels", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, LabelsState{Labels: s.Labelled()})
	})))
	mux.Handle("PUT /admin/labels", guard.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var st LabelsState
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&st); err != nil {
			tel.WriteError(w, r, http.StatusBadRequest, errors.New(`invalid labels document: want {"labels": true|false}: `+err.Error()))
			return
		}
		if !st.Labels && !guard.HasToken() {
			tel.WriteError(w, r, http.StatusConflict,
				errors.New("drill mode needs an admin token (PILLARS_ADMIN_TOKEN): without one, anyone could read the faults"))
			return
		}
		s.labels.Set(st.Labels)
		telemetry.WriteJSON(w, http.StatusOK, st)
	})))
}

// labelledCollector exports what it wraps in labelled mode only: in drill mode the series
// that name faults or scenarios (pillars_faults_active, pillars_scenario_active) are absent,
// not zero, since even a zero series names every knob.
type labelledCollector struct {
	prometheus.Collector
	labels *Labels
}

func (c labelledCollector) Collect(ch chan<- prometheus.Metric) {
	if c.labels.Labelled() {
		c.Collector.Collect(ch)
	}
}

// LabelledRegisterer registers every collector given to it into reg so that it exports in
// labelled mode only: for metrics of another package that name faults (the scenario runner's
// pillars_scenario_active).
func LabelledRegisterer(reg prometheus.Registerer, labels *Labels) prometheus.Registerer {
	return labelledRegisterer{reg: reg, labels: labels}
}

type labelledRegisterer struct {
	reg    prometheus.Registerer
	labels *Labels
}

func (r labelledRegisterer) Register(c prometheus.Collector) error {
	return r.reg.Register(labelledCollector{c, r.labels})
}

func (r labelledRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func (r labelledRegisterer) Unregister(c prometheus.Collector) bool {
	return r.reg.Unregister(labelledCollector{c, r.labels})
}
