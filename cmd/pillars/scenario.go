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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/scenarios"
	"github.com/pillars-o11y/pillars/internal/termtext"
	"github.com/pillars-o11y/pillars/internal/verify"
)

const scenarioUsage = `Usage: pillars scenario <command> [arguments] [flags]

Puts a running deployment through an incident, through the frontend's admin API
(/admin/scenario), and checks that the incident shows in the telemetry.

Commands:
  list            the scenarios the frontend offers
  run NAME        start a scenario and follow it until it ends (Ctrl-C stops it)
  run --blind     start a random scenario without naming it, for practice
  stop            stop the running scenario: each service's own faults back, the traffic
                  as before; ends a scenario's faults left on any service even when the
                  frontend has no record of it (it restarted)
  status          the running scenario (or the last one): its steps and the time left
  reveal          name the blind scenario, running or the last one
  check NAME      read the scenario's signature back from Prometheus, the trace store and
                  the log store, and say which items are there (exit 1 when one is missing)
  token           print the admin token these commands send (for curl)

Run 'pillars scenario <command> --help' for its flags. Every flag has a PILLARS_* variable.
`

// scenarioClient is how every subcommand reaches the frontend.
type scenarioClient struct {
	frontendURL, token, tokenFile string
	admin                         *faults.AdminClient
}

func (c *scenarioClient) register(f *flags) {
	f.String(&c.frontendURL, "frontend-url", "http://127.0.0.1:8001", "the frontend that runs the scenarios")
	f.String(&c.token, "admin-token", "", "the deployment's admin token")
	f.String(&c.tokenFile, "admin-token-file", "", "file holding the admin token (in compose the services set it: run the command in the frontend's container)")
}

func (c *scenarioClient) open() error {
	tok, err := adminToken(c.token, c.tokenFile, false)
	if err != nil {
		return err
	}
	c.token = tok
	c.admin = faults.NewAdminClient(c.frontendURL, c.token, &http.Client{Timeout: 10 * time.Second})
	return nil
}

func (c *scenarioClient) status(ctx context.Context) (scenarios.Status, error) {
	var st scenarios.Status
	return st, c.admin.Do(ctx, http.MethodGet, "/admin/scenario", nil, &st)
}

// runScenario is `pillars scenario ...`.
func runScenario(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, scenarioUsage)
		return usageError{errors.New("scenario: no command given")}
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "list":
		err = scenarioList(ctx, rest, getenv, stdout, stderr)
	case "run":
		err = scenarioRun(ctx, rest, getenv, stdout, stderr)
	case "stop":
		err = scenarioSimple(ctx, "stop", http.MethodDelete, "/admin/scenario", rest, getenv, stdout, stderr)
	case "status":
		err = scenarioSimple(ctx, "status", http.MethodGet, "/admin/scenario", rest, getenv, stdout, stderr)
	case "reveal":
		err = scenarioSimple(ctx, "reveal", http.MethodGet, "/admin/scenario/reveal", rest, getenv, stdout, stderr)
	case "check":
		err = scenarioCheck(ctx, rest, getenv, stdout, stderr)
	case "token":
		err = scenarioToken(rest, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, scenarioUsage)
		return nil
	default:
		fmt.Fprint(stderr, scenarioUsage)
		return usageError{fmt.Errorf("scenario: unknown command %q", cmd)}
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// nameArg takes the scenario's name off the front of args.
func nameArg(cmd string, args []string, optional bool) (string, []string, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:], nil
	}
	if optional {
		return "", args, nil
	}
	return "", args, usageError{fmt.Errorf("scenario %s: name the scenario: pillars scenario %s NAME (see pillars scenario list)", cmd, cmd)}
}

func scenarioFlags(cmd, summary string, stderr io.Writer) *flags {
	f := newFlags("scenario "+cmd, summary, stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pillars scenario %s [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", cmd, summary)
		f.fs.PrintDefaults()
	}
	return f
}

func scenarioList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c scenarioClient
	var asJSON bool
	f := scenarioFlags("list", "Lists the scenarios the frontend offers.", stderr)
	c.register(f)
	f.Bool(&asJSON, "json", false, "print the library as JSON: every scenario with its steps and signature")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	if err := c.open(); err != nil {
		return err
	}
	var list []scenarios.Scenario
	if err := c.admin.Do(ctx, http.MethodGet, "/admin/scenarios", nil, &list); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDURATION\tTITLE")
	for _, sc := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", termtext.Escape(sc.Name), shortDuration(sc.Duration.D()), termtext.Escape(sc.Title))
	}
	return tw.Flush()
}

// scenarioSimple is a subcommand that makes one call and prints the answer.
func scenarioSimple(ctx context.Context, cmd, method, path string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c scenarioClient
	var asJSON bool
	summaries := map[string]string{
		"stop":   "Stops the running scenario: every service's own faults back (those it had before), the traffic as it was before. It also ends scenario faults that a frontend which was killed or restarted left on any service.",
		"status": "Shows the running scenario, or the last one: its steps so far and the time left.",
		"reveal": "Names the blind scenario, the running one or the last one, and tells its story.",
	}
	f := scenarioFlags(cmd, summaries[cmd], stderr)
	c.register(f)
	f.Bool(&asJSON, "json", false, "print the answer as JSON")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	if err := c.open(); err != nil {
		return err
	}
	if cmd == "reveal" {
		var rv scenarios.Revealed
		if err := c.admin.Do(ctx, method, path, nil, &rv); err != nil {
			return err
		}
		if asJSON {
			return writeJSON(stdout, rv)
		}
		scenario := termtext.Escape(rv.Scenario)
		fmt.Fprintf(stdout, "It was %s: %s.\n\n%s\n\nWalkthrough: docs/incidents/%s.md\n", scenario, termtext.Escape(rv.Title), termtext.EscapeText(rv.Story), scenario)
		return nil
	}
	var st scenarios.Status
	if err := c.admin.Do(ctx, method, path, nil, &st); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, st)
	}
	if cmd == "stop" && st.Scenario == "" {
		fmt.Fprintln(stdout, "No scenario has run since the frontend started.")
	} else {
		printStatus(stdout, st)
	}
	if cmd == "stop" {
		printReleased(stdout, st)
	}
	return nil
}

// printReleased says what a stop did to each service's faults.
func printReleased(w io.Writer, st scenarios.Status) {
	if len(st.Released) > 0 {
		fmt.Fprintf(w, "Scenario faults ended on %s: each has the faults it had before the scenario again.\n", strings.Join(st.Released, ", "))
	} else if len(st.Unreached) == 0 {
		fmt.Fprintln(w, "No service held scenario faults.")
	}
	for _, u := range st.Unreached {
		fmt.Fprintf(w, "Not reached: %s (its scenario faults end on their own when their lease expires).\n", u)
	}
}

func printStatus(w io.Writer, st scenarios.Status) {
	switch {
	case st.Scenario == "":
		fmt.Fprintln(w, "No scenario has run since the frontend started.")
	case st.Active:
		fmt.Fprintf(w, "%s is running: %s elapsed, %s left, step %d of %d.\n", describeRun(st), st.Elapsed.D(), st.Remaining.D(), st.StepsDone, st.Steps)
	default:
		fmt.Fprintf(w, "%s %s after %s (%d of %d steps).\n", describeRun(st), termtext.Escape(st.Outcome), st.Elapsed.D(), st.StepsDone, st.Steps)
	}
	for _, ev := range st.Events {
		printEvent(w, st, ev)
	}
	if st.Chaos > 0 {
		fmt.Fprintf(w, "Chaos mode is on: a random scenario every %s.\n", st.Chaos.D())
	}
}

func describeRun(st scenarios.Status) string {
	if st.Title == "" {
		return "A blind scenario"
	}
	// The frontend's answer, which a scenario file wrote: shown, never acted on by a terminal.
	s := termtext.Escape(st.Scenario) + " (" + termtext.Escape(st.Title) + ")"
	if st.Timescale > 1 {
		s += fmt.Sprintf(" at %gx", st.Timescale)
	}
	return s
}

func printEvent(w io.Writer, st scenarios.Status, ev scenarios.Event) {
	text := ev.Say
	if text == "" {
		text = ev.Did
	} else if ev.Did != "" {
		text += " (" + ev.Did + ")"
	}
	if text == "" {
		text = "something changes"
	}
	fmt.Fprintf(w, "  [+%s] step %d/%d: %s\n", ev.At.D().Round(time.Second), ev.Step, st.Steps, termtext.Escape(text))
	if ev.Error != "" {
		fmt.Fprintf(w, "          failed: %s\n", termtext.Escape(ev.Error))
	}
}

const runSummary = `Starts a scenario on the frontend and follows it: each step as it happens and a countdown,
until the scenario ends. Ctrl-C stops it (each service's own faults back, the traffic as before). With
--blind and no name, a random scenario runs unnamed: find out what it is from the dashboards,
traces and logs, then 'pillars scenario reveal'.`

func scenarioRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name, args, err := nameArg("run", args, true)
	if err != nil {
		return err
	}
	var c scenarioClient
	var req scenarios.StartRequest
	var detach bool
	f := scenarioFlags("run NAME", runSummary, stderr)
	c.register(f)
	f.Bool(&req.Blind, "blind", false, "run it unnamed (a random one when no name is given)")
	f.Float(&req.Timescale, "timescale", 1, "run the steps this many times faster (30 matches the time-scaled alert rules of the tests)")
	f.Bool(&detach, "detach", false, "start it and return at once, without following it")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	if name == "" && !req.Blind {
		return usageError{errors.New("scenario run: name the scenario, or ask for --blind (see pillars scenario list)")}
	}
	req.Name = name
	if err := c.open(); err != nil {
		return err
	}
	var st scenarios.Status
	if err := c.admin.Do(ctx, http.MethodPut, "/admin/scenario", req, &st); err != nil {
		return err
	}
	if req.Blind {
		fmt.Fprintf(stdout, "A blind scenario started: %s to find out what is wrong. 'pillars scenario reveal' names it.\n", st.Remaining.D())
	} else {
		fmt.Fprintf(stdout, "%s started: %s.\n", describeRun(st), st.Remaining.D())
	}
	if detach {
		return nil
	}
	return followRun(ctx, &c, st, stdout, stderr)
}

// followRun prints the run's steps as they happen and a countdown until it ends; when ctx
// ends first (Ctrl-C), it stops the run.
func followRun(ctx context.Context, c *scenarioClient, st scenarios.Status, stdout, stderr io.Writer) error {
	started := *st.Started
	shown := 0
	live := isTerminal(stderr)
	lastLine := time.Time{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for ; shown < len(st.Events); shown++ {
			if live {
				fmt.Fprint(stderr, "\r\033[K")
			}
			printEvent(stdout, st, st.Events[shown])
		}
		if !st.Active {
			if live {
				fmt.Fprint(stderr, "\r\033[K")
			}
			fmt.Fprintf(stdout, "%s %s after %s.\n", describeRun(st), st.Outcome, st.Elapsed.D())
			if st.Title != "" {
				fmt.Fprintf(stdout, "Check what it left in the telemetry: pillars scenario check %s\n", st.Scenario)
			}
			return nil
		}
		switch {
		case live:
			fmt.Fprintf(stderr, "\r\033[K  %s left, step %d of %d", st.Remaining.D(), st.StepsDone, st.Steps)
		case time.Since(lastLine) >= 30*time.Second:
			fmt.Fprintf(stderr, "  %s left, step %d of %d\n", st.Remaining.D(), st.StepsDone, st.Steps)
			lastLine = time.Now()
		}
		select {
		case <-ctx.Done():
			if live {
				fmt.Fprint(stderr, "\r\033[K")
			}
			stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var final scenarios.Status
			if err := c.admin.Do(stopCtx, http.MethodDelete, "/admin/scenario", nil, &final); err != nil {
				return fmt.Errorf("stopping the scenario: %w", err)
			}
			fmt.Fprintf(stdout, "%s stopped after %s.\n", describeRun(final), final.Elapsed.D())
			printReleased(stdout, final)
			return nil
		case <-tick.C:
		}
		next, err := c.status(ctx)
		if err != nil {
			if ctx.Err() != nil {
				continue // the stop is handled above
			}
			return err
		}
		if next.Started == nil || !next.Started.Equal(started) {
			fmt.Fprintln(stdout, "The scenario was replaced by another one (stopped from elsewhere).")
			return nil
		}
		st = next
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

const checkSummary = `Reads a scenario's signature back from the telemetry backends, the way a person on call would
look: the PromQL that must cross its threshold, the span that must fail or carry an attribute,
the log lines that must appear, the alerts that must fire. It waits up to --timeout for every
item, printing progress, then a checklist; the exit status is 1 when an item was not seen.
Spans and log lines are searched from the start of the scenario's last run (or --since).
The signature comes from the frontend's library, or the built-in one when the frontend is not
reachable.`

func scenarioCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	name, args, err := nameArg("check", args, false)
	if err != nil {
		return err
	}
	var c scenarioClient
	var stores verify.Config
	var opts scenarios.CheckOptions
	var timeout, since time.Duration
	var asJSON bool
	f := scenarioFlags("check NAME", checkSummary, stderr)
	c.register(f)
	storeFlags{&stores.PrometheusURL, &stores.TracesURL, &stores.TracesKind, &stores.LogsURL, &stores.LogsKind}.register(f)
	f.Duration(&timeout, "timeout", 2*time.Minute, "how long to wait for every item to show")
	f.Duration(&since, "since", 0, "search spans and log lines this far back (default: since the scenario's last start, else 15m)")
	f.String(&opts.Timescale, "timescale", "", `look for the alerts of the time-scaled rules, labelled timescale="<this>" (the tests use 30)`)
	f.Bool(&asJSON, "json", false, "print the results as JSON")
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	if err := c.open(); err != nil {
		return err
	}
	sc, runStart, err := signatureOf(ctx, &c, name, stderr)
	if err != nil {
		return err
	}
	switch {
	case since > 0:
		opts.Since = time.Now().Add(-since)
	case !runStart.IsZero():
		opts.Since = runStart
	}
	st, closeStores := openSignatureStores(ctx, stores, stderr)
	defer closeStores()
	deadline := time.Now().Add(timeout)
	var results []scenarios.Result
	for {
		results = scenarios.Check(ctx, sc.Signature, st, opts)
		missing := missingItems(results)
		if len(missing) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "  %d of %d items seen; waiting for %s\n", len(results)-len(missing), len(results), termtext.Escape(strings.Join(missing, "; ")))
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	if asJSON {
		if err := writeJSON(stdout, results); err != nil {
			return err
		}
	} else {
		printResults(stdout, sc, results)
	}
	if missing := missingItems(results); len(missing) > 0 {
		return fmt.Errorf("scenario check %s: %d of %d items not seen", name, len(missing), len(results))
	}
	return nil
}

// signatureOf finds the scenario in the frontend's library (and when its last run started),
// or in the built-in library when the frontend cannot be asked.
func signatureOf(ctx context.Context, c *scenarioClient, name string, stderr io.Writer) (*scenarios.Scenario, time.Time, error) {
	var list []scenarios.Scenario
	err := c.admin.Do(ctx, http.MethodGet, "/admin/scenarios", nil, &list)
	if err != nil {
		fmt.Fprintf(stderr, "The frontend's library cannot be read (%s); using the built-in one.\n", termtext.Escape(err.Error()))
		lib, lerr := loadScenarios("")
		if lerr != nil {
			return nil, time.Time{}, lerr
		}
		sc, gerr := lib.Get(name)
		return sc, time.Time{}, gerr
	}
	var known []string
	for i := range list {
		if list[i].Name == name {
			var start time.Time
			if st, err := c.status(ctx); err == nil && st.Scenario == name && st.Started != nil {
				start = *st.Started
			}
			return &list[i], start, nil
		}
		known = append(known, list[i].Name)
	}
	return nil, time.Time{}, usageError{&scenarios.UnknownError{Name: name, Known: known}}
}

// openSignatureStores connects to the three backends; one that cannot be opened leaves its
// items to report the error.
func openSignatureStores(ctx context.Context, cfg verify.Config, stderr io.Writer) (scenarios.Stores, func()) {
	client := &http.Client{Timeout: readback.DefaultTimeout}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var st scenarios.Stores
	if prom, err := readback.NewPrometheus(cfg.PrometheusURL, client); err != nil {
		fmt.Fprintln(stderr, "Prometheus:", termtext.Escape(err.Error()))
	} else if _, err := prom.Ping(ctx); err != nil {
		fmt.Fprintln(stderr, termtext.Escape(err.Error()))
	} else {
		st.Prometheus = prom
	}
	if traces, err := readback.OpenTraces(ctx, cfg.TracesKind, cfg.TracesURL, client); err != nil {
		fmt.Fprintln(stderr, termtext.Escape(err.Error()))
	} else {
		st.Traces = traces
	}
	if logs, err := readback.OpenLogs(ctx, cfg.LogsKind, cfg.LogsURL, client); err != nil {
		fmt.Fprintln(stderr, termtext.Escape(err.Error()))
	} else {
		st.Logs = logs
	}
	return st, client.CloseIdleConnections
}

func missingItems(results []scenarios.Result) []string {
	var out []string
	for _, r := range results {
		if !r.Observed {
			out = append(out, r.Signal+": "+r.Item)
		}
	}
	return out
}

func printResults(w io.Writer, sc *scenarios.Scenario, results []scenarios.Result) {
	// Items, details and queries quote the stores' answers: escaped, as everything printed from
	// outside the process.
	fmt.Fprintf(w, "Signature of %s (%s):\n", termtext.Escape(sc.Name), termtext.Escape(sc.Title))
	for _, r := range results {
		mark, detail := "PASS", r.Detail
		switch {
		case r.Error != "":
			mark, detail = "FAIL", r.Error
		case !r.Observed:
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s  %-7s  %s\n        %s\n", mark, termtext.Escape(r.Signal), termtext.Escape(r.Item), termtext.Escape(detail))
		if mark == "FAIL" && r.Query != "" {
			fmt.Fprintf(w, "        query: %s\n", termtext.Escape(strings.Join(strings.Fields(r.Query), " ")))
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// shortDuration writes 25m0s as 25m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// scenarioToken prints the admin token: in compose, where the services generate one into a
// shared file, 'docker compose exec frontend /pillars scenario token'.
func scenarioToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c scenarioClient
	f := scenarioFlags("token", "Prints the admin token the scenario commands send, from --admin-token or --admin-token-file.", stderr)
	c.register(f)
	if err := f.parse(args, getenv); err != nil {
		return err
	}
	if err := c.open(); err != nil {
		return err
	}
	if c.token == "" {
		return errors.New("scenario token: no admin token is set (--admin-token or --admin-token-file)")
	}
	fmt.Fprintln(stdout, c.token)
	return nil
}
