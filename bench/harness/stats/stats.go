// Package stats holds the few summaries the benchmark reports: exact percentiles of latencies
// (nearest rank, no sketch: a run keeps every sample, and p99.9 of a few thousand requests must
// not be smoothed away), and the median and spread of one figure over rounds.
package stats

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the nearest-rank q-quantile (0 < q ≤ 1) of sorted: the smallest value
// with at least q of the samples at or below it. Zero for no samples.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Latencies are the latency percentiles reported for one run.
type Latencies struct {
	P50, P90, P99, P999, Max time.Duration
	N                        int
}

// Summarize sorts ds in place and returns its percentiles.
func Summarize(ds []time.Duration) Latencies {
	slices.Sort(ds)
	l := Latencies{N: len(ds)}
	if len(ds) == 0 {
		return l
	}
	l.P50, l.P90 = Percentile(ds, 0.50), Percentile(ds, 0.90)
	l.P99, l.P999 = Percentile(ds, 0.99), Percentile(ds, 0.999)
	l.Max = ds[len(ds)-1]
	return l
}

// Spread is a figure over rounds: the median and the range.
type Spread struct {
	Median, Min, Max float64
	N                int
}

// Of summarises xs; NaN values (a round that could not measure the figure) are left out.
func Of(xs []float64) Spread {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Spread{Median: m, Min: v[0], Max: v[len(v)-1], N: len(v)}
}
