package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
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

type requestKey[T any] struct{}

// Wrap serves one route of the service with its faults:
//   - when enabled, the request's own faults, from the X-Pillars-Fault header (checked: a
//     mistake is a 400 naming the knob) or from the baggage a caller sent on, over the
//     service's: the spec is put into the request's baggage for the next tier, and the knobs
//     this tier takes from it are noted on its span (pillars.fault.request);
//   - the route faults (route_latency, route_error_rate) when the knobs are RouteFaults and
//     name this route or none.
//
// route is the route template ("/user/{id}").
func (s *Switch[T]) Wrap(route string, enabled bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
// and this tier's faults for the request.
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
	var mine []setting
	for _, st := range settings {
		if st.tier == s.tier {
			mine = append(mine, st)
		}
	}
	if len(mine) == 0 {
		return ctx, nil
	}
	v := *s.current.Load()
	rv := reflect.ValueOf(&v)
	for _, st := range mine {
		if err := s.cat.setText(rv, st.knob, st.value); err != nil {
			return ctx, err
		}
	}
	s.Annotate(ctx, attrRequestFaults.String(encodeSpec(mine)))
	return context.WithValue(ctx, requestKey[T]{}, &v), nil
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
