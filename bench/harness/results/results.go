// Package results is the record of one benchmark run: what was measured, on what machine and
// how, as the runner writes it and the report and plot read it (and as the JSON file next to
// RESULTS.md keeps it for later analysis).
package results

import (
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/load"
	"github.com/pillars-o11y/pillars/bench/harness/sink"
)

// Run is a whole benchmark run.
type Run struct {
	Started, Finished time.Time
	Machine           Machine
	Method            Method
	Configs           []string             // in the order they ran in each round
	Grid              map[string][]float64 // "kind/config" → open-loop rates, req/s
	Measurements      []Measurement
	Soak              *Soak        `json:",omitempty"`
	FirstSignal       *FirstSignal `json:",omitempty"`
	Notes             []string     // what could not be measured, and why
}

// Machine is where the run happened.
type Machine struct {
	CPUs              int
	CPUModel          string
	Kernel            string
	GoVersion         string // of the toolchain that built pillars and the harness
	PillarsVersion    string
	LoadBefore        string // /proc/loadavg when the run started: others' work makes it noisy
	LoadAfter         string
	Hostname          string `json:"-"`
	MemoryTotalKB     int64
	SinkMode          string // "sinks" (read and discard) or "backends" (forwarded to real ones)
	TracesUpstream    string `json:",omitempty"`
	LokiUpstream      string `json:",omitempty"`
	MetricsSwitchable bool   // the services accept PILLARS_METRICS=false
}

// Method is how the run measured.
type Method struct {
	Quick                       bool
	Rounds                      int
	Conns                       int // of the saturation runs
	OpenConns                   int // the open loop's connection pool
	Warmup, Capacity, Latency   time.Duration
	Sweep, Calibration, SoakFor time.Duration
	Fractions                   []float64 // of each configuration's capacity, for the open-loop runs
	ConnSweep                   []int
	PayloadPaths                []string
	ScrapeInterval              time.Duration
	GoMemLimit                  string
	LoadNice                    int
}

// Kinds of measurement.
const (
	KindCalibration = "calibration" // round 0, capacity only: sets the open-loop rates
	KindCapacity    = "capacity"    // closed loop at Method.Conns
	KindLatency     = "latency"     // open loop at a fixed rate
	KindConns       = "conns"       // closed loop at another number of connections
	KindPayload     = "payload"     // closed loop on another path
)

// Measurement is one load run against one running stack.
type Measurement struct {
	Round  int
	Kind   string
	Stack  string // cached or uncached
	Config string
	Path   string
	Rate   float64 // open loop
	Conns  int     // closed loop
	Load   load.Result
	// Per process (frontend, backend, database, load, sink): CPU time in the window and the
	// highest resident memory sampled in it.
	CPU    map[string]time.Duration
	RSS    map[string]int64
	HWM    map[string]int64 // each service's VmHWM when the window closed: its peak since it started
	Stdout map[string]int64 // bytes of log lines written to stdout in the window
	// OtherCPU is the CPU time every other process on the machine (the harness included)
	// used in the window: noise, when it is more than a few per cent of the CPUs.
	OtherCPU time.Duration
	Sink     sink.Stats // received in the window
	// Counted is how many requests the frontend counted in frontend_requests_total over the
	// whole run, warm-up included, to hold against Load.Sent; -1 where there is no frontend.
	Counted int64
	Problem string `json:",omitempty"` // errors, a count that disagrees, a schedule the load could not keep
}

// Soak is the long run with every telemetry backend down: memory must stay flat.
type Soak struct {
	Stack, Config string
	Duration      time.Duration
	Load          load.Result
	// Every few seconds, each service's resident memory.
	Samples []SoakSample
}

// SoakSample is one reading during the soak.
type SoakSample struct {
	At  time.Duration
	RSS map[string]int64
}

// FirstSignal is how long after `make up`'s services were ready the first trace, log line
// and metric sample could be queried from the local backends.
type FirstSignal struct {
	Measured           bool
	Why                string `json:",omitempty"` // when not measured
	Trace, Log, Sample time.Duration
	TraceID            string
	At                 time.Time // when it was measured (`benchrun report` may add it to an earlier run)
}
