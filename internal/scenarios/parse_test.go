package scenarios

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	library "github.com/pillars-o11y/pillars/scenarios"
)

// The library built into the binary loads: at least eight scenarios of different kinds,
// among them the ones the project promises, each with a story, steps and a signature with an
// item for metrics, traces and logs.
func TestTheLibraryLoads(t *testing.T) {
	lib, err := Load(library.Files())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"slow-database", "failing-database", "missing-index", "lock-contention",
		"cache-stampede", "memory-leak", "retry-storm", "bad-deploy", "dependency-down"} {
		sc, err := lib.Get(name)
		if err != nil {
			t.Error(err)
			continue
		}
		if sc.Story == "" || len(sc.Steps) == 0 || len(sc.Signature.Metrics) == 0 || len(sc.Signature.Traces) == 0 || len(sc.Signature.Logs) == 0 {
			t.Errorf("%s: story, steps, metrics, traces and logs are all needed: %+v", name, sc)
		}
	}
	if n := len(lib.List()); n < 8 {
		t.Errorf("%d scenarios, want at least 8", n)
	}
	bad, _ := lib.Get("bad-deploy")
	if bad.Steps[0].Patch["version"] != "2.0.0-rc.1" || bad.Steps[0].Patch["route_error_rate"] != 0.3 {
		t.Errorf("bad-deploy's step: %v: a version must stay text, a rate a number", bad.Steps[0].Patch)
	}
	if _, err := lib.Get("slow-db"); err == nil || !strings.Contains(err.Error(), "bad-deploy, cache-stampede") {
		t.Errorf("an unknown name: %v, want the known names listed", err)
	}
}

const good = `name: broken
title: Broken
story: Something breaks.
duration: 1m
steps:
  - at: 0s
    service: database
    patch: {latency: 300ms}
  - at: 10s
    traffic: {rate: 5, shape: wave, peak: 20, period: 30s, duration: 20s}
  - at: 50s
    clear: true
signature:
  metrics:
    - {name: slow, query: 'up', above: 0.5}
  traces:
    - {service: database, span: query_execution, attribute: pillars.fault.latency_ms}
  logs:
    - {service: database, level: warn, message: Slow query detected}
  alerts:
    - {alert: PillarsSlowQueriesRising, labels: {table: users}}
`

func TestParseAGoodFile(t *testing.T) {
	sc, err := Parse("broken.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Duration.D() != time.Minute || len(sc.Steps) != 3 || sc.Steps[1].At.D() != 10*time.Second || !sc.Steps[2].Clear {
		t.Errorf("parsed %+v", sc)
	}
	if got := sc.Steps[0].Describe(); got != "database: latency=300ms" {
		t.Errorf("step 1 described as %q", got)
	}
	if a := sc.Signature.Alerts[0]; a.Alert != "PillarsSlowQueriesRising" || a.Labels["table"] != "users" {
		t.Errorf("alert %+v", a)
	}
}

// Every mistake is named with its file and line, in the writer's terms.
func TestParseRefuses(t *testing.T) {
	for _, c := range []struct{ old, new, want string }{
		{"title: Broken\n", "title: Broken\nowner: me\n", `broken.yaml:3: unknown key "owner" in the scenario`},
		{"duration: 1m", "duration: soon", `broken.yaml:4: duration: "soon" is not a duration`},
		{"duration: 1m", "duration: 1s", "broken.yaml:4: duration 1s: want 10s to 6h0m0s"},
		{"    service: database\n    patch", "    service: cache\n    patch", `broken.yaml:7: step 1: unknown service "cache"`},
		{"patch: {latency: 300ms}", "patch: {latency: 300ms, cache_off: true}", `broken.yaml:8: step 1: unknown knob "cache_off": the database's knobs are`},
		{"patch: {latency: 300ms}", "patch: {latency: 3h}", "broken.yaml:8: step 1: knob latency: at most 30s"},
		{"  - at: 10s", "  - at: -5s", "broken.yaml:9: step 2: at: -5s is negative"},
		{"  - at: 50s", "  - at: 5s", "broken.yaml:11: step 3 at 5s comes before the step above it (at 10s)"},
		{"  - at: 50s", "  - at: 90s", "broken.yaml:11: step 3 at 1m30s is not within the scenario's duration 1m0s"},
		{"traffic: {rate: 5,", "traffic: {rate: 900,", "broken.yaml:10: step 2: traffic: rate 900"},
		{"    clear: true", "    clear: true\n    patch: {}", "broken.yaml:11: step 3: want exactly one of patch, put, traffic or clear, got 2"},
		{"level: warn", "level: loud", `broken.yaml:19: log 1: level "loud"`},
		{"above: 0.5}", "above: 0.5, below: 1}", "broken.yaml:15: metric 1: want exactly one threshold"},
		{"attribute: pillars.fault.latency_ms}", "value: x}", "broken.yaml:17: trace 1: say what marks the span"},
		{"  logs:\n    - {service: database, level: warn, message: Slow query detected}\n", "  logs: []\n", "broken.yaml:18: signature: no logs"},
		{"name: broken", "name: Broken!", `broken.yaml:1: name "Broken!"`},
	} {
		doc := strings.Replace(good, c.old, c.new, 1)
		if doc == good {
			t.Fatalf("case %q does not change the file", c.old)
		}
		_, err := Parse("broken.yaml", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("with %q → %q: %v\nwant an error containing %q", c.old, c.new, err, c.want)
		}
	}
	if _, err := Parse("broken.yaml", []byte("name: [unclosed")); err == nil || !strings.HasPrefix(err.Error(), "broken.yaml: line 1:") {
		t.Errorf("malformed YAML: %v, want the file and line", err)
	}
}

// A library refuses a file whose name is not its scenario's, and reports every bad file.
func TestLoadRefuses(t *testing.T) {
	fsys := fstest.MapFS{
		"other.yaml": {Data: []byte(good)},
		"bad.yaml":   {Data: []byte("name: bad\n")},
	}
	_, err := Load(fsys)
	if err == nil || !strings.Contains(err.Error(), `other.yaml: the scenario is named "broken"`) ||
		!strings.Contains(err.Error(), "bad.yaml:1: the scenario: title is missing") {
		t.Errorf("Load: %v", err)
	}
}
