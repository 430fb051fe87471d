package stats

import (
	"math"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..1000 ms: the nearest-rank p50 is the 500th value, p99 the 990th, p99.9 the 999th.
	ds := make([]time.Duration, 1000)
	for i := range ds {
		ds[len(ds)-1-i] = time.Duration(i+1) * time.Millisecond // reversed: Summarize sorts
	}
	l := Summarize(ds)
	want := Latencies{P50: 500 * time.Millisecond, P90: 900 * time.Millisecond, P99: 990 * time.Millisecond,
		P999: 999 * time.Millisecond, Max: 1000 * time.Millisecond, N: 1000}
	if l != want {
		t.Fatalf("Summarize = %+v, want %+v", l, want)
	}
}

func TestPercentileSmallSamples(t *testing.T) {
	ds := []time.Duration{3, 1, 2}
	l := Summarize(ds)
	// With three samples, p50 is the 2nd (ceil(1.5)), every higher quantile the 3rd.
	if l.P50 != 2 || l.P99 != 3 || l.P999 != 3 || l.Max != 3 {
		t.Fatalf("Summarize(3 samples) = %+v", l)
	}
	if got := Percentile(nil, 0.99); got != 0 {
		t.Fatalf("Percentile(nil) = %v, want 0", got)
	}
	if got := Percentile([]time.Duration{7}, 0.001); got != 7 {
		t.Fatalf("Percentile(one sample, tiny q) = %v, want 7", got)
	}
}

func TestSpread(t *testing.T) {
	s := Of([]float64{5, 1, math.NaN(), 3, 9})
	if s != (Spread{Median: 4, Min: 1, Max: 9, N: 4}) {
		t.Fatalf("Of(even count) = %+v", s)
	}
	s = Of([]float64{5, 1, 3})
	if s != (Spread{Median: 3, Min: 1, Max: 5, N: 3}) {
		t.Fatalf("Of(odd count) = %+v", s)
	}
	if s := Of([]float64{math.NaN()}); !math.IsNaN(s.Median) || s.N != 0 {
		t.Fatalf("Of(no value) = %+v, want NaN", s)
	}
}
