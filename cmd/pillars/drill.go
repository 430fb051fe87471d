package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/drill"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/verify"
)

const drillUsage = `Usage: pillars drill <command> [flags]

Practise diagnosis on a running deployment: a seed becomes an incident (or none) whose
services stop naming their faults (drill mode: no pillars.fault.* attributes, no fault log
lines, no pillars_faults_active, the console's fault list hidden, admin reads behind the
token). Find it from its symptoms, answer, and get an exact grade and the reveal.

Commands:
  start     start the episode of --seed and run it in the foreground: the fault and any
            distractor at their times, then the wait for the symptoms (void when they never
            show); it ends when answered (from another terminal), stopped or timed out
  status    the episode's public state: starting, ready (diagnose now), void, answered
  answer    grade a diagnosis: --service --kind [--component --start --notes], or a JSON
            document with --diagnosis (- reads stdin); prints the grade and the reveal
  reveal    what the last episode was (only once answered, void or stopped)
  stop      abandon the episode: every fault off, labels back on, nothing scored
  score     the scoreboard of every episode in the state directory
  bench     run --episodes episodes from --seed, an --agent command diagnosing each through
            the MCP server at --mcp-url; writes report.md and report.json
  export    write the telemetry window of the episode of --seed and its key to --dir

The key lives only in --state-dir (0700, files 0600), never in a service. Drill mode needs
the deployment's admin token. Vocabulary: services frontend|backend|database|none; kinds
` + "%s" + `; see docs/drills.md.

Run 'pillars drill <command> --help' for its flags. Every flag has a PILLARS_* variable.
`

func drillUsageText() string { return fmt.Sprintf(drillUsage, strings.Join(drill.Kinds(), "|")) }

// drillOptions are the flags every drill command shares.
type drillOptions struct {
	stateDir, token, tokenFile           string
	frontendURL, backendURL, databaseURL string
	stores                               verify.Config
	timescale                            float64
	manifestWithin, poll                 time.Duration
}

func (o *drillOptions) register(f *flags, getenv func(string) string) {
	f.String(&o.stateDir, "state-dir", defaultDrillDir(getenv), "where the episode, its answer key and the results are kept (0700)")
	f.String(&o.token, "admin-token", "", "the deployment's admin token (drill mode needs one)")
	f.String(&o.tokenFile, "admin-token-file", "", "file holding the admin token")
	f.String(&o.frontendURL, "frontend-url", "http://127.0.0.1:8001", "the frontend's base URL")
	f.String(&o.backendURL, "backend-url", "http://127.0.0.1:8002", "the backend's base URL")
	f.String(&o.databaseURL, "database-url", "http://127.0.0.1:8003", "the database service's base URL")
	storeFlags{&o.stores.PrometheusURL, &o.stores.TracesURL, &o.stores.TracesKind, &o.stores.LogsURL, &o.stores.LogsKind}.register(f)
	f.Float(&o.timescale, "drill-timescale", 1, "run the episode's timing (fault start, distractors) this many times faster")
	f.Duration(&o.manifestWithin, "manifest-within", 4*time.Minute, "how long the symptoms may take to show before the episode is void")
	f.Duration(&o.poll, "poll", 5*time.Second, "how often the symptoms and the state are read")
}

// defaultDrillDir is $XDG_STATE_HOME/pillars/drill, else ~/.local/state/pillars/drill.
func defaultDrillDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "pillars", "drill")
	}
	return filepath.Join(getenv("HOME"), ".local", "state", "pillars", "drill")
}

// desk opens the desk; withStores also opens the telemetry stores (start, bench, export).
func (o *drillOptions) desk(ctx context.Context, withStores bool, stderr io.Writer) (*drill.Desk, func(), error) {
	tok, err := adminToken(o.token, o.tokenFile, false)
	if err != nil {
		return nil, nil, err
	}
	o.token = tok
	client := &http.Client{Timeout: 10 * time.Second}
	cfg := drill.Config{
		StateDir: o.stateDir,
		Admin: map[string]*faults.AdminClient{
			drill.Frontend: faults.NewAdminClient(o.frontendURL, tok, client),
			drill.Backend:  faults.NewAdminClient(o.backendURL, tok, client),
			drill.Database: faults.NewAdminClient(o.databaseURL, tok, client),
		},
		Timescale: o.timescale, ManifestWithin: o.manifestWithin, Poll: o.poll,
	}
	closeStores := func() {}
	if withStores {
		cfg.Stores, closeStores = openSignatureStores(ctx, o.stores, stderr)
	}
	d, err := drill.NewDesk(cfg)
	return d, closeStores, err
}

// runDrill is `pillars drill ...`.
func runDrill(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, drillUsageText())
		return usageError{errors.New("drill: no command given")}
	}
	cmd, rest := args[0], args[1:]
	commands := map[string]func(context.Context, []string, func(string) string, io.Writer, io.Writer) error{
		"start": drillStart, "status": drillStatus, "answer": drillAnswer, "reveal": drillReveal,
		"stop": drillStop, "score": drillScore, "bench": drillBench, "export": drillExport,
	}
	if c, ok := commands[cmd]; ok {
		err := c(ctx, rest, getenv, stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cmd == "help" || cmd == "-h" || cmd == "-help" || cmd == "--help" {
		fmt.Fprint(stdout, drillUsageText())
		return nil
	}
	fmt.Fprint(stderr, drillUsageText())
	return usageError{fmt.Errorf("drill: unknown command %q", cmd)}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func drillStart(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o drillOptions
	var seed int64
	var seedText string
	f := newFlags("drill start", "Starts the episode of --seed and runs it in the foreground until it is answered, stopped or times out.", stderr)
	o.register(f, getenv)
	f.String(&seedText, "seed", "", "the episode's seed (an integer; empty: a random one, not shown)")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	seed, err := parseSeed(seedText)
	if err != nil {
		return usageError{err}
	}
	d, closeStores, err := o.desk(ctx, true, stderr)
	if err != nil {
		return err
	}
	defer closeStores()
	st, err := d.Start(ctx, seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Episode %s started. Follow it with `pillars drill status`; answer with `pillars drill answer`.\n", st.ID)
	// Ctrl-C abandons the episode: the run sees it in the state file and cleans up.
	stop := context.AfterFunc(ctx, func() { _, _ = d.Stop(context.WithoutCancel(ctx)) })
	defer stop()
	d.Wait()
	st, err = d.Status(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Episode %s ended: %s.\n", st.ID, st.State)
	if st.VoidReason != "" {
		fmt.Fprintln(stdout, "Void:", st.VoidReason)
	}
	return nil
}

// parseSeed reads a seed; "" draws one at random (so that nobody watching knows it).
func parseSeed(text string) (int64, error) {
	if text == "" {
		return time.Now().UnixNano() & (1<<53 - 1), nil
	}
	var seed int64
	if _, err := fmt.Sscan(text, &seed); err != nil {
		return 0, fmt.Errorf("--seed %q: want an integer", text)
	}
	return seed, nil
}

// simpleDrill runs a command that needs the state directory only.
func simpleDrill(name, summary string, do func(context.Context, *drill.Desk) (any, error)) func(context.Context, []string, func(string) string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
		var o drillOptions
		f := newFlags("drill "+name, summary, stderr)
		o.register(f, getenv)
		if err := f.parse(args, getenv); err != nil {
			return err
		}
		d, closeStores, err := o.desk(ctx, false, stderr)
		if err != nil {
			return err
		}
		defer closeStores()
		v, err := do(ctx, d)
		if err != nil {
			return err
		}
		return printJSON(stdout, v)
	}
}

var (
	drillStatus = simpleDrill("status", "Prints the episode's public state (never its key).",
		func(ctx context.Context, d *drill.Desk) (any, error) { return d.Status(ctx) })
	drillReveal = simpleDrill("reveal", "Prints what the last episode was, once it is answered, void or stopped.",
		func(ctx context.Context, d *drill.Desk) (any, error) { return d.Reveal(ctx) })
	drillStop = simpleDrill("stop", "Abandons the episode: every fault off, labels back on, nothing scored.",
		func(ctx context.Context, d *drill.Desk) (any, error) { return d.Stop(ctx) })
)

func drillScore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o drillOptions
	var asJSON bool
	f := newFlags("drill score", "Prints the scoreboard of every episode in the state directory: by family, by distractor, and the void ones.", stderr)
	o.register(f, getenv)
	f.Bool(&asJSON, "json", false, "print JSON instead of Markdown tables")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	d, closeStores, err := o.desk(ctx, false, stderr)
	if err != nil {
		return err
	}
	defer closeStores()
	sb, err := d.Score(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, sb)
	}
	_, err = fmt.Fprint(stdout, sb.Markdown("Drill scores"))
	return err
}

func drillAnswer(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o drillOptions
	var doc string
	var diag drill.Diagnosis
	f := newFlags("drill answer", "Grades a diagnosis of the current episode and reveals it. Give the fields as flags, or a JSON document with --diagnosis.", stderr)
	o.register(f, getenv)
	f.String(&doc, "diagnosis", "", `a diagnosis document, {"service": ..., "kind": ..., "component": ...}; - reads it from stdin`)
	f.String(&diag.Service, "service", "", "the service at fault: "+strings.Join(drill.Services(), ", "))
	f.String(&diag.Kind, "kind", "", "the root-cause kind: "+strings.Join(drill.Kinds(), ", "))
	f.String(&diag.Component, "component", "", "the route template, table or dependency (may be empty)")
	f.String(&diag.Start, "start", "", "when it started (RFC 3339; optional)")
	f.String(&diag.Notes, "notes", "", "why you think so (optional, at most 2 KiB)")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	var body io.Reader
	switch {
	case doc == "-":
		body = os.Stdin
	case doc != "":
		body = strings.NewReader(doc)
	default:
		b, _ := json.Marshal(diag)
		body = strings.NewReader(string(b))
	}
	d, closeStores, err := o.desk(ctx, false, stderr)
	if err != nil {
		return err
	}
	defer closeStores()
	res, err := d.Answer(ctx, body)
	if fe, ok := errors.AsType[*drill.FieldError](err); ok {
		return usageError{fe}
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, res)
}

func drillBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o drillOptions
	var cfg drill.BenchConfig
	var seedText, agent string
	f := newFlags("drill bench", "Runs --episodes episodes from --seed one after another on a running deployment; the --agent command diagnoses each through the MCP server and gets PILLARS_MCP_URL, PILLARS_MCP_TOKEN, PILLARS_DRILL_BUDGET and PILLARS_DRILL_EPISODE. Writes report.md and report.json.", stderr)
	o.register(f, getenv)
	f.Int(&cfg.Episodes, "episodes", 10, "how many episodes")
	f.String(&seedText, "seed", "1", "seed of the first episode (the next ones: +1, +2, ...)")
	f.String(&agent, "agent", "", `the agent command, split on spaces ("pillars agent baseline")`)
	f.String(&cfg.MCPURL, "mcp-url", "", "the MCP server the agent talks to (streamable HTTP); empty: one served by the bench itself on a free loopback port")
	f.Duration(&cfg.Budget, "budget", 3*time.Minute, "time budget of the agent per episode")
	f.String(&cfg.ReportDir, "report-dir", "drill-report", "where report.md and report.json go")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	seed, err := parseSeed(seedText)
	if err != nil {
		return usageError{err}
	}
	cfg.Seed, cfg.Agent = seed, strings.Fields(agent)
	if len(cfg.Agent) == 0 || cfg.Episodes < 1 {
		return usageError{errors.New("drill bench: --agent and --episodes (1 or more) are needed")}
	}
	d, closeStores, err := o.desk(ctx, true, stderr)
	if err != nil {
		return err
	}
	defer closeStores()
	cfg.MCPToken, cfg.Stdout, cfg.Stderr = o.token, stdout, stderr
	if cfg.MCPURL == "" {
		served, stop := context.WithCancel(ctx)
		defer stop()
		if cfg.MCPURL, err = serveBenchMCP(served, d, o, stderr); err != nil {
			return err
		}
	}
	rep, err := d.Bench(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, rep.Scoreboard.Markdown("Drill benchmark"))
	fmt.Fprintf(stdout, "\nReport: %s\n", filepath.Join(cfg.ReportDir, "report.md"))
	return nil
}

func drillExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o drillOptions
	var cfg drill.ExportConfig
	var seedText string
	f := newFlags("drill export", "Writes the telemetry window of the episode of --seed (metrics by query_range, traces, logs) and its key to --dir, for offline methods.", stderr)
	o.register(f, getenv)
	f.String(&seedText, "seed", "", "the episode's seed")
	f.String(&cfg.Dir, "dir", "", "the directory to write")
	f.Duration(&cfg.Step, "step", 15*time.Second, "step of the metric ranges")
	f.Int(&cfg.Limit, "limit", 500, "at most this many traces and log lines per service")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	if seedText == "" || cfg.Dir == "" {
		return usageError{errors.New("drill export: --seed and --dir are needed")}
	}
	seed, err := parseSeed(seedText)
	if err != nil {
		return usageError{err}
	}
	cfg.Seed = seed
	d, closeStores, err := o.desk(ctx, true, stderr)
	if err != nil {
		return err
	}
	defer closeStores()
	cfg.Stores = d.Stores()
	m, err := d.Export(ctx, cfg)
	if err != nil {
		return err
	}
	return printJSON(stdout, m)
}
