package drill

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// Episode is one drill: what goes wrong (or nothing), where, how badly, when, and what else
// happens that looks suspicious but causes nothing. All of it is secret while the drill runs:
// it lives in the state directory and in the process that runs the drill, never in a service.
type Episode struct {
	Seed int64 `json:"seed"`
	// Family is the kind of incident ("slow-database", ...), "" for an episode with none.
	Family string `json:"family"`
	// Magnitude says how bad, in a person's words ("latency=600ms").
	Magnitude string `json:"magnitude,omitempty"`
	// FaultAt is when the fault starts, after the episode starts (before time scaling).
	FaultAt time.Duration `json:"fault_at"`
	// Fault are the changes that make the incident, all at FaultAt.
	Fault []Step `json:"fault,omitempty"`
	// Distractors are harmless changes, each at its own time.
	Distractors []Distractor `json:"distractors,omitempty"`
	// QuietFor is how long an episode without incident waits, after its (absent) fault's
	// time, before it is ready: as long as symptoms take to show, so that the moment an
	// episode becomes ready does not tell whether it has an incident.
	QuietFor time.Duration `json:"quiet_for,omitempty"`
	// Signature is how the incident shows: symptom items only (metrics), never a label.
	Signature scenarios.Signature `json:"signature"`
	// Key is the answer.
	Key Key `json:"key"`
}

// Step is one change through a service's admin API: a PATCH of its faults, or of the
// frontend's traffic.
type Step struct {
	Service string         `json:"service,omitempty"`
	Patch   map[string]any `json:"patch,omitempty"`
	Traffic map[string]any `json:"traffic,omitempty"`
}

// Distractor is a change that looks suspicious but causes no incident: Do at At, Undo (when
// any) at At+For.
type Distractor struct {
	Name string        `json:"name"`
	At   time.Duration `json:"at"`
	For  time.Duration `json:"for,omitempty"`
	Do   Step          `json:"do"`
	Undo *Step         `json:"undo,omitempty"`
}

// Key is the answer of an episode: what a perfect diagnosis says. Start is filled in when the
// fault is applied.
type Key struct {
	Service   string    `json:"service"`
	Kind      string    `json:"kind"`
	Component string    `json:"component"`
	Start     time.Time `json:"start,omitzero"`
}

// Incident reports whether the episode has one.
func (e Episode) Incident() bool { return e.Family != "" }

// Generation bounds.
const (
	// noIncidentOneIn: one episode in this many has no incident, so that "none" must be earned.
	noIncidentOneIn = 8
	// distractorPercent of episodes get one distractor.
	distractorPercent = 40
	faultAtMin        = 20 * time.Second
	faultAtMax        = 2 * time.Minute
)

// Generate turns a seed into an episode. The same seed gives the same episode: every choice is
// drawn, in a fixed order, from one PCG stream of the seed.
func Generate(seed int64) Episode {
	r := rand.New(rand.NewPCG(uint64(seed), 0x70696c6c617273)) // "pillars"
	ep := Episode{Seed: seed, Key: Key{Service: NoIncident, Kind: NoIncident}}
	ep.FaultAt = faultAtMin + time.Duration(r.Int64N(int64(faultAtMax-faultAtMin)/int64(time.Second)))*time.Second
	if r.IntN(noIncidentOneIn) != 0 {
		f := families[r.IntN(len(families))]
		inc := f.draw(r)
		ep.Family, ep.Magnitude, ep.Fault, ep.Signature = f.name, inc.magnitude, inc.steps, scenarios.Signature{Metrics: inc.symptoms}
		ep.Key = Key{Service: inc.service, Kind: f.kind, Component: inc.component}
	}
	if r.IntN(100) < distractorPercent {
		if d, ok := drawDistractor(r, ep); ok {
			ep.Distractors = append(ep.Distractors, d)
		}
	}
	if !ep.Incident() { // drawn last: the draws above stay those of earlier versions
		ep.QuietFor = time.Duration(30+r.IntN(61)) * time.Second
	}
	return ep
}

// FamilyNames lists the incident families, in the generator's order.
func FamilyNames() []string {
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = f.name
	}
	return out
}

// DistractorNames lists the distractors.
func DistractorNames() []string {
	out := make([]string, len(distractors))
	for i, d := range distractors {
		out[i] = d.name
	}
	return out
}

// Describe says what the episode is, for the reveal.
func (e Episode) Describe() string {
	s := "no incident"
	if e.Incident() {
		s = fmt.Sprintf("%s (%s) on %s", e.Family, e.Magnitude, e.Key.Service)
		if e.Key.Component != "" {
			s += " " + e.Key.Component
		}
	}
	for _, d := range e.Distractors {
		s += "; distractor: " + d.Name
	}
	return s
}
