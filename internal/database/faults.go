package database

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// errInjected marks a failure made on purpose by the error-rate knob.
var errInjected = errors.New("injected fault")

// maxFaultsBody bounds PUT /admin/faults: the document is three short fields.
const maxFaultsBody = 4 << 10

// validate checks settings that JSON decoding alone lets through.
func (f Faults) validate() error {
	switch {
	case !(f.ErrorRate >= 0 && f.ErrorRate <= 1): // also rejects NaN
		return fmt.Errorf("error_rate %v: must be between 0 and 1", f.ErrorRate)
	case f.Latency < 0:
		return fmt.Errorf("latency %s: must not be negative", time.Duration(f.Latency))
	case f.Jitter < 0:
		return fmt.Errorf("jitter %s: must not be negative", time.Duration(f.Jitter))
	}
	return nil
}

// faultSwitch holds the current fault settings. Every query reads them and an admin request
// replaces them, so they sit behind an atomic pointer: a query sees either the old settings or
// the new ones, never a mix, and never waits for a lock.
type faultSwitch struct {
	current atomic.Pointer[Faults]
}

func newFaultSwitch(initial Faults) *faultSwitch {
	f := &faultSwitch{}
	f.set(initial)
	return f
}

func (f *faultSwitch) get() Faults  { return *f.current.Load() }
func (f *faultSwitch) set(v Faults) { f.current.Store(&v) }

// inject applies the current settings to one query: it waits the added latency (plus jitter),
// or less if ctx ends first, then fails the query with the configured probability.
func (f *faultSwitch) inject(ctx context.Context) error {
	cur := f.current.Load()
	if cur.Latency == 0 && cur.Jitter == 0 && cur.ErrorRate == 0 {
		return nil
	}
	span := trace.SpanFromContext(ctx)
	if d := time.Duration(cur.Latency) + jitter(time.Duration(cur.Jitter)); d > 0 {
		span.SetAttributes(attribute.Int64("pillars.fault.latency_ms", d.Milliseconds()))
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return context.Cause(ctx)
		}
	}
	if cur.ErrorRate > 0 && rand.Float64() < cur.ErrorRate {
		span.SetAttributes(attribute.Bool("pillars.fault.error", true))
		return fmt.Errorf("%w: query failed on purpose (error_rate %s)", errInjected,
			strconv.FormatFloat(cur.ErrorRate, 'g', -1, 64))
	}
	return nil
}

// jitter is uniform in [0, max).
func jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}

// getFaults answers the current settings.
func (s *Service) getFaults(w http.ResponseWriter, r *http.Request) {
	telemetry.WriteJSON(w, http.StatusOK, s.faults.get())
}

// putFaults replaces the settings with the request's document (fields left out are zero, as
// PUT replaces) and answers the new settings.
func (s *Service) putFaults(w http.ResponseWriter, r *http.Request) {
	f, err := decodeFaults(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.faults.set(f)
	s.tel.Logger.InfoContext(r.Context(), "Fault injection updated",
		"latency", time.Duration(f.Latency).String(), "jitter", time.Duration(f.Jitter).String(),
		"error_rate", f.ErrorRate)
	telemetry.WriteJSON(w, http.StatusOK, f)
}

func decodeFaults(w http.ResponseWriter, r *http.Request) (Faults, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultsBody))
	dec.DisallowUnknownFields()
	var f Faults
	if err := dec.Decode(&f); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return f, &telemetry.HTTPError{Status: http.StatusRequestEntityTooLarge,
				Err: fmt.Errorf("faults document larger than %d bytes", maxFaultsBody)}
		}
		return f, badRequest("invalid faults document: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return f, badRequest("invalid faults document: want one JSON object and nothing after it")
	}
	if err := f.validate(); err != nil {
		return f, badRequest("invalid faults: %v", err)
	}
	return f, nil
}
