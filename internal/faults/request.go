package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Header breaks one request on purpose: "database.latency=300ms, backend.cpu_burn=50ms". Each
// setting names the tier that honours it; the spec travels downstream in the W3C baggage
// member baggageKey, so the tier the trace shows failing is the one that was told to.
const Header = "X-Pillars-Fault"

const (
	baggageKey = "pillars.fault"
	// Bounds of a header: a spec is a handful of settings, never a payload.
	maxHeaderBytes = 512
	maxSettings    = 8
)

// attrRequestFaults is the span attribute of a tier that honoured a request's faults.
const attrRequestFaults = attribute.Key("pillars.fault.request")

// headerParser checks a spec against the knobs of every tier: a mistake is answered at the
// edge with a 400 naming the knob, not discovered two hops down.
type headerParser struct {
	tiers map[string]*catalog
}

func newHeaderParser() (*headerParser, error) {
	p := &headerParser{tiers: map[string]*catalog{}}
	for tier, t := range map[string]reflect.Type{
		"database": reflect.TypeFor[Database](),
		"backend":  reflect.TypeFor[Backend](),
		"frontend": reflect.TypeFor[Frontend](),
	} {
		c, err := catalogOf(tier, t, nil)
		if err != nil {
			return nil, err
		}
		p.tiers[tier] = c
	}
	return p, nil
}

// setting is one tier.knob=value of a spec.
type setting struct{ tier, knob, value string }

// parse reads and checks a spec.
func (p *headerParser) parse(spec string) ([]setting, error) {
	if len(spec) > maxHeaderBytes {
		return nil, fmt.Errorf("%s is %d bytes long; at most %d are accepted", Header, len(spec), maxHeaderBytes)
	}
	var out []setting
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		tier, knob, dotted := strings.Cut(strings.TrimSpace(name), ".")
		if !ok || !dotted {
			return nil, fmt.Errorf("%s: %q is not tier.knob=value, like database.latency=300ms", Header, telemetry.Excerpt(part))
		}
		c, known := p.tiers[tier]
		if !known {
			return nil, fmt.Errorf("%s: unknown tier %q: use database, backend or frontend", Header, telemetry.Excerpt(tier))
		}
		k, err := c.knob(knob)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.%w", Header, tier, err)
		}
		if !k.PerRequest {
			return nil, fmt.Errorf("%s: knob %s.%s cannot be set for one request: set it for the service with PUT /admin/faults", Header, tier, knob)
		}
		probe := reflect.New(c.typ)
		if err := c.setText(probe, knob, strings.TrimSpace(value)); err != nil {
			return nil, fmt.Errorf("%s: %s.%w", Header, tier, err)
		}
		out = append(out, setting{tier, knob, strings.TrimSpace(value)})
		if len(out) > maxSettings {
			return nil, fmt.Errorf("%s: at most %d settings", Header, maxSettings)
		}
	}
	return out, nil
}

func encodeSpec(settings []setting) string {
	parts := make([]string, len(settings))
	for i, s := range settings {
		parts[i] = s.tier + "." + s.knob + "=" + s.value
	}
	return strings.Join(parts, ",")
}

// requestKey is the context key of the faults one request set for itself (*ownFaults). Every
// tier uses the same key, so that WithoutRequestFaults masks them with one value.
type requestKey struct{}

// ownFaults are the faults a request set for itself, as the tier that read them keeps them.
type ownFaults struct {
	tier   string
	faults any             // *T of tier: the service's faults with the request's on top; nil when it set none here
	knobs  map[string]bool // the knobs of tier the request set
	// calls: the request's faults change the calls tier makes for it, through its call
	// knobs or through knobs of a tier further down, which the calls carry there.
	calls bool
}

// Wrap serves one route of the service with its faults:
//   - when enabled, the request's own faults, from the X-Pillars-Fault header (checked: a
//     mistake is a 400 naming the knob) or, behind the edge, from the baggage the caller sent
//     on, over the service's: the spec is put into the request's baggage for the next tier,
//     and the knobs this tier takes from it are noted on its span (pillars.fault.request);
//   - the route faults (route_latency, route_error_rate) when the knobs are RouteFaults and
//     name this route or none.
//
// What a service does not admit does not travel on: with request faults off, and at the edge
// (AtEdge) always, a pillars.fault member in the caller's baggage is dropped before the route
// runs, so that no call made for the request carries it inward.
//
// route is the route template ("/user/{id}").
func (s *Switch[T]) Wrap(route string, enabled bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.edge || !enabled {
			if ctx := withoutFaultBaggage(r.Context()); ctx != r.Context() {
				r = r.WithContext(ctx)
			}
		}
		if enabled {
			ctx, err := s.withRequestFaults(r)
			if err != nil {
				s.writeError(w, r, http.StatusBadRequest, err)
				return
			}
			r = r.WithContext(ctx)
		}
		if rf, ok := any(*s.ForRequest(r.Context())).(RouteFaults); ok {
			if err := applyRouteFaults(r.Context(), &s.labels, rf.RouteKnobs(), route); err != nil {
				s.writeError(w, r, statusOfRouteFault(err), s.Unlabel(err, "internal server error"))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Switch[T]) writeError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if s.opts.writeError != nil {
		s.opts.writeError(w, r, status, err)
		return
	}
	http.Error(w, err.Error(), status)
}

// withRequestFaults reads the request's spec and returns a context carrying it in baggage
// and the request's own faults.
func (s *Switch[T]) withRequestFaults(r *http.Request) (context.Context, error) {
	ctx := r.Context()
	var settings []setting
	if spec := r.Header.Get(Header); spec != "" {
		var err error
		if settings, err = s.header.parse(spec); err != nil {
			return ctx, err
		}
		m, err := baggage.NewMemberRaw(baggageKey, encodeSpec(settings))
		if err != nil {
			return ctx, fmt.Errorf("%s cannot travel in baggage: %w", Header, err)
		}
		b, err := baggage.FromContext(ctx).SetMember(m)
		if err != nil {
			return ctx, fmt.Errorf("%s cannot travel in baggage: %w", Header, err)
		}
		ctx = baggage.ContextWithBaggage(ctx, b)
	} else if m := baggage.FromContext(ctx).Member(baggageKey); m.Key() != "" {
		var err error
		if settings, err = s.header.parse(m.Value()); err != nil {
			// Checked at the edge already: a caller that sent a bad spec directly is ignored,
			// not failed, since the request itself is fine.
			return ctx, nil
		}
	}
	own := &ownFaults{tier: s.tier}
	var mine []setting
	for _, st := range settings {
		switch {
		case st.tier == s.tier:
			mine = append(mine, st)
			if own.knobs == nil {
				own.knobs = map[string]bool{}
			}
			own.knobs[st.knob] = true
			own.calls = own.calls || s.cat.isCallKnob(st.knob)
		case isFurtherDown(st.tier, s.tier):
			own.calls = true
		}
	}
	if len(mine) == 0 && !own.calls {
		return ctx, nil
	}
	if len(mine) > 0 {
		v := *s.current.Load()
		rv := reflect.ValueOf(&v)
		for _, st := range mine {
			if err := s.cat.setText(rv, st.knob, st.value); err != nil {
				return ctx, err
			}
		}
		own.faults = &v
		s.Annotate(ctx, attrRequestFaults.String(encodeSpec(mine)))
	}
	return context.WithValue(ctx, requestKey{}, own), nil
}

// own returns the faults the request in ctx set for itself at this tier, nil when none.
func (s *Switch[T]) own(ctx context.Context) *ownFaults {
	if o, _ := ctx.Value(requestKey{}).(*ownFaults); o != nil && o.tier == s.tier {
		return o
	}
	return nil
}

// SetsOwn reports whether the request in ctx set knob for itself, with X-Pillars-Fault.
func (s *Switch[T]) SetsOwn(ctx context.Context, knob string) bool {
	o := s.own(ctx)
	return o != nil && o.knobs[knob]
}

// OwnCallFaults reports whether the request in ctx has faults of its own that change the
// calls this tier makes for it: its own call knobs (call_latency, call_drop_rate,
// call_refuse_rate), or knobs of a tier further down, which its calls carry there. A call
// made for such a request is its own: it must not be shared with other requests, nor its
// answer kept for them.
func (s *Switch[T]) OwnCallFaults(ctx context.Context) bool {
	o := s.own(ctx)
	return o != nil && o.calls
}

// WithoutRequestFaults returns ctx without the faults the request set for itself: the same
// trace and values, but no request faults at any tier and no pillars.fault baggage member for
// the next. Work done for other requests as well (a load they share) runs under it, since one
// request's faults must never reach a call made for others.
func WithoutRequestFaults(ctx context.Context) context.Context {
	if ctx.Value(requestKey{}) != nil {
		ctx = context.WithValue(ctx, requestKey{}, (*ownFaults)(nil))
	}
	return withoutFaultBaggage(ctx)
}

// withoutFaultBaggage drops the pillars.fault member from ctx's baggage; ctx itself when it
// has none.
func withoutFaultBaggage(ctx context.Context) context.Context {
	b := baggage.FromContext(ctx)
	if b.Member(baggageKey).Key() == "" {
		return ctx
	}
	return baggage.ContextWithBaggage(ctx, b.DeleteMember(baggageKey))
}

// isFurtherDown reports whether tier is called, directly or not, by from.
func isFurtherDown(tier, from string) bool {
	order := Tiers()
	return slices.Index(order, tier) > slices.Index(order, from)
}

// errRouteFault marks a request failed on purpose by route_error_rate.
var errRouteFault = errors.New("the route failed on purpose (fault injection)")

func statusOfRouteFault(err error) int {
	if errors.Is(err, errRouteFault) {
		return http.StatusInternalServerError
	}
	return 499 // the caller left while the route latency ran
}

// applyRouteFaults waits the route latency and fails at the route error rate, when the knobs
// name this route or none.
func applyRouteFaults(ctx context.Context, labels *Labels, k HTTP, route string) error {
	if k.Route != "" && k.Route != route {
		return nil
	}
	if k.RouteLatency > 0 {
		annotate(labels, ctx, attribute.Int64("pillars.fault.route_latency_ms", k.RouteLatency.D().Milliseconds()))
		if err := Sleep(ctx, k.RouteLatency.D()); err != nil {
			return err
		}
	}
	if Happens(k.RouteErrorRate) {
		annotate(labels, ctx, attribute.Bool("pillars.fault.route_error", true))
		return errRouteFault
	}
	return nil
}

// Happens reports true with probability r.
func Happens(r Rate) bool { return r > 0 && (r >= 1 || rand.Float64() < float64(r)) }

// Sleep waits d, or less if ctx ends first (then it returns ctx's cause).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
