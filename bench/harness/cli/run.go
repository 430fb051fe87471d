package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/firstsignal"
	"github.com/pillars-o11y/pillars/bench/harness/plot"
	"github.com/pillars-o11y/pillars/bench/harness/report"
	"github.com/pillars-o11y/pillars/bench/harness/results"
	"github.com/pillars-o11y/pillars/bench/harness/runner"
	"github.com/pillars-o11y/pillars/bench/harness/stack"
)

// Files written into --out.
const (
	ResultsFile = "RESULTS.md"
	PlotFile    = "latency.png"
	RawFile     = "results.json"
)

// README markers between which a full run writes the bars.
const (
	readmeBegin = "<!-- bench:begin -->"
	readmeEnd   = "<!-- bench:end -->"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := runner.DefaultOptions()
	quick := fs.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "smoke run: one round of short runs, no soak, no first-signal (BENCH_QUICK=1)")
	repo := fs.String("repo", ".", "the pillars repository (built with go build ./cmd/pillars)")
	pillarsBin := fs.String("pillars", "", "use this pillars binary instead of building one")
	out := fs.String("out", "", "where RESULTS.md, latency.png and results.json go (default <repo>/bench, or <repo>/bench/smoke with --quick)")
	readme := fs.String("readme", "", "README to update between "+readmeBegin+" and "+readmeEnd+" (full runs only)")
	rounds := fs.Int("rounds", 0, "rounds (default 5, 1 with --quick)")
	fs.IntVar(&o.Conns, "conns", o.Conns, "connections of the saturation runs")
	configs := fs.String("configs", "", "comma-separated subset of configurations (default all): relay,off,traces,logs,[metrics,]all,all-down")
	kinds := fs.String("paths", "cached,uncached", "stacks to run: cached, uncached")
	fs.StringVar(&o.TracesUpstream, "traces-upstream", "", "second mode: forward spans to this OTLP/HTTP base URL (make up's Jaeger: http://127.0.0.1:14318)")
	fs.StringVar(&o.LokiUpstream, "loki-upstream", "", "second mode: forward logs to this Loki push URL (make up's VictoriaLogs: http://127.0.0.1:19428/insert/loki/api/v1/push)")
	fs.DurationVar(&o.ScrapeInterval, "scrape-interval", o.ScrapeInterval, "how often the sink scrapes /metrics, as Prometheus in make up")
	fs.StringVar(&o.GoMemLimit, "gomemlimit", o.GoMemLimit, "GOMEMLIMIT of the services (compose.yaml's)")
	defNice := 0
	if os.Geteuid() == 0 {
		defNice = -5
	}
	fs.IntVar(&o.LoadNice, "load-nice", defNice, "nice value of the load process, so that it keeps its schedule on the cores it shares with the services (below 0 needs root; 0 leaves it)")
	first := fs.String("first-signal", "auto", "measure the time to first signals in make up's stack: auto (full runs, when the backends are built), on, off")
	tools := fs.String("tools", os.Getenv("PILLARS_TOOLS"), "PILLARS_TOOLS: where make tools built the backends (default <repo>/.tools)")
	var variants variantFlags
	fs.Var(&variants, "variant", "an extra configuration NAME=BASE[,VAR=VALUE...], e.g. all-lib=all,PILLARS_X=y (repeatable)")
	d := runner.FullDurations
	fs.DurationVar(&d.Warmup, "warmup", 0, "warm-up before each window (default 500ms; 200ms quick)")
	fs.DurationVar(&d.Capacity, "capacity", 0, "saturation window (default 3s; 1s quick)")
	fs.DurationVar(&d.Latency, "latency", 0, "open-loop window (default 2s; 500ms quick)")
	fs.DurationVar(&d.Sweep, "sweep", 0, "sweep window (default 2s; 300ms quick)")
	fs.DurationVar(&d.Calibration, "calibration", 0, "calibration window (default 2s; 500ms quick)")
	soak := fs.Duration("soak", -1, "soak with every backend down (default 5m; none quick)")
	keep := fs.Bool("keep", false, "keep the work directory (process logs) after the run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Quick = *quick
	o.Durations = defaults(d, *quick)
	if *soak >= 0 {
		o.Durations.Soak = *soak
	}
	o.Rounds = 5
	if *quick {
		o.Rounds, o.SweepRounds = 1, 1
	}
	if *rounds > 0 {
		o.Rounds = *rounds
	}
	var err error
	if o.Kinds, err = parseKinds(*kinds); err != nil {
		return err
	}
	absRepo, err := filepath.Abs(*repo)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Join(absRepo, "bench")
		if *quick {
			*out = filepath.Join(absRepo, "bench", "smoke")
		}
	}
	if *tools == "" {
		*tools = filepath.Join(absRepo, ".tools")
	}

	work, err := os.MkdirTemp("", "benchrun-")
	if err != nil {
		return err
	}
	defer func() {
		if *keep || err != nil {
			fmt.Fprintln(stderr, "process logs kept in", work)
			return
		}
		os.RemoveAll(work)
	}()
	if o.Self, err = os.Executable(); err != nil {
		return err
	}
	o.WorkDir = work
	o.Progress = stderr
	o.Pillars = *pillarsBin
	if o.Pillars == "" {
		fmt.Fprintln(stderr, "building pillars")
		if o.Pillars, err = runner.BuildPillars(ctx, absRepo, work); err != nil {
			return err
		}
	}
	if o.Configs, err = chooseConfigs(ctx, o.Pillars, *configs, variants); err != nil {
		return err
	}

	r, err := runner.New(o)
	if err != nil {
		return err
	}
	run, err := r.Run(ctx)
	if err != nil {
		return err
	}
	if want := *first == "on" || (*first == "auto" && !*quick); want {
		fo := firstsignal.Defaults()
		fo.Repo, fo.Tools, fo.LogDir, fo.Progress = absRepo, *tools, work, stderr
		f := firstsignal.Measure(ctx, fo)
		run.FirstSignal = &f
	}
	return write(run, *out, *readme, stdout)
}

// runReport rewrites a run's files from its raw results, with the generator as it is now;
// --first-signal measures that bar now and adds it to the run.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := fs.String("raw", "bench/"+RawFile, "the run's results.json")
	out := fs.String("out", "", "where to write (default: the directory of --raw)")
	readme := fs.String("readme", "", "README to update between "+readmeBegin+" and "+readmeEnd)
	first := fs.Bool("first-signal", false, "measure the first-signal bar now (runs scripts/up.sh) and add it to the run")
	repo := fs.String("repo", ".", "the pillars repository, for --first-signal")
	tools := fs.String("tools", os.Getenv("PILLARS_TOOLS"), "PILLARS_TOOLS, for --first-signal (default <repo>/.tools)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*raw)
	if err != nil {
		return err
	}
	var run results.Run
	if err := json.Unmarshal(b, &run); err != nil {
		return fmt.Errorf("%s: %w", *raw, err)
	}
	if *first {
		o := firstsignal.Defaults()
		if o.Repo, err = filepath.Abs(*repo); err != nil {
			return err
		}
		o.Tools, o.LogDir, o.Progress = *tools, os.TempDir(), stderr
		if o.Tools == "" {
			o.Tools = filepath.Join(o.Repo, ".tools")
		}
		f := firstsignal.Measure(ctx, o)
		run.FirstSignal = &f
	}
	if *out == "" {
		*out = filepath.Dir(*raw)
	}
	return write(&run, *out, *readme, stdout)
}

// runFirstSignal measures the first-signal bar alone and prints it as JSON.
func runFirstSignal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("first-signal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repo := fs.String("repo", ".", "the pillars repository, whose scripts/up.sh is run")
	tools := fs.String("tools", os.Getenv("PILLARS_TOOLS"), "PILLARS_TOOLS (default <repo>/.tools)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := firstsignal.Defaults()
	var err error
	if o.Repo, err = filepath.Abs(*repo); err != nil {
		return err
	}
	o.Tools, o.LogDir, o.Progress = *tools, os.TempDir(), stderr
	if o.Tools == "" {
		o.Tools = filepath.Join(o.Repo, ".tools")
	}
	f := firstsignal.Measure(ctx, o)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	if !f.Measured {
		return errors.New("not measured: " + f.Why)
	}
	return nil
}

func defaults(d runner.Durations, quick bool) runner.Durations {
	base := runner.FullDurations
	if quick {
		base = runner.QuickDurations
	}
	pick := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	return runner.Durations{
		Warmup: pick(d.Warmup, base.Warmup), Capacity: pick(d.Capacity, base.Capacity), Latency: pick(d.Latency, base.Latency),
		Sweep: pick(d.Sweep, base.Sweep), Calibration: pick(d.Calibration, base.Calibration), Soak: base.Soak,
	}
}

func parseKinds(s string) ([]stack.Kind, error) {
	var ks []stack.Kind
	for _, k := range strings.Split(s, ",") {
		switch stack.Kind(k) {
		case stack.Cached, stack.Uncached:
			ks = append(ks, stack.Kind(k))
		default:
			return nil, fmt.Errorf("--paths: unknown %q: want cached, uncached", k)
		}
	}
	return ks, nil
}

// chooseConfigs is the standard configurations, narrowed to names, plus the variants.
func chooseConfigs(ctx context.Context, pillars, names string, variants variantFlags) ([]stack.Config, error) {
	all := runner.StandardConfigs(runner.MetricsSwitch(ctx, pillars))
	for _, v := range variants {
		base, ok := find(all, v.base)
		if !ok {
			return nil, fmt.Errorf("--variant %s: unknown base %q", v.name, v.base)
		}
		base.Name, base.Env = v.name, append(append([]string{}, base.Env...), v.env...)
		all = append(all, base)
	}
	if names == "" {
		return all, nil
	}
	var cs []stack.Config
	for _, n := range strings.Split(names, ",") {
		c, ok := find(all, n)
		if !ok {
			return nil, fmt.Errorf("--configs: unknown %q", n)
		}
		cs = append(cs, c)
	}
	for _, v := range variants {
		if _, ok := find(cs, v.name); !ok {
			c, _ := find(all, v.name)
			cs = append(cs, c)
		}
	}
	return cs, nil
}

func find(cs []stack.Config, name string) (stack.Config, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return stack.Config{}, false
}

type variant struct {
	name, base string
	env        []string
}

type variantFlags []variant

func (v *variantFlags) String() string { return fmt.Sprint(len(*v), " variants") }
func (v *variantFlags) Set(s string) error {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want NAME=BASE[,VAR=VALUE...]")
	}
	parts := strings.Split(rest, ",")
	va := variant{name: name, base: parts[0]}
	for _, kv := range parts[1:] {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("%q: want VAR=VALUE", kv)
		}
		va.env = append(va.env, kv)
	}
	*v = append(*v, va)
	return nil
}

// write saves the run's files and prints its summary.
func write(run *results.Run, out, readme string, stdout io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	v := report.View{Run: run}
	var png bytes.Buffer
	if err := plot.WritePNG(&png, v); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, PlotFile), png.Bytes(), 0o644); err != nil {
		return err
	}
	var md bytes.Buffer
	v.Markdown(&md, PlotFile)
	if err := os.WriteFile(filepath.Join(out, ResultsFile), md.Bytes(), 0o644); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(run, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, RawFile), raw, 0o644); err != nil {
		return err
	}
	v.Summary(stdout)
	fmt.Fprintf(stdout, "\nwritten: %s, %s, %s in %s\n", ResultsFile, PlotFile, RawFile, out)
	if readme != "" && !run.Method.Quick {
		if err := updateReadme(readme, v); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "updated the bars in", readme)
	}
	return nil
}

// updateReadme replaces what is between the markers with this run's bars.
func updateReadme(path string, v report.View) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, readmeBegin), strings.Index(s, readmeEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %s … %s block to write the bars into", path, readmeBegin, readmeEnd)
	}
	var block bytes.Buffer
	block.WriteString(readmeBegin + "\n")
	v.ReadmeBlock(&block)
	return os.WriteFile(path, []byte(s[:i]+block.String()+s[j:]), 0o644)
}
