// Package report turns a run's measurements into what people read: medians and spread over
// rounds, the bars as met or not with their figures, and the tables of RESULTS.md.
package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/results"
	"github.com/pillars-o11y/pillars/bench/harness/stats"
)

// Services are the processes on the request path, in order.
var Services = []string{"frontend", "backend", "database"}

// View indexes one run's measurements.
type View struct {
	Run *results.Run
}

// of returns the reported measurements (round ≥ 1) that match.
func (v View) of(kind, stack, config string, match func(results.Measurement) bool) []results.Measurement {
	var ms []results.Measurement
	for _, m := range v.Run.Measurements {
		if m.Round >= 1 && m.Kind == kind && m.Stack == stack && m.Config == config && (match == nil || match(m)) {
			ms = append(ms, m)
		}
	}
	return ms
}

// byRound maps each round to the value f gives its measurement.
func byRound(ms []results.Measurement, f func(results.Measurement) float64) map[int]float64 {
	out := map[int]float64{}
	for _, m := range ms {
		out[m.Round] = f(m)
	}
	return out
}

func values(m map[int]float64) []float64 {
	var xs []float64
	for _, x := range m {
		xs = append(xs, x)
	}
	return xs
}

func throughput(m results.Measurement) float64 { return m.Load.Throughput }

// Capacity is a configuration's saturated throughput over rounds.
func (v View) Capacity(stack, config string) stats.Spread {
	return stats.Of(values(byRound(v.of(results.KindCapacity, stack, config, nil), throughput)))
}

// Ratio is a/b's capacity, round by round (both ran in the same round, minutes apart), so
// that drift of the machine between rounds cancels out.
func (v View) Ratio(stack, a, b string) stats.Spread {
	ra := byRound(v.of(results.KindCapacity, stack, a, nil), throughput)
	rb := byRound(v.of(results.KindCapacity, stack, b, nil), throughput)
	var xs []float64
	for round, x := range ra {
		if y, ok := rb[round]; ok && y > 0 {
			xs = append(xs, x/y)
		}
	}
	return stats.Of(xs)
}

// CPUPerRequest is a process's CPU time per request in the saturation window, in µs.
func (v View) CPUPerRequest(stack, config, process string) stats.Spread {
	return stats.Of(values(byRound(v.of(results.KindCapacity, stack, config, nil), func(m results.Measurement) float64 {
		c, ok := m.CPU[process]
		if !ok || m.Load.Requests == 0 {
			return math.NaN()
		}
		return float64(c) / float64(time.Microsecond) / float64(m.Load.Requests)
	})))
}

// RSS is a process's highest resident memory under saturation, in bytes, over rounds.
func (v View) RSS(stack, config, process string) stats.Spread {
	return stats.Of(values(byRound(v.of(results.KindCapacity, stack, config, nil), func(m results.Measurement) float64 {
		r, ok := m.RSS[process]
		if !ok {
			return math.NaN()
		}
		return float64(r)
	})))
}

// HWM is a service's peak resident memory since it started (VmHWM), read when the saturation
// window closed, over rounds.
func (v View) HWM(stack, config, process string) stats.Spread {
	return stats.Of(values(byRound(v.of(results.KindCapacity, stack, config, nil), func(m results.Measurement) float64 {
		r, ok := m.HWM[process]
		if !ok {
			return math.NaN()
		}
		return float64(r)
	})))
}

// PerRequest is a byte count per request in the saturation window, over rounds.
func (v View) PerRequest(stack, config string, bytes func(results.Measurement) int64) stats.Spread {
	return stats.Of(values(byRound(v.of(results.KindCapacity, stack, config, nil), func(m results.Measurement) float64 {
		if m.Load.Requests == 0 {
			return math.NaN()
		}
		return float64(bytes(m)) / float64(m.Load.Requests)
	})))
}

// Byte counts of a measurement.
func OTLPBytes(m results.Measurement) int64 { return m.Sink.OTLPBytes }
func LokiBytes(m results.Measurement) int64 { return m.Sink.LokiBytes }
func StdoutBytes(m results.Measurement) int64 {
	var n int64
	for _, s := range Services {
		n += m.Stdout[s]
	}
	return n
}

// ScrapeSize is the size of one scrape of every service's /metrics, as the sink last saw it
// in each round's run of the configuration (whichever of its windows came after a scrape),
// over rounds.
func (v View) ScrapeSize(stack, config string) stats.Spread {
	last := map[int]float64{}
	for _, m := range v.Run.Measurements {
		if m.Round >= 1 && m.Stack == stack && m.Config == config && m.Sink.ScrapeSize > 0 {
			last[m.Round] = float64(m.Sink.ScrapeSize)
		}
	}
	return stats.Of(values(last))
}

// LatencyPoint is one open-loop rate of one configuration, over rounds.
type LatencyPoint struct {
	Rate                float64
	P50, P99, P999, Lag stats.Spread
	Problems            int
}

// Latency lists a configuration's open-loop points, by rate.
func (v View) Latency(stack, config string) []LatencyPoint {
	byRate := map[float64][]results.Measurement{}
	for _, m := range v.of(results.KindLatency, stack, config, nil) {
		byRate[m.Rate] = append(byRate[m.Rate], m)
	}
	var pts []LatencyPoint
	for rate, ms := range byRate {
		p := LatencyPoint{Rate: rate}
		var p50, p99, p999, lag []float64
		for _, m := range ms {
			p50 = append(p50, float64(m.Load.Latency.P50))
			p99 = append(p99, float64(m.Load.Latency.P99))
			p999 = append(p999, float64(m.Load.Latency.P999))
			lag = append(lag, float64(m.Load.SendLagP99))
			if m.Problem != "" {
				p.Problems++
			}
		}
		p.P50, p.P99, p.P999, p.Lag = stats.Of(p50), stats.Of(p99), stats.Of(p999), stats.Of(lag)
		pts = append(pts, p)
	}
	slices.SortFunc(pts, func(a, b LatencyPoint) int { return cmp.Compare(a.Rate, b.Rate) })
	return pts
}

// SweepPoint is one closed-loop point of a sweep.
type SweepPoint struct {
	Throughput, P99, Bytes stats.Spread
}

// Conns is the connection sweep of a configuration on the cached path, the main saturation
// runs included at their number of connections.
func (v View) Conns(config string, conns int) SweepPoint {
	kind := results.KindConns
	if conns == v.Run.Method.Conns {
		kind = results.KindCapacity
	}
	return sweepPoint(v.of(kind, "cached", config, func(m results.Measurement) bool { return m.Conns == conns }))
}

// Payload is a path of the uncached stack at the saturation connections.
func (v View) Payload(config, path string) SweepPoint {
	kind := results.KindPayload
	if path == "uncached-user" {
		kind = results.KindCapacity
	}
	return sweepPoint(v.of(kind, "uncached", config, func(m results.Measurement) bool { return m.Path == path }))
}

func sweepPoint(ms []results.Measurement) SweepPoint {
	var tp, p99, b []float64
	for _, m := range ms {
		tp = append(tp, m.Load.Throughput)
		p99 = append(p99, float64(m.Load.Latency.P99))
		if m.Load.Requests > 0 {
			b = append(b, float64(m.Load.BytesIn)/float64(m.Load.Requests))
		}
	}
	return SweepPoint{Throughput: stats.Of(tp), P99: stats.Of(p99), Bytes: stats.Of(b)}
}

// Problems lists every doubtful measurement, calibration included.
func (v View) Problems() []results.Measurement {
	var ms []results.Measurement
	for _, m := range v.Run.Measurements {
		if m.Problem != "" {
			ms = append(ms, m)
		}
	}
	return ms
}

// otherShares are, for every reported measurement, the share of the machine's CPUs that
// other processes used during its window.
func (v View) otherShares() []float64 {
	var xs []float64
	for _, m := range v.Run.Measurements {
		if m.Round >= 1 && m.Load.Window > 0 && v.Run.Machine.CPUs > 0 {
			xs = append(xs, float64(m.OtherCPU)/float64(m.Load.Window)/float64(v.Run.Machine.CPUs))
		}
	}
	slices.Sort(xs)
	return xs
}

// Quietness says in words how much other work ran during the windows.
func (v View) Quietness() string {
	xs := v.otherShares()
	if len(xs) == 0 {
		return "other work during the windows not measured"
	}
	median, p90 := stats.Of(xs).Median, xs[min(len(xs)-1, len(xs)*9/10)]
	verdict := "a quiet machine"
	if median > 0.05 || p90 > 0.15 {
		verdict = "a busy machine: other work took CPU from the benchmark, and the figures are noisier for it"
	}
	return fmt.Sprintf("other processes used %.0f %% of the CPUs in the median window (%.0f %% in the 90th percentile): %s",
		median*100, p90*100, verdict)
}
