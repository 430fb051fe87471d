package runner

import (
	"math"
	"slices"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/stack"
)

// Configurations, by name, in the order every round runs them.
const (
	Relay   = "relay"    // bare net/http hops
	Off     = "off"      // telemetry off (metrics stay on unless the services can turn them off)
	Traces  = "traces"   // spans alone, 100 % sampled, with their exemplars
	Logs    = "logs"     // log lines alone, on stdout and shipped
	Metrics = "metrics"  // metrics alone, where they can be turned off for the others
	All     = "all"      // every signal: the deployment's
	AllDown = "all-down" // every signal on, every telemetry backend down
)

// StandardConfigs are the configurations of a run. metricsSwitch says whether the services
// accept PILLARS_METRICS=false: only then are "off" and the single signals free of metrics,
// and "metrics" a configuration of its own.
func StandardConfigs(metricsSwitch bool) []stack.Config {
	cs := []stack.Config{
		{Name: Relay, Relay: true},
		{Name: Off, NoMetrics: metricsSwitch},
		{Name: Traces, Traces: true, NoMetrics: metricsSwitch},
		{Name: Logs, Logs: true, NoMetrics: metricsSwitch},
	}
	if metricsSwitch {
		cs = append(cs, stack.Config{Name: Metrics})
	}
	return append(cs,
		stack.Config{Name: All, Traces: true, Logs: true},
		stack.Config{Name: AllDown, Traces: true, Logs: true, Down: true},
	)
}

// MainPath is the path measured for capacity and latency on each kind of stack.
func MainPath(k stack.Kind) string {
	if k == stack.Cached {
		return "cached-user"
	}
	return "uncached-user"
}

// sweeps run for these configurations only: the floor, telemetry off, and everything on.
func sweeps(config string) bool { return config == Relay || config == Off || config == All }

// latencyFor says which configurations get the open-loop runs: all but the one with the
// backends down, whose question is throughput and memory.
func latencyFor(config string) bool { return config != AllDown }

// Grid is the open-loop rates of one configuration: fractions of its own capacity, and half
// of telemetry-off's capacity (the rate at which the bar compares the two), sorted, without
// near-duplicates.
func Grid(capacity, offCapacity float64, fractions []float64) []float64 {
	var rates []float64
	add := func(r float64) {
		r = math.Round(r)
		if r < 1 {
			return
		}
		for _, x := range rates {
			if math.Abs(x-r) <= 0.03*r {
				return
			}
		}
		rates = append(rates, r)
	}
	if offCapacity > 0 {
		add(offCapacity / 2)
	}
	for _, f := range fractions {
		add(f * capacity)
	}
	slices.Sort(rates)
	return rates
}

// Durations of one run.
type Durations struct {
	Warmup      time.Duration // before each window; the first run of a stack gets twice this
	Capacity    time.Duration // saturation window
	Latency     time.Duration // open-loop window
	Sweep       time.Duration // connection and payload windows
	Calibration time.Duration // round 0
	Soak        time.Duration // 0: no soak
}

// FullDurations are `make bench`'s.
var FullDurations = Durations{
	Warmup: 500 * time.Millisecond, Capacity: 3 * time.Second, Latency: 2 * time.Second,
	Sweep: 2 * time.Second, Calibration: 2 * time.Second, Soak: 5 * time.Minute,
}

// QuickDurations are the smoke run's: enough to see that everything works, not to measure.
var QuickDurations = Durations{
	Warmup: 200 * time.Millisecond, Capacity: time.Second, Latency: 500 * time.Millisecond,
	Sweep: 300 * time.Millisecond, Calibration: 500 * time.Millisecond,
}
