package report

import (
	"fmt"
	"math"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/results"
)

// Status of a bar.
type Status string

const (
	Met         Status = "met"
	NotMet      Status = "not met"
	NotMeasured Status = "not measured"
)

// Bar is one of the bars, as measured.
type Bar struct {
	What     string // the bar
	Path     string // cached, uncached, or "" for both/none
	Measured string // the figure
	Status   Status
}

func status(ok bool) Status {
	if ok {
		return Met
	}
	return NotMet
}

// Thresholds of the bars.
const (
	MaxTelemetryCost = 0.15 // of telemetry-off throughput
	MinOfRelay       = 0.40 // of the bare relay's
	MaxP99Ratio      = 1.25 // all's p99 over off's, at half of off's capacity
	MaxRSS           = 40e6 // bytes, each service under saturation
	MinDownRatio     = 0.95 // throughput with the backends down over up
	MaxSoakGrowth    = 0.10 // resident memory, last minute over first
	MaxFirstSignal   = 15 * time.Second
	minSoakForFlat   = 5 * time.Minute
	soakEdgeWindow   = time.Minute
	pathCached       = "cached"
	pathUncached     = "uncached"
	configRelay      = "relay"
	configOff        = "off"
	configAll        = "all"
	configAllDown    = "all-down"
)

var pathNames = map[string]string{pathCached: "cached user, 2 hops", pathUncached: "uncached user, 3 hops + SQLite"}

// Bars evaluates every bar of the issue on the run.
func (v View) Bars() []Bar {
	var bars []Bar
	for _, path := range []string{pathCached, pathUncached} {
		bars = append(bars, v.ratioBar(path, configAll, configOff, 1-MaxTelemetryCost,
			fmt.Sprintf("every signal on costs ≤ %.0f %% of telemetry-off throughput", MaxTelemetryCost*100)))
	}
	for _, path := range []string{pathCached, pathUncached} {
		bars = append(bars, v.ratioBar(path, configAll, configRelay, MinOfRelay,
			fmt.Sprintf("every signal on ≥ %.2f of the bare relay", MinOfRelay)))
	}
	for _, path := range []string{pathCached, pathUncached} {
		bars = append(bars, v.p99Bar(path))
	}
	bars = append(bars, v.rssBar())
	for _, path := range []string{pathCached, pathUncached} {
		bars = append(bars, v.ratioBar(path, configAllDown, configAll, MinDownRatio,
			fmt.Sprintf("every backend down: throughput ≥ %.2f × with them up", MinDownRatio)))
	}
	bars = append(bars, v.soakBar(), v.firstSignalBar())
	return bars
}

func (v View) ratioBar(path, a, b string, min float64, what string) Bar {
	bar := Bar{What: what, Path: pathNames[path]}
	r := v.Ratio(path, a, b)
	if r.N == 0 {
		bar.Status, bar.Measured = NotMeasured, fmt.Sprintf("no round measured both %s and %s", a, b)
		return bar
	}
	// Two decimals, or three where two would round a miss onto the bar itself.
	digits := 2
	if fmt.Sprintf("%.2f", r.Median) == fmt.Sprintf("%.2f", min) && r.Median < min {
		digits = 3
	}
	bar.Measured = fmt.Sprintf("%s / %s = %.*f (per round %.2f–%.2f): %s vs %s req/s", a, b, digits, r.Median, r.Min, r.Max,
		Num(v.Capacity(path, a).Median), Num(v.Capacity(path, b).Median))
	bar.Status = status(r.Median >= min)
	return bar
}

// p99Bar compares all's and off's p99 at half of off's calibrated capacity.
func (v View) p99Bar(path string) Bar {
	bar := Bar{What: fmt.Sprintf("p99 at half of telemetry-off capacity ≤ %.2f × telemetry-off's", MaxP99Ratio), Path: pathNames[path]}
	rate := v.HalfOffRate(path)
	all, okAll := v.pointAt(path, configAll, rate)
	off, okOff := v.pointAt(path, configOff, rate)
	if !okAll || !okOff || off.P99.Median <= 0 {
		bar.Status, bar.Measured = NotMeasured, "no open-loop run of both at the same rate"
		return bar
	}
	ratio := all.P99.Median / off.P99.Median
	bar.Measured = fmt.Sprintf("at %s req/s: all %s, off %s (× %.2f)", Num(rate), Ms(all.P99.Median), Ms(off.P99.Median), ratio)
	bar.Status = status(ratio <= MaxP99Ratio)
	return bar
}

// HalfOffRate is half of off's calibrated capacity, rounded as the grid rounds it: every
// configuration's grid has this very rate.
func (v View) HalfOffRate(path string) float64 {
	for _, m := range v.Run.Measurements {
		if m.Kind == results.KindCalibration && m.Stack == path && m.Config == configOff {
			return math.Round(m.Load.Throughput / 2)
		}
	}
	return math.NaN()
}

func (v View) pointAt(path, config string, rate float64) (LatencyPoint, bool) {
	for _, p := range v.Latency(path, config) {
		if p.Rate == rate {
			return p, true
		}
	}
	return LatencyPoint{}, false
}

func (v View) rssBar() Bar {
	bar := Bar{What: fmt.Sprintf("resident memory of each service under saturation ≤ %.0f MB", MaxRSS/1e6)}
	worst, where := 0.0, ""
	var parts []string
	for _, s := range Services {
		top := 0.0
		for _, path := range []string{pathCached, pathUncached} {
			if r := v.RSS(path, configAll, s); r.N > 0 && r.Median > top {
				top = r.Median
			}
		}
		if top == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", s, MB(top)))
		if top > worst {
			worst, where = top, s
		}
	}
	if len(parts) == 0 {
		bar.Status, bar.Measured = NotMeasured, "no saturation run of every signal on"
		return bar
	}
	bar.Measured = fmt.Sprintf("every signal on, highest VmRSS (median of rounds, worse path): %s; largest %s", join(parts), where)
	bar.Status = status(worst <= MaxRSS)
	return bar
}

func (v View) soakBar() Bar {
	bar := Bar{What: fmt.Sprintf("every backend down: memory flat over %s", minSoakForFlat)}
	s := v.Run.Soak
	if s == nil || len(s.Samples) < 2 {
		bar.Status, bar.Measured = NotMeasured, "no soak in this run"
		return bar
	}
	growth, figures := SoakGrowth(s)
	bar.Measured = fmt.Sprintf("%s saturated for %s: %s", s.Config, s.Duration, figures)
	if s.Duration < minSoakForFlat {
		bar.Status = NotMeasured
		bar.Measured += fmt.Sprintf(" (a soak shorter than %s)", minSoakForFlat)
		return bar
	}
	bar.Status = status(growth <= MaxSoakGrowth)
	return bar
}

// SoakGrowth is the largest relative growth of a service's resident memory between the
// first and the last minute of the soak (the highest reading of each), and the figures.
func SoakGrowth(s *results.Soak) (float64, string) {
	edge := min(soakEdgeWindow, s.Duration/5)
	worst := 0.0
	var parts []string
	for _, svc := range Services {
		first, last := 0.0, 0.0
		for _, smp := range s.Samples {
			r := float64(smp.RSS[svc])
			if smp.At <= edge {
				first = max(first, r)
			}
			if smp.At >= s.Duration-edge {
				last = max(last, r)
			}
		}
		if first == 0 || last == 0 {
			continue
		}
		g := last/first - 1
		worst = max(worst, g)
		parts = append(parts, fmt.Sprintf("%s %s → %s", svc, MB(first), MB(last)))
	}
	return worst, fmt.Sprintf("first vs last %s: %s (largest growth %+.0f %%)", edge, join(parts), worst*100)
}

func (v View) firstSignalBar() Bar {
	bar := Bar{What: fmt.Sprintf("first trace, log line and sample queryable ≤ %s after `make up`'s services are ready", MaxFirstSignal)}
	f := v.Run.FirstSignal
	if f == nil || !f.Measured {
		bar.Status = NotMeasured
		bar.Measured = "not run"
		if f != nil {
			bar.Measured = f.Why
		}
		return bar
	}
	worst := max(f.Trace, f.Log, f.Sample)
	bar.Measured = fmt.Sprintf("trace %s, log line %s, sample %s", f.Trace.Round(100*time.Millisecond), f.Log.Round(100*time.Millisecond), f.Sample.Round(100*time.Millisecond))
	if !f.At.IsZero() && v.Run.Finished.Sub(f.At).Abs() > 2*time.Minute {
		bar.Measured += fmt.Sprintf(" (measured apart from the run, %s)", f.At.UTC().Format("2006-01-02 15:04 MST"))
	}
	bar.Status = status(worst <= MaxFirstSignal)
	return bar
}
