// Package faults is the one fault model every pillars service uses: the knobs of each tier
// (knobs.go) with their bounds, a Switch that holds a service's current faults and changes them
// at runtime, the admin API that drives it (GET/PUT/PATCH /admin/faults), the leases that end
// a scenario's faults when their owner is gone (lease.go), the X-Pillars-Fault header that
// breaks one request on purpose and travels downstream in W3C baggage, and the
// client transport that breaks calls between services.
//
// The services do the faults themselves (a query waits, a lock is held, an index dropped);
// this package only says which are on. It imports telemetry only.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Switch holds the current faults T (Database, Backend or Frontend) of one service. Reading
// them is one atomic load, so every request can look; changing them replaces the whole value,
// so a request sees the old faults or the new ones, never a mix.
type Switch[T any] struct {
	tier     string
	cat      *catalog
	header   *headerParser
	opts     options
	current  atomic.Pointer[T]
	mu       sync.Mutex // serialises changes, so onChange sees them in order
	onChange func(old, new T)
	active   *prometheus.GaugeVec
	labels   Labels // off in drill mode: see labels.go

	// While a lease is held (see lease.go), base is what comes back when it ends: the
	// faults set at start or by a person. Both guarded by mu.
	lease *lease
	base  T
	log   atomic.Pointer[slog.Logger]
}

// Option configures a Switch.
type Option func(*options)

type options struct {
	choices    map[string][]string
	registry   prometheus.Registerer
	writeError func(http.ResponseWriter, *http.Request, int, error)
	edge       bool
}

// WithChoices gives the valid values of the string knobs tagged choices:"<key>" (the route
// knob takes the service's route templates).
func WithChoices(key string, values []string) Option {
	return func(o *options) { o.choices[key] = values }
}

// WithRegistry exports pillars_faults_active{knob} (1 while a knob is set) to reg, for
// dashboards, scenario signatures and the console.
func WithRegistry(reg prometheus.Registerer) Option {
	return func(o *options) { o.registry = reg }
}

// WithErrorWriter gives the function that answers a request failed on purpose (the
// service's telemetry.WriteError), for the route faults and a malformed X-Pillars-Fault.
func WithErrorWriter(write func(http.ResponseWriter, *http.Request, int, error)) Option {
	return func(o *options) { o.writeError = write }
}

// AtEdge makes the switch that of the service at the edge, which anyone may call with any
// baggage: a pillars.fault member in the caller's baggage is dropped unread, even when the
// service continues its callers' traces. Only faults this service admitted from
// X-Pillars-Fault (when request faults are on) then travel inward, and the tiers behind it
// honour nothing else.
func AtEdge() Option {
	return func(o *options) { o.edge = true }
}

// NewSwitch returns the switch of tier ("database", "backend", "frontend") starting with
// initial, which must be within bounds. onChange, when not nil, runs after every change with
// the old and the new faults (serialised): the service applies what needs more than a read
// (drop an index, resize a pool).
func NewSwitch[T any](tier string, initial T, onChange func(old, new T), opts ...Option) (*Switch[T], error) {
	o := options{choices: map[string][]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	cat, err := catalogOf(tier, reflect.TypeFor[T](), o.choices)
	if err != nil {
		return nil, err
	}
	header, err := newHeaderParser()
	if err != nil {
		return nil, err
	}
	s := &Switch[T]{tier: tier, cat: cat, header: header, opts: o, onChange: onChange}
	if err := s.check(&initial); err != nil {
		return nil, fmt.Errorf("initial faults: %w", err)
	}
	if o.registry != nil {
		s.active = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pillars_faults_active",
			Help: "Fault knobs set on this service right now (1), by knob.",
		}, []string{"knob"})
		for _, k := range cat.knobs {
			s.active.WithLabelValues(k.Name) // every knob exported at 0 from the start
		}
		if err := o.registry.Register(labelledCollector{s.active, &s.labels}); err != nil {
			return nil, err
		}
	}
	s.current.Store(&initial)
	s.export(&initial)
	if onChange != nil {
		var zero T
		onChange(zero, initial)
	}
	return s, nil
}

// Current returns the faults in effect for the service as a whole. Do not modify it.
func (s *Switch[T]) Current() *T { return s.current.Load() }

// Knobs describes every knob of the service.
func (s *Switch[T]) Knobs() []Knob {
	out := make([]Knob, len(s.cat.knobs))
	for i, k := range s.cat.knobs {
		out[i] = *k
	}
	return out
}

// Describe writes the knobs set in v ("latency=300ms, error_rate=0.2"), "" when none.
func (s *Switch[T]) Describe(v *T) string { return s.cat.describe(reflect.ValueOf(v)) }

// Set replaces the faults with v after checking its bounds (a person's change: see change).
func (s *Switch[T]) Set(v T) error {
	if err := s.check(&v); err != nil {
		return err
	}
	_, err := s.change(func(cur *T) error { *cur = v; return nil }, 0)
	return err
}

// Replace reads a JSON document of knobs and makes them the faults: knobs left out are off
// (PUT). A lease of ttl > 0 makes the change last only while the lease is renewed.
func (s *Switch[T]) Replace(body io.Reader, ttl time.Duration) (T, error) {
	doc, err := io.ReadAll(body)
	if err != nil {
		return *s.current.Load(), err
	}
	return s.change(func(v *T) error {
		var next T
		if err := s.decodeInto(&next, bytes.NewReader(doc)); err != nil {
			return err
		}
		*v = next
		return nil
	}, ttl)
}

// Patch reads a JSON document of knobs and changes those only (PATCH), under a lease of ttl
// when ttl > 0.
func (s *Switch[T]) Patch(body io.Reader, ttl time.Duration) (T, error) {
	doc, err := io.ReadAll(body)
	if err != nil {
		return *s.current.Load(), err
	}
	return s.change(func(v *T) error { return s.decodeInto(v, bytes.NewReader(doc)) }, ttl)
}

// Clear turns every fault off, for good: the base too.
func (s *Switch[T]) Clear() {
	_, _ = s.change(func(v *T) error { var zero T; *v = zero; return nil }, 0)
}

// change applies edit to the faults in effect. Under a lease (ttl > 0) it changes only what is
// in effect: the faults before the first leased change are kept as the base, to come back
// when the lease ends. Without a lease it is a person's (or the start-up's) word, and changes
// the base too while a lease is held, so that it outlives the lease.
func (s *Switch[T]) change(edit func(*T) error, ttl time.Duration) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := *s.current.Load()
	if err := edit(&v); err != nil {
		return *s.current.Load(), err
	}
	switch {
	case ttl > 0:
		if s.lease == nil {
			s.base = *s.current.Load()
		}
		s.hold(ttl)
	case s.lease != nil:
		base := s.base
		if err := edit(&base); err != nil {
			return *s.current.Load(), err
		}
		s.base = base
	}
	s.store(v)
	return v, nil
}

func (s *Switch[T]) store(v T) {
	old := *s.current.Load()
	s.current.Store(&v)
	s.export(&v)
	if s.onChange != nil {
		s.onChange(old, v)
	}
}

func (s *Switch[T]) export(v *T) {
	if s.active == nil {
		return
	}
	on := map[string]bool{}
	for _, name := range s.cat.active(reflect.ValueOf(v)) {
		on[name] = true
	}
	for _, k := range s.cat.knobs {
		value := 0.0
		if on[k.Name] {
			value = 1
		}
		s.active.WithLabelValues(k.Name).Set(value)
	}
}

// check validates every knob of v by writing it back through its text form.
func (s *Switch[T]) check(v *T) error {
	rv := reflect.ValueOf(v)
	var probe T
	pv := reflect.ValueOf(&probe)
	for _, k := range s.cat.knobs {
		f := rv.Elem().FieldByIndex(k.index)
		if f.IsZero() {
			continue
		}
		if err := s.cat.setText(pv, k.Name, textOf(k, f)); err != nil {
			return err
		}
	}
	return nil
}

// decodeInto reads one JSON object of knob values into v.
func (s *Switch[T]) decodeInto(v *T, body io.Reader) error {
	return s.cat.decode(reflect.ValueOf(v), body)
}

// decode reads one JSON object of knob values into the struct v points at.
func (c *catalog) decode(rv reflect.Value, body io.Reader) error {
	dec := json.NewDecoder(body)
	var doc map[string]json.RawMessage
	if err := dec.Decode(&doc); err != nil {
		var syntax *json.SyntaxError
		switch {
		case isTooLarge(err):
			return err
		case errors.As(err, &syntax):
			return fmt.Errorf("not valid JSON (at byte %d): send an object of knobs, like {\"latency\": \"250ms\"}", syntax.Offset)
		case errors.Is(err, io.EOF):
			return errors.New("empty body: send an object of knobs, like {\"latency\": \"250ms\"}, or {} for none")
		default:
			return errors.New("want one JSON object of knobs, like {\"latency\": \"250ms\"}")
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("want one JSON object and nothing after it")
	}
	for _, k := range c.knobs { // in the struct's order, so errors come out in a stable order
		if raw, ok := doc[k.Name]; ok {
			if err := c.setJSON(rv, k.Name, raw); err != nil {
				return err
			}
			delete(doc, k.Name)
		}
	}
	for name := range doc {
		_, err := c.knob(name)
		return err
	}
	return nil
}

// ForRequest returns the faults for the request in ctx: the service's own, with the request's
// overrides from the X-Pillars-Fault header (see Wrap) on top.
func (s *Switch[T]) ForRequest(ctx context.Context) *T {
	if o := s.own(ctx); o != nil {
		if v, ok := o.faults.(*T); ok {
			return v
		}
	}
	return s.current.Load()
}

// Parse reads a JSON document of tier's knobs, as PUT /admin/faults takes it ("" is no
// faults): for faults given at start, on the command line.
func Parse[T any](tier, doc string) (T, error) {
	var v T
	if strings.TrimSpace(doc) == "" {
		return v, nil
	}
	cat, err := catalogOf(tier, reflect.TypeFor[T](), nil)
	if err != nil {
		return v, err
	}
	s := &Switch[T]{tier: tier, cat: cat}
	err = s.decodeInto(&v, strings.NewReader(doc))
	return v, err
}

func isTooLarge(err error) bool {
	_, ok := errors.AsType[*http.MaxBytesError](err)
	return ok
}
