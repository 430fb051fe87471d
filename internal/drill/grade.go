package drill

import (
	"time"
)

// Grade is the exact, documented score of one diagnosis against its key (no judge):
//   - Service: 1 when the diagnosis names the key's service (localisation);
//   - Kind: 1 when it names the key's root-cause kind;
//   - Component: 1 when it names the key's component; when the key has none (the kind has
//     no component, e.g. a memory leak), the component point follows the kind point;
//   - Points: their sum, 0 to 3; Exact when all three;
//   - on an episode with no incident, "none" earns all 3 points and anything else is a
//     FalseAlarm with 0; on an episode with one, "none" is a Miss with 0;
//   - TimeToDiagnosis: from the moment the symptoms were seen (manifestation; for an episode
//     without incident, from when it was ready) to the answer;
//   - StartError: how far the diagnosis's start is from the key's, when both are given
//     (reported, not scored).
type Grade struct {
	Service         int           `json:"service"`
	Kind            int           `json:"kind"`
	Component       int           `json:"component"`
	Points          int           `json:"points"`
	Exact           bool          `json:"exact"`
	FalseAlarm      bool          `json:"false_alarm,omitempty"`
	Miss            bool          `json:"miss,omitempty"`
	TimeToDiagnosis time.Duration `json:"time_to_diagnosis"`
	StartError      time.Duration `json:"start_error,omitempty"`
}

// MaxPoints is the score of a perfect diagnosis.
const MaxPoints = 3

// GradeDiagnosis grades d against key; ready is when the episode became diagnosable, answered
// when d came.
func GradeDiagnosis(key Key, d Diagnosis, ready, answered time.Time) Grade {
	g := Grade{TimeToDiagnosis: answered.Sub(ready).Round(time.Millisecond)}
	incident := key.Service != NoIncident
	switch {
	case !incident && d.Service == NoIncident:
		g.Service, g.Kind, g.Component = 1, 1, 1
	case !incident:
		g.FalseAlarm = true
	case d.Service == NoIncident:
		g.Miss = true
	default:
		g.Service = b2i(d.Service == key.Service)
		g.Kind = b2i(d.Kind == key.Kind)
		if key.Component == "" {
			g.Component = g.Kind
		} else {
			g.Component = b2i(d.Component == key.Component)
		}
	}
	g.Points = g.Service + g.Kind + g.Component
	g.Exact = g.Points == MaxPoints
	if d.Start != "" && !key.Start.IsZero() {
		if t, err := time.Parse(time.RFC3339, d.Start); err == nil {
			g.StartError = t.Sub(key.Start).Abs().Round(time.Second)
		}
	}
	return g
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
