package drill

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The same seed gives the same episode, and different seeds give different ones.
func TestGenerateIsDeterministic(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		a, b := Generate(seed), Generate(seed)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two episodes differ:\n%+v\n%+v", seed, a, b)
		}
	}
	distinct := map[string]bool{}
	for seed := int64(0); seed < 50; seed++ {
		b, _ := json.Marshal(Generate(seed))
		distinct[string(b)] = true
	}
	if len(distinct) < 40 {
		t.Errorf("50 seeds gave only %d distinct episodes", len(distinct))
	}
}

// A fixed seed set covers every family, every distractor and episodes without incident; and
// every episode is well formed: its key in the vocabulary, its symptoms free of labels.
func TestGenerateCoversEveryFamily(t *testing.T) {
	families, distractors, none := map[string]int{}, map[string]int{}, 0
	for seed := int64(1); seed <= 300; seed++ {
		ep := Generate(seed)
		if !ep.Incident() {
			none++
			if ep.Key.Service != NoIncident || ep.Key.Kind != NoIncident || len(ep.Fault) != 0 {
				t.Errorf("seed %d: no incident but key %+v, fault %+v", seed, ep.Key, ep.Fault)
			}
		} else {
			families[ep.Family]++
			d := Diagnosis{Service: ep.Key.Service, Kind: ep.Key.Kind, Component: ep.Key.Component}
			if err := d.Validate(); err != nil {
				t.Errorf("seed %d (%s): its key is not a valid diagnosis: %v", seed, ep.Family, err)
			}
			if len(ep.Signature.Metrics) == 0 || len(ep.Signature.Traces)+len(ep.Signature.Logs)+len(ep.Signature.Alerts) != 0 {
				t.Errorf("seed %d (%s): want metric symptoms only, got %+v", seed, ep.Family, ep.Signature)
			}
			for _, m := range ep.Signature.Metrics {
				if strings.Contains(m.Query, "pillars_faults_active") || strings.Contains(m.Query, "pillars_scenario_active") {
					t.Errorf("seed %d: symptom %q reads a label", seed, m.Query)
				}
			}
		}
		if ep.FaultAt < faultAtMin || ep.FaultAt >= faultAtMax {
			t.Errorf("seed %d: fault at %s, outside [%s, %s)", seed, ep.FaultAt, faultAtMin, faultAtMax)
		}
		for _, x := range ep.Distractors {
			distractors[x.Name]++
		}
	}
	for _, f := range FamilyNames() {
		if families[f] == 0 {
			t.Errorf("family %s never drawn in 300 seeds", f)
		}
	}
	for _, d := range DistractorNames() {
		if distractors[d] == 0 {
			t.Errorf("distractor %s never drawn in 300 seeds", d)
		}
	}
	if none == 0 {
		t.Error("no episode without incident in 300 seeds")
	}
}

// Every kind the families use is in the vocabulary.
func TestFamiliesUseKnownKinds(t *testing.T) {
	for _, f := range families {
		if !known(Kinds(), f.kind) {
			t.Errorf("family %s has kind %q, not in Kinds()", f.name, f.kind)
		}
	}
}
