package agent

import (
	"slices"
	"testing"
)

func TestRandomIsSeededAndUniform(t *testing.T) {
	if Random(7) != Random(7) {
		t.Fatal("the same seed gave two guesses")
	}
	const n = 8000
	services := map[string]int{}
	kinds := map[string]int{}
	for seed := range uint64(n) {
		d := Random(seed + 1)
		services[d.Service]++
		kinds[d.Kind]++
		if d.Service != None && (!slices.Contains(Services, d.Service) || !slices.Contains(Kinds, d.Kind) || d.Component != "" && !slices.Contains(Components, d.Component)) {
			t.Fatalf("seed %d: %+v is outside the vocabulary", seed+1, d)
		}
	}
	// Each of four services (with none) a quarter of the time, within a few percent.
	for _, s := range append([]string{None}, Services...) {
		if share := float64(services[s]) / n; share < 0.22 || share > 0.28 {
			t.Errorf("service %s guessed %.3f of the time, want about 0.25", s, share)
		}
	}
	for _, k := range Kinds {
		if kinds[k] == 0 {
			t.Errorf("kind %s never guessed", k)
		}
	}
}
