package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/load"
	"github.com/pillars-o11y/pillars/bench/harness/results"
	"github.com/pillars-o11y/pillars/bench/harness/stats"
)

func capacity(round int, stack, config string, tp float64, rss int64) results.Measurement {
	return results.Measurement{Round: round, Kind: results.KindCapacity, Stack: stack, Config: config, Conns: 32,
		Load: load.Result{Throughput: tp, Requests: uint64(tp * 3)},
		RSS:  map[string]int64{"frontend": rss, "backend": rss / 2, "database": rss / 2},
		CPU:  map[string]time.Duration{"frontend": time.Duration(tp*3) * 100 * time.Microsecond}}
}

func latency(stack, config string, rate float64, p99 time.Duration) results.Measurement {
	return results.Measurement{Round: 1, Kind: results.KindLatency, Stack: stack, Config: config, Rate: rate,
		Load: load.Result{Latency: stats.Latencies{P99: p99}}}
}

// run is two rounds in which all is 90 % of off and 45 % of the relay on the cached path in
// round 1, and 80 % and 40 % in round 2.
func run() *results.Run {
	r := &results.Run{Configs: []string{"relay", "off", "all", "all-down"}, Method: results.Method{Rounds: 2, Conns: 32}}
	r.Measurements = append(r.Measurements,
		results.Measurement{Round: 0, Kind: results.KindCalibration, Stack: "cached", Config: "off", Load: load.Result{Throughput: 10001}},
		capacity(1, "cached", "relay", 20000, 20e6), capacity(1, "cached", "off", 10000, 20e6), capacity(1, "cached", "all", 9000, 30e6),
		capacity(2, "cached", "relay", 20000, 20e6), capacity(2, "cached", "off", 10000, 20e6), capacity(2, "cached", "all", 8000, 42e6),
		capacity(1, "cached", "all-down", 8600, 30e6), capacity(2, "cached", "all-down", 8000, 30e6),
		latency("cached", "off", 5001, 2*time.Millisecond), latency("cached", "all", 5001, 3*time.Millisecond),
	)
	return r
}

func bar(t *testing.T, bars []Bar, prefix, path string) Bar {
	t.Helper()
	for _, b := range bars {
		if strings.HasPrefix(b.What, prefix) && b.Path == path {
			return b
		}
	}
	t.Fatalf("no bar %q for %q", prefix, path)
	return Bar{}
}

func TestBars(t *testing.T) {
	v := View{Run: run()}
	bars := v.Bars()
	cached := pathNames["cached"]

	// all/off per round 0.9 and 0.8: the median 0.85 meets "at most 15 % lost", exactly.
	if b := bar(t, bars, "every signal on costs", cached); b.Status != Met || !strings.Contains(b.Measured, "0.85 (per round 0.80–0.90)") {
		t.Errorf("cost bar: %+v", b)
	}
	// all/relay per round 0.45 and 0.40: median 0.425.
	if b := bar(t, bars, "every signal on ≥", cached); b.Status != Met || !strings.Contains(b.Measured, "(per round 0.40–0.45)") {
		t.Errorf("relay bar: %+v", b)
	}
	// p99 at half of off's calibrated 10001 req/s (5001): 3 ms against 2 ms is 1.5 ×.
	if b := bar(t, bars, "p99 at half", cached); b.Status != NotMet || !strings.Contains(b.Measured, "5 001") || !strings.Contains(b.Measured, "1.50") {
		t.Errorf("p99 bar: %+v", b)
	}
	// The frontend's highest reading, median of 30 and 42 MB, is 36 MB: under 40.
	if b := bar(t, bars, "resident memory", ""); b.Status != Met || !strings.Contains(b.Measured, "frontend 36.0 MB") {
		t.Errorf("memory bar: %+v", b)
	}
	// Down vs up: 8600/9000 and 8000/8000, median 0.98.
	if b := bar(t, bars, "every backend down: throughput", cached); b.Status != Met {
		t.Errorf("down bar: %+v", b)
	}
	for _, prefix := range []string{"every signal on costs", "p99 at half"} {
		if b := bar(t, bars, prefix, pathNames["uncached"]); b.Status != NotMeasured {
			t.Errorf("uncached %s with no data: %+v", prefix, b)
		}
	}
	if b := bar(t, bars, "every backend down: memory", ""); b.Status != NotMeasured {
		t.Errorf("soak bar without a soak: %+v", b)
	}
	if b := bar(t, bars, "first trace", ""); b.Status != NotMeasured {
		t.Errorf("first-signal bar without a measurement: %+v", b)
	}
}

func TestSoakBar(t *testing.T) {
	r := run()
	mb := func(f, b, d int64) map[string]int64 {
		return map[string]int64{"frontend": f * 1e6, "backend": b * 1e6, "database": d * 1e6}
	}
	r.Soak = &results.Soak{Config: "all-down", Duration: 5 * time.Minute, Samples: []results.SoakSample{
		{At: 0, RSS: mb(20, 20, 20)}, {At: time.Minute, RSS: mb(30, 25, 20)},
		{At: 3 * time.Minute, RSS: mb(31, 25, 20)}, {At: 5 * time.Minute, RSS: mb(32, 25, 20)},
	}}
	// The frontend went from 30 MB (first minute's highest) to 32: under 10 %.
	if b := bar(t, View{Run: r}.Bars(), "every backend down: memory", ""); b.Status != Met || !strings.Contains(b.Measured, "frontend 30.0 MB → 32.0 MB") {
		t.Errorf("flat soak: %+v", b)
	}
	r.Soak.Samples = append(r.Soak.Samples, results.SoakSample{At: 5 * time.Minute, RSS: mb(40, 25, 20)})
	if b := bar(t, View{Run: r}.Bars(), "every backend down: memory", ""); b.Status != NotMet {
		t.Errorf("a soak that grew 33 %%: %+v", b)
	}
	r.Soak.Duration = time.Minute
	if b := bar(t, View{Run: r}.Bars(), "every backend down: memory", ""); b.Status != NotMeasured {
		t.Errorf("a one-minute soak: %+v", b)
	}
}

func TestFirstSignalBar(t *testing.T) {
	r := run()
	r.FirstSignal = &results.FirstSignal{Measured: true, Trace: 6 * time.Second, Log: 2 * time.Second, Sample: 16 * time.Second}
	if b := bar(t, View{Run: r}.Bars(), "first trace", ""); b.Status != NotMet || !strings.Contains(b.Measured, "sample 16s") {
		t.Errorf("first signal: %+v", b)
	}
}

func TestCPUPerRequest(t *testing.T) {
	// 100 µs of frontend CPU per request, as built by capacity().
	if got := (View{Run: run()}).CPUPerRequest("cached", "off", "frontend"); got.Median != 100 || got.N != 2 {
		t.Fatalf("CPU per request = %+v, want 100 µs over 2 rounds", got)
	}
}

func TestMarkdownAndReadme(t *testing.T) {
	var md, readme bytes.Buffer
	v := View{Run: run()}
	v.Markdown(&md, "latency.png")
	// all lost 10 % and 20 % of off's throughput in the two rounds; CPU was alike.
	for _, want := range []string{"## The bars", "| relay | 20 000 |", "![latency against request rate](latency.png)",
		"| cached user, 2 hops | all | 15 (10–20) | 0 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
	if strings.Contains(md.String(), "Smoke run") {
		t.Error("a full run labelled a smoke run")
	}
	v.ReadmeBlock(&readme)
	if !strings.Contains(readme.String(), "| bar | path | measured |") || !strings.Contains(readme.String(), "bench/RESULTS.md") {
		t.Errorf("README block:\n%s", readme.String())
	}
}

func TestNum(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 999: "999", 1000: "1 000", 11660: "11 660", 1234567: "1 234 567", -4200: "-4 200"} {
		if got := Num(x); got != want {
			t.Errorf("Num(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestScrapeSizeTakesEachRoundsLastReading(t *testing.T) {
	r := run()
	r.Measurements[1].Sink.ScrapeSize = 0 // round 1, relay: no scrape seen yet
	m := latency("cached", "off", 5001, time.Millisecond)
	m.Sink.ScrapeSize = 15000
	r.Measurements = append(r.Measurements, m)
	m2 := latency("cached", "off", 6000, time.Millisecond)
	m2.Sink.ScrapeSize = 17000
	r.Measurements = append(r.Measurements, m2)
	if got := (View{Run: r}).ScrapeSize("cached", "off"); got.N != 1 || got.Median != 17000 {
		t.Fatalf("ScrapeSize = %+v, want round 1's last reading, 17000", got)
	}
	if got := (View{Run: r}).ScrapeSize("cached", "relay"); got.N != 0 {
		t.Fatalf("relay scrape size = %+v, want none", got)
	}
}

func TestQuietness(t *testing.T) {
	r := run()
	if got := (View{Run: r}).Quietness(); !strings.Contains(got, "not measured") {
		t.Fatalf("no CPU count: %q", got)
	}
	r.Machine.CPUs = 2
	for i := range r.Measurements {
		r.Measurements[i].Load.Window = time.Second
		r.Measurements[i].OtherCPU = 20 * time.Millisecond // 1 % of two CPUs
	}
	if got := (View{Run: r}).Quietness(); !strings.Contains(got, "1 % of the CPUs") || !strings.Contains(got, "a quiet machine") {
		t.Fatalf("quiet: %q", got)
	}
	for i := range r.Measurements {
		r.Measurements[i].OtherCPU = time.Second // half the machine
	}
	if got := (View{Run: r}).Quietness(); !strings.Contains(got, "50 %") || !strings.Contains(got, "busy machine") {
		t.Fatalf("busy: %q", got)
	}
}
