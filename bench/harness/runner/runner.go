// Package runner carries out a benchmark run: it starts each configuration's processes
// round after round (A B C, A B C, …), sends the load from a process of its own, and records
// what every process spent.
package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/load"
	"github.com/pillars-o11y/pillars/bench/harness/proc"
	"github.com/pillars-o11y/pillars/bench/harness/results"
	"github.com/pillars-o11y/pillars/bench/harness/stack"
)

// Options of a run.
type Options struct {
	Pillars   string // the service binary
	Self      string // this harness's binary, for its sink, relay and load modes
	WorkDir   string // logs, the database file, the relay's bodies
	Rounds    int
	Durations Durations
	Quick     bool
	Conns     int // connections of the saturation runs
	Fractions []float64
	ConnSweep []int
	// SweepRounds: the connection and payload sweeps run in the first this many rounds.
	SweepRounds  int
	PayloadPaths []string
	Kinds        []stack.Kind
	Configs      []stack.Config // empty: StandardConfigs
	// Second mode: forward to real backends.
	TracesUpstream, LokiUpstream string
	ScrapeInterval               time.Duration
	GoMemLimit                   string
	// OpenConns is the open loop's connection pool (0: load.OpenConns).
	OpenConns int
	// LoadNice is the load process's nice value (negative: before the services); 0 leaves
	// it as is. Below 0 needs root.
	LoadNice int
	Progress io.Writer
}

// DefaultOptions are `make bench`'s.
func DefaultOptions() Options {
	return Options{
		Rounds: 5, Durations: FullDurations, Conns: 32,
		Fractions: []float64{0.5, 0.75, 0.9}, ConnSweep: []int{1, 4, 16, 64, 256}, SweepRounds: 3,
		PayloadPaths: []string{"product", "home"}, Kinds: []stack.Kind{stack.Cached, stack.Uncached},
		ScrapeInterval: 5 * time.Second, GoMemLimit: "80MiB", Progress: os.Stderr,
	}
}

// Runner is one run in progress.
type Runner struct {
	opts      Options
	self      string
	stackOpts stack.Options
	procs     proc.Reader
	run       results.Run
	capacity  map[string]float64 // "kind/config" → calibrated req/s
	steps     int
	done      int
	started   time.Time
}

// New prepares a run.
func New(opts Options) (*Runner, error) {
	pr, err := proc.NewReader("/proc")
	if err != nil {
		return nil, err
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	return &Runner{
		opts: opts, self: opts.Self, procs: pr, capacity: map[string]float64{},
		stackOpts: stack.Options{
			Pillars: opts.Pillars, Self: opts.Self, DBPath: filepath.Join(opts.WorkDir, "pillars.db"),
			Dir: opts.WorkDir, TracesUpstream: opts.TracesUpstream, LokiUpstream: opts.LokiUpstream,
			ScrapeInterval: opts.ScrapeInterval, GoMemLimit: opts.GoMemLimit,
		},
	}, nil
}

// Run carries out the whole benchmark and returns its record.
func (r *Runner) Run(ctx context.Context) (*results.Run, error) {
	r.started = time.Now()
	if r.opts.OpenConns == 0 {
		r.opts.OpenConns = load.OpenConns
	}
	o := r.opts
	switchable := MetricsSwitch(ctx, o.Pillars)
	configs := o.Configs
	if len(configs) == 0 {
		configs = StandardConfigs(switchable)
	}
	r.run = results.Run{
		Started: r.started,
		Machine: machine(ctx, o.Pillars),
		Method: results.Method{
			Quick: o.Quick, Rounds: o.Rounds, Conns: o.Conns, Warmup: o.Durations.Warmup,
			Capacity: o.Durations.Capacity, Latency: o.Durations.Latency, Sweep: o.Durations.Sweep,
			Calibration: o.Durations.Calibration, SoakFor: o.Durations.Soak, Fractions: o.Fractions,
			ConnSweep: o.ConnSweep, PayloadPaths: o.PayloadPaths, ScrapeInterval: o.ScrapeInterval,
			GoMemLimit: o.GoMemLimit, LoadNice: o.LoadNice, OpenConns: o.OpenConns,
		},
		Grid: map[string][]float64{},
	}
	r.run.Machine.MetricsSwitchable = switchable
	r.run.Machine.SinkMode, r.run.Machine.TracesUpstream, r.run.Machine.LokiUpstream = "sinks", o.TracesUpstream, o.LokiUpstream
	if o.TracesUpstream != "" || o.LokiUpstream != "" {
		r.run.Machine.SinkMode = "backends"
	}
	if !switchable {
		r.run.Notes = append(r.run.Notes, "The services have no switch for metrics (PILLARS_METRICS=false): "+
			"every configuration of pillars records metrics, so `off` is metrics alone and the cost of metrics by themselves is not isolated.")
	}
	for _, c := range configs {
		r.run.Configs = append(r.run.Configs, c.Name)
	}

	r.progress("preparing: seeding the database, capturing the answers the relay will give")
	bodies, err := r.captureBodies(ctx)
	if err != nil {
		return nil, fmt.Errorf("first start of the services: %w", err)
	}
	if r.stackOpts.RelayBodies, err = stack.WriteBodies(o.WorkDir, bodies); err != nil {
		return nil, err
	}

	r.steps = r.countSteps(0, configs)
	// Round 0 sets the open-loop rates; its figures are not reported.
	for _, k := range o.Kinds {
		for _, c := range configs {
			if err := r.stackRun(ctx, 0, k, c); err != nil {
				return nil, err
			}
		}
	}
	r.setGrid(configs)
	r.steps = r.done + r.countSteps(1, configs)
	for round := 1; round <= o.Rounds; round++ {
		for _, k := range o.Kinds {
			for _, c := range configs {
				if err := r.stackRun(ctx, round, k, c); err != nil {
					return nil, err
				}
			}
		}
	}
	if o.Durations.Soak > 0 {
		if c, ok := findConfig(configs, AllDown); ok {
			if err := r.soak(ctx, c); err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				r.run.Notes = append(r.run.Notes, "Soak failed, not measured: "+oneLine(err.Error()))
			}
		}
	}
	r.run.Finished = time.Now()
	r.run.Machine.LoadAfter = loadavg()
	return &r.run, nil
}

func findConfig(cs []stack.Config, name string) (stack.Config, bool) {
	i := slices.IndexFunc(cs, func(c stack.Config) bool { return c.Name == name })
	if i < 0 {
		return stack.Config{}, false
	}
	return cs[i], true
}

func gridKey(k stack.Kind, config string) string { return string(k) + "/" + config }

// setGrid fixes the open-loop rates of every round from round 0's capacities.
func (r *Runner) setGrid(configs []stack.Config) {
	for _, k := range r.opts.Kinds {
		off := r.capacity[gridKey(k, Off)]
		for _, c := range configs {
			if latencyFor(c.Name) {
				r.run.Grid[gridKey(k, c.Name)] = Grid(r.capacity[gridKey(k, c.Name)], off, r.opts.Fractions)
			}
		}
	}
}

// plan lists the measurements of one stack in one round, without their rates.
type planned struct {
	kind  string
	path  string
	conns int
	rate  float64
	d     time.Duration
}

func (r *Runner) plan(round int, k stack.Kind, c stack.Config) []planned {
	o, d := r.opts, r.opts.Durations
	main := MainPath(k)
	if round == 0 {
		return []planned{{results.KindCalibration, main, o.Conns, 0, d.Calibration}}
	}
	p := []planned{{results.KindCapacity, main, o.Conns, 0, d.Capacity}}
	if latencyFor(c.Name) {
		rates := r.run.Grid[gridKey(k, c.Name)]
		if rates == nil { // before calibration: count as many as there will be
			rates = make([]float64, len(o.Fractions)+1)
		}
		for _, rate := range rates {
			p = append(p, planned{results.KindLatency, main, 0, rate, d.Latency})
		}
	}
	if sweeps(c.Name) && round <= o.SweepRounds {
		if k == stack.Cached {
			for _, n := range o.ConnSweep {
				if n != o.Conns {
					p = append(p, planned{results.KindConns, main, n, 0, d.Sweep})
				}
			}
		} else {
			for _, path := range o.PayloadPaths {
				p = append(p, planned{results.KindPayload, path, o.Conns, 0, d.Sweep})
			}
		}
	}
	return p
}

// countSteps counts the measurements from round from on, for the progress line.
func (r *Runner) countSteps(from int, configs []stack.Config) int {
	n := 0
	for round := from; round <= r.opts.Rounds; round++ {
		for _, k := range r.opts.Kinds {
			for _, c := range configs {
				n += len(r.plan(round, k, c))
			}
		}
	}
	return n
}

// stackRun starts one configuration, runs its measurements of this round, and stops it. A
// configuration that fails (a process that crashed, a load that could not run) is written
// down and the run goes on: one bad minute should not cost the other twenty. Only a
// cancelled run stops here.
func (r *Runner) stackRun(ctx context.Context, round int, k stack.Kind, c stack.Config) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := r.tryStackRun(ctx, round, k, c)
	if err == nil || ctx.Err() != nil {
		return err
	}
	msg := oneLine(err.Error())
	r.run.Notes = append(r.run.Notes, "Failed, not measured: "+msg)
	r.progress("FAILED: " + msg)
	return nil
}

func (r *Runner) tryStackRun(ctx context.Context, round int, k stack.Kind, c stack.Config) error {
	so := r.stackOpts
	so.Dir = filepath.Join(so.Dir, fmt.Sprintf("round%d-%s-%s", round, k, c.Name))
	if err := os.MkdirAll(so.Dir, 0o755); err != nil {
		return err
	}
	st, err := stack.Start(ctx, so, c, k)
	if err != nil {
		return fmt.Errorf("round %d, %s/%s: %w", round, k, c.Name, err)
	}
	defer st.Stop()
	for i, p := range r.plan(round, k, c) {
		warm := r.opts.Durations.Warmup
		if i == 0 {
			warm *= 2 // a fresh stack: connections, caches and the heap to grow
		}
		m := results.Measurement{Round: round, Kind: p.kind, Stack: string(k), Config: c.Name, Path: p.path, Rate: p.rate, Conns: p.conns}
		spec := load.Spec{Path: p.path, Rate: p.rate, Conns: p.conns, Warmup: warm, Duration: p.d}
		if p.rate > 0 {
			spec.Conns = r.opts.OpenConns
		}
		m, err := r.measure(ctx, st, m, spec)
		if err != nil {
			return fmt.Errorf("round %d, %s/%s %s: %w", round, k, c.Name, p.kind, err)
		}
		if round == 0 {
			r.capacity[gridKey(k, c.Name)] = m.Load.Throughput
		}
		r.run.Measurements = append(r.run.Measurements, m)
		r.done++
		r.report(m)
	}
	return nil
}

func (r *Runner) report(m results.Measurement) {
	what := fmt.Sprintf("%s %s", m.Kind, m.Path)
	switch {
	case m.Rate > 0:
		what += fmt.Sprintf(" @ %.0f/s: p50 %s p99 %s p99.9 %s", m.Rate, ms(m.Load.Latency.P50), ms(m.Load.Latency.P99), ms(m.Load.Latency.P999))
	default:
		what += fmt.Sprintf(" ×%d: %.0f req/s, p99 %s", m.Conns, m.Load.Throughput, ms(m.Load.Latency.P99))
	}
	if m.Problem != "" {
		what += " (" + m.Problem + ")"
	}
	r.progress(fmt.Sprintf("[%d/%d, round %d, %s/%s] %s", r.done, r.steps, m.Round, m.Stack, m.Config, what))
}

func (r *Runner) progress(msg string) {
	left := ""
	if r.done > 0 && r.steps > r.done {
		per := time.Since(r.started) / time.Duration(r.done)
		left = fmt.Sprintf(" (~%s left)", (per * time.Duration(r.steps-r.done)).Round(time.Second))
	}
	fmt.Fprintf(r.opts.Progress, "%s%s\n", msg, left)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// oneLine fits an error into a Markdown list item.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}
