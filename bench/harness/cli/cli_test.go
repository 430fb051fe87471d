package cli

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/bench/harness/results"
)

// The test binary stands in for benchrun: the harness starts its load, sink and relay
// processes from its own executable.
func TestMain(m *testing.M) {
	if IsMode(os.Args[1:]) {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSmokeRunCountsWhatItSays runs the harness for real, very short, on the real services:
// the figures are meaningless, the counts are not. The load's requests must be the ones the
// frontend counted; telemetry must reach the sink exactly when a configuration ships it.
func TestSmokeRunCountsWhatItSays(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := runBench(t.Context(), []string{
		"--quick", "--repo", "../../..", "--out", out, "--configs", "relay,off,all", "--paths", "cached",
		"--capacity", "300ms", "--latency", "200ms", "--sweep", "100ms", "--calibration", "200ms", "--warmup", "100ms",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, RawFile))
	if err != nil {
		t.Fatal(err)
	}
	var run results.Run
	if err := json.Unmarshal(raw, &run); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range run.Measurements {
		seen[m.Config+"/"+m.Kind]++
		if m.Load.Sent == 0 || m.Load.Requests == 0 || m.Load.Requests > m.Load.Sent {
			t.Errorf("%s/%s: sent %d, %d in the window", m.Config, m.Kind, m.Load.Sent, m.Load.Requests)
		}
		// Open loop: the window holds exactly the requests due in it.
		if want := uint64(m.Rate*0.2 + 0.5); m.Kind == results.KindLatency && (m.Load.Requests < want-1 || m.Load.Requests > want+1) {
			t.Errorf("%s at %.0f/s: %d requests in a 200ms window, want %d", m.Config, m.Rate, m.Load.Requests, want)
		}
		if m.Load.Errors != 0 {
			t.Errorf("%s/%s: %d errors (%s)", m.Config, m.Kind, m.Load.Errors, m.Load.FirstError)
		}
		if m.Load.Latency.N != int(m.Load.Requests) {
			t.Errorf("%s/%s: %d latencies for %d requests", m.Config, m.Kind, m.Load.Latency.N, m.Load.Requests)
		}
		procs := []string{"frontend", "backend", "database", "load"}
		if m.Config == "relay" {
			procs = []string{"frontend", "backend", "load"} // two hops on the cached path
		}
		for _, p := range procs {
			// CPU time moves in 10 ms ticks: a short sweep window may see none, a
			// saturation window cannot.
			if c, ok := m.CPU[p]; !ok || c < 0 || (m.Kind == results.KindCapacity && p != "database" && c == 0) {
				t.Errorf("%s/%s: CPU time of %s: %v (read: %v)", m.Config, m.Kind, p, c, ok)
			}
		}
		if m.RSS["frontend"] <= 0 || m.RSS["backend"] <= 0 {
			t.Errorf("%s/%s: no memory read: %v", m.Config, m.Kind, m.RSS)
		}
		switch m.Config {
		case "relay":
			if m.Counted != -1 || m.Sink != (results.Measurement{}).Sink {
				t.Errorf("relay: counted %d, sink %+v; it has neither", m.Counted, m.Sink)
			}
		case "off":
			// The frontend counted exactly the requests the load sent.
			if m.Counted != int64(m.Load.Sent) {
				t.Errorf("off/%s: load sent %d, frontend counted %d", m.Kind, m.Load.Sent, m.Counted)
			}
			if m.Sink.OTLPBytes != 0 || m.Sink.LokiBytes != 0 || m.Stdout["frontend"] != 0 {
				t.Errorf("off/%s shipped telemetry: %+v, stdout %v", m.Kind, m.Sink, m.Stdout)
			}
		case "all":
			if m.Counted != int64(m.Load.Sent) {
				t.Errorf("all/%s: load sent %d, frontend counted %d", m.Kind, m.Load.Sent, m.Counted)
			}
			// Every request of the window logs on stdout and, through the sink, spans and logs.
			if m.Kind == results.KindCapacity && (m.Sink.OTLPBytes == 0 || m.Sink.LokiBytes == 0 || m.Stdout["frontend"] == 0 || m.Stdout["backend"] == 0) {
				t.Errorf("all/%s shipped nothing: %+v, stdout %v", m.Kind, m.Sink, m.Stdout)
			}
		}
	}
	for _, k := range []string{"relay/calibration", "off/capacity", "all/capacity", "all/latency", "off/conns"} {
		if seen[k] == 0 {
			t.Errorf("no %s measurement; have %v", k, seen)
		}
	}
	if seen["all/latency"] != len(run.Grid["cached/all"]) || len(run.Grid["cached/all"]) == 0 {
		t.Errorf("%d open-loop runs of all for a grid of %v", seen["all/latency"], run.Grid["cached/all"])
	}

	md, err := os.ReadFile(filepath.Join(out, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Smoke run", "| bar | path | measured |", "## Saturated throughput: cached user", "latency.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
	f, err := os.Open(filepath.Join(out, PlotFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < 500 {
		t.Fatalf("plot: %v, %v", err, img)
	}
	if !strings.Contains(stdout.String(), "SMOKE RUN") || !strings.Contains(stdout.String(), "## The bars") {
		t.Errorf("summary printed:\n%s", stdout.String())
	}

	// `benchrun report` writes the same RESULTS.md again from the raw results alone.
	again := t.TempDir()
	if err := runReport(t.Context(), []string{"--raw", filepath.Join(out, RawFile), "--out", again}, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatal(err)
	}
	if md2, err := os.ReadFile(filepath.Join(again, ResultsFile)); err != nil || !bytes.Equal(md, md2) {
		t.Errorf("RESULTS.md from results.json differs from the run's (%v)", err)
	}
}

func TestVariantFlag(t *testing.T) {
	var v variantFlags
	if err := v.Set("all-lib=all,PILLARS_X=y,OTEL_Z=1"); err != nil {
		t.Fatal(err)
	}
	if len(v) != 1 || v[0].name != "all-lib" || v[0].base != "all" || strings.Join(v[0].env, " ") != "PILLARS_X=y OTEL_Z=1" {
		t.Fatalf("parsed %+v", v)
	}
	for _, bad := range []string{"nobase", "=all", "x=all,novalue"} {
		if err := v.Set(bad); err == nil {
			t.Errorf("--variant %q accepted", bad)
		}
	}
}
