package runner

import (
	"slices"
	"testing"

	"github.com/pillars-o11y/pillars/bench/harness/stack"
)

func TestGrid(t *testing.T) {
	// All at 8000 req/s, off at 10000: its own 50/75/90 % and off's half, 5000.
	got := Grid(8000, 10000, []float64{0.5, 0.75, 0.9})
	if want := []float64{4000, 5000, 6000, 7200}; !slices.Equal(got, want) {
		t.Fatalf("Grid = %v, want %v", got, want)
	}
	// Off itself: its half is already in the list once.
	got = Grid(10000, 10000, []float64{0.5, 0.75})
	if want := []float64{5000, 7500}; !slices.Equal(got, want) {
		t.Fatalf("Grid(off) = %v, want %v", got, want)
	}
	if got := Grid(0, 0, []float64{0.5}); len(got) != 0 {
		t.Fatalf("Grid of nothing = %v", got)
	}
}

func TestStandardConfigs(t *testing.T) {
	names := func(cs []stack.Config) (n []string) {
		for _, c := range cs {
			n = append(n, c.Name)
		}
		return n
	}
	without := StandardConfigs(false)
	if want := []string{Relay, Off, Traces, Logs, All, AllDown}; !slices.Equal(names(without), want) {
		t.Fatalf("configs = %v, want %v", names(without), want)
	}
	for _, c := range without {
		if c.NoMetrics {
			t.Fatalf("%s turns metrics off, but the services have no switch", c.Name)
		}
	}
	with := StandardConfigs(true)
	if !slices.Contains(names(with), Metrics) {
		t.Fatalf("configs with a metrics switch = %v, want a metrics-only one", names(with))
	}
	for _, c := range with {
		if want := c.Name != Metrics && c.Name != All && c.Name != AllDown && c.Name != Relay; c.NoMetrics != want {
			t.Errorf("%s: NoMetrics = %v, want %v", c.Name, c.NoMetrics, want)
		}
	}
}
