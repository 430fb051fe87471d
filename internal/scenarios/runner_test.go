package scenarios

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/pillars-o11y/pillars/internal/traffic"
)

// fakeService records the fault documents it is sent, with the bubble time of each.
type fakeService struct {
	name  string
	calls *callLog
}

type callLog struct {
	mu    sync.Mutex
	start time.Time
	lines []string
}

func (c *callLog) add(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, fmt.Sprintf("%s ", time.Since(c.start).Round(time.Millisecond))+fmt.Sprintf(format, args...))
}

func (c *callLog) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

func (f fakeService) PatchLeased(_ context.Context, knobs map[string]any, _ time.Duration) error {
	f.calls.add("%s PATCH %s", f.name, knobsText(knobs))
	return nil
}

func (f fakeService) ReplaceLeased(_ context.Context, knobs map[string]any, _ time.Duration) error {
	f.calls.add("%s PUT {%s}", f.name, knobsText(knobs))
	return nil
}

// Renew is not logged: it comes every few seconds.
func (f fakeService) Renew(context.Context, time.Duration) error { return nil }

func (f fakeService) Release(context.Context) (bool, error) {
	f.calls.add("%s release", f.name)
	return true, nil
}

var testLibrary = fstest.MapFS{
	"slow.yaml": {Data: []byte(strings.Replace(good, "name: broken", "name: slow", 1))},
	"spike.yaml": {Data: []byte(`name: spike
title: Spike
story: Traffic spikes.
duration: 20s
steps:
  - {at: 0s, traffic: {rate: 40, duration: 10s}}
  - {at: 5s, service: backend, put: {cache_off: true}}
signature:
  metrics: [{name: m, query: up, above: 0}]
  traces: [{service: backend, span: backend_get_user, attribute: pillars.fault.cache_off}]
  logs: [{service: backend, level: warn, message: Cache emptied}]
  alerts: []
`)},
}

type runnerFixture struct {
	runner  *Runner
	calls   *callLog
	traffic *traffic.Generator
	reg     *prometheus.Registry
}

func newRunnerFixture(t *testing.T) *runnerFixture {
	t.Helper()
	lib, err := Load(testLibrary)
	if err != nil {
		t.Fatal(err)
	}
	calls := &callLog{start: time.Now()}
	gen, err := traffic.New(traffic.Config{BaseURL: "http://frontend.test", Initial: traffic.Defaults(2)})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	r, err := NewRunner(RunnerConfig{
		Library: lib,
		Faults: map[string]FaultTarget{
			"frontend": fakeService{"frontend", calls}, "backend": fakeService{"backend", calls}, "database": fakeService{"database", calls},
		},
		Traffic:  gen,
		Registry: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &runnerFixture{runner: r, calls: calls, traffic: gen, reg: reg}
}

func (f *runnerFixture) gauge(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			out[label(m, "scenario")] = m.GetGauge().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A scenario clears every service first, applies each step at its time, changes the traffic
// for as long as it says, and at its end releases every service's lease (their own faults come
// back) and puts the traffic back as it was; pillars_scenario_active says which one runs.
func TestRunnerRunsTheSteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRunnerFixture(t)
		if g := f.gauge(t); len(g) != 3 || g["slow"] != 0 || g["spike"] != 0 || g["hidden"] != 0 {
			t.Errorf("gauge before any run: %v, want every scenario and hidden at 0", g)
		}
		st, err := f.runner.Start(StartRequest{Name: "slow"})
		if err != nil {
			t.Fatal(err)
		}
		if !st.Active || st.Scenario != "slow" || st.Steps != 3 || st.Remaining.D() != time.Minute {
			t.Errorf("status at the start: %+v", st)
		}
		time.Sleep(20 * time.Second)
		if g := f.gauge(t); g["slow"] != 1 {
			t.Errorf("gauge while slow runs: %v", g)
		}
		if tr := f.traffic.Status(); tr.Shape != traffic.Wave || tr.Peak != 20 {
			t.Errorf("traffic during the scenario: %+v, want the wave of step 2", tr.Settings)
		}
		time.Sleep(10 * time.Second)
		st = f.runner.Status()
		if st.StepsDone != 2 || st.Remaining.D() != 30*time.Second || len(st.Events) != 2 || st.Events[1].Did != "traffic: duration=20s, peak=20, period=30s, rate=5, shape=wave" {
			t.Errorf("status half way: %+v", st)
		}
		time.Sleep(31 * time.Second)
		want := []string{
			"0s frontend PUT {}", "0s backend PUT {}", "0s database PUT {}",
			"0s database PATCH latency=300ms",
			"50s frontend PUT {}", "50s backend PUT {}", "50s database PUT {}", // step 3: clear: true
			"1m0s frontend release", "1m0s backend release", "1m0s database release", // the end
		}
		if got := f.calls.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("calls:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		st = f.runner.Status()
		if st.Active || st.Outcome != Completed || st.Elapsed.D() != time.Minute {
			t.Errorf("status after the end: %+v", st)
		}
		if tr := f.traffic.Status(); tr.Settings != traffic.Defaults(2) {
			t.Errorf("traffic after the scenario: %+v, want 2/s steady as before", tr.Settings)
		}
		if g := f.gauge(t); g["slow"] != 0 {
			t.Errorf("gauge after the end: %v", g)
		}
	})
}

// A timescale runs the steps faster, traffic durations included.
func TestRunnerTimescale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRunnerFixture(t)
		if _, err := f.runner.Start(StartRequest{Name: "spike", Timescale: 10}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if tr := f.traffic.Status(); tr.Rate != 40 || tr.Until == nil || tr.Until.Sub(f.calls.start) != time.Second {
			t.Errorf("traffic at 10x: %+v until %v, want 40/s for 1 s", tr.Settings, tr.Until)
		}
		time.Sleep(2 * time.Second)
		want := []string{"0s frontend PUT {}", "0s backend PUT {}", "0s database PUT {}", "500ms backend PUT {cache_off=true}",
			"2s frontend release", "2s backend release", "2s database release"}
		if got := f.calls.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("calls:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// Stopping ends the run at once, clears and restores; one run at a time; names are checked.
func TestRunnerStopAndRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRunnerFixture(t)
		if _, err := f.runner.Start(StartRequest{Name: "spike"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.runner.Start(StartRequest{Name: "slow"}); err == nil || !strings.Contains(err.Error(), "a scenario is running (spike)") {
			t.Errorf("a second start: %v", err)
		}
		time.Sleep(6 * time.Second)
		st := f.runner.Stop()
		if st.Active || st.Outcome != Stopped || st.StepsDone != 2 {
			t.Errorf("status after stop: %+v", st)
		}
		if tr := f.traffic.Status(); tr.Settings != traffic.Defaults(2) || tr.Until != nil {
			t.Errorf("traffic after stop: %+v", tr)
		}
		if calls := f.calls.all(); calls[len(calls)-1] != "6s database release" {
			t.Errorf("last call %q, want the database's lease released at the stop", calls[len(calls)-1])
		}
		for _, req := range []StartRequest{{Name: "nope"}, {}, {Name: "slow", Timescale: 1000}} {
			if _, err := f.runner.Start(req); err == nil {
				t.Errorf("Start(%+v) accepted", req)
			}
		}
		f.runner.Close()
		if _, err := f.runner.Start(StartRequest{Name: "slow"}); err != ErrClosed {
			t.Errorf("a start after Close: %v", err)
		}
	})
}

// A blind run hides its name everywhere until revealed; the reveal names it from then on.
func TestRunnerBlind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRunnerFixture(t)
		if _, err := f.runner.Reveal(); err != ErrNothingToReveal {
			t.Errorf("reveal before any blind run: %v", err)
		}
		st, err := f.runner.Start(StartRequest{Blind: true})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		st = f.runner.Status()
		if st.Scenario != "hidden" || st.Title != "" || st.Events[0].Did != "" || f.gauge(t)["hidden"] != 1 {
			t.Errorf("blind status %+v, gauge %v", st, f.gauge(t))
		}
		rv, err := f.runner.Reveal()
		if err != nil || (rv.Scenario != "slow" && rv.Scenario != "spike") || !rv.Active || rv.Story == "" {
			t.Fatalf("reveal: %+v, %v", rv, err)
		}
		if g := f.gauge(t); g["hidden"] != 0 || g[rv.Scenario] != 1 {
			t.Errorf("gauge after the reveal: %v", g)
		}
		if st := f.runner.Status(); st.Scenario != rv.Scenario || st.Events[0].Did == "" {
			t.Errorf("status after the reveal: %+v", st)
		}
		f.runner.Stop()
	})
}

// Chaos mode starts a random scenario at every interval, and none while one runs.
func TestRunnerChaos(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newRunnerFixture(t)
		defer f.runner.Close()
		f.runner.StartChaos(5*time.Minute, false)
		time.Sleep(4 * time.Minute)
		if st := f.runner.Status(); st.Active || st.Chaos.D() != 5*time.Minute {
			t.Errorf("before the first interval: %+v", st)
		}
		time.Sleep(time.Minute + time.Second) // just past the interval: every scenario lasts longer
		st := f.runner.Status()
		if !st.Active {
			t.Fatalf("no scenario after the first interval: %+v", st)
		}
		f.runner.StartChaos(0, false)
		if st := f.runner.Status(); st.Chaos != 0 {
			t.Errorf("chaos still on: %+v", st)
		}
		f.runner.Close()
	})
}
