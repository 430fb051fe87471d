package drill

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// distractor is a change that looks like a cause and is not: it happens near the fault (or
// instead of one) and leaves the service healthy, or recovers by itself.
type distractor struct {
	name string
	// clashes says the episode already changes what the distractor would (the same knobs):
	// then another is drawn.
	clashes func(ep Episode) bool
	draw    func(r *rand.Rand) Distractor
}

var distractors = []distractor{
	{"version-bump", touches(Backend, "version"), func(r *rand.Rand) Distractor {
		v := fmt.Sprintf("1.%d.%d", 1+r.IntN(8), r.IntN(10))
		return Distractor{Name: "version-bump", Do: Step{Service: Backend, Patch: map[string]any{"version": v}}}
	}},
	{"traffic-spike", func(ep Episode) bool { return ep.Family == "cache-stampede" }, func(r *rand.Rand) Distractor {
		peak := pick(r, 10, 15, 20)
		return Distractor{Name: "traffic-spike", For: 40 * time.Second,
			Do:   Step{Traffic: map[string]any{"shape": "spike", "peak": peak, "width": "20s", "period": "10m"}},
			Undo: &Step{Traffic: map[string]any{"shape": "steady"}}}
	}},
	{"cache-flush", touches(Backend, "cache_off"), func(r *rand.Rand) Distractor {
		return Distractor{Name: "cache-flush", For: time.Duration(5+r.IntN(10)) * time.Second,
			Do:   Step{Service: Backend, Patch: map[string]any{"cache_off": true}},
			Undo: &Step{Service: Backend, Patch: map[string]any{"cache_off": false}}}
	}},
	{"healthy-route-latency", touches(Frontend, "route"), func(r *rand.Rand) Distractor {
		route := pickS(r, "/", "/user/{id}", "/product/{id}")
		return Distractor{Name: "healthy-route-latency",
			Do: Step{Service: Frontend, Patch: map[string]any{"route": route, "route_latency": ms(pick(r, 20, 40, 60))}}}
	}},
}

// touches says an episode's fault already sets knob on service.
func touches(service, knob string) func(Episode) bool {
	return func(ep Episode) bool {
		for _, st := range ep.Fault {
			if _, ok := st.Patch[knob]; ok && st.Service == service {
				return true
			}
		}
		return false
	}
}

// drawDistractor draws one that does not clash with ep, within a minute of its fault.
func drawDistractor(r *rand.Rand, ep Episode) (Distractor, bool) {
	d := distractors[r.IntN(len(distractors))]
	at := ep.FaultAt + time.Duration(r.IntN(121)-60)*time.Second
	if at < 5*time.Second {
		at = 5 * time.Second
	}
	if d.clashes(ep) {
		return Distractor{}, false
	}
	out := d.draw(r)
	out.At = at
	return out, true
}
