// Package cli is the benchrun command: the benchmark itself (run), and the modes it starts
// itself in as separate processes (load, sink, relay).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `benchrun: what a pillars deployment costs, measured as deployed.

Usage:
  benchrun run [flags]   the benchmark: builds pillars, runs every configuration, writes RESULTS.md
  benchrun first-signal  only the time from make up's services ready to a request's signals queryable
  benchrun report        write RESULTS.md, the plot and the README's bars again from a results.json
  benchrun load ...      (started by run) one load run, in its own process
  benchrun sink ...      (started by run) the telemetry sink
  benchrun relay ...     (started by run) one hop of the bare relay

Run 'benchrun run --help' for the benchmark's flags.
`

// Main runs the command and returns its exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 {
		args = []string{"run"}
	}
	var err error
	switch args[0] {
	case "run":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "report":
		err = runReport(ctx, args[1:], stdout, stderr)
	case "first-signal":
		err = runFirstSignal(ctx, args[1:], stdout, stderr)
	case "load":
		err = runLoad(ctx, args[1:], os.Stdin, stdout, stderr)
	case "sink":
		err = runSink(ctx, args[1:], stderr)
	case "relay":
		err = runRelay(ctx, args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, context.Canceled) && args[0] != "run":
		return 0 // a mode stopped by the harness
	}
	fmt.Fprintln(stderr, "benchrun:", err)
	return 1
}

// IsMode reports whether args start one of the modes the harness runs itself in: a test
// binary standing in for benchrun uses it in TestMain.
func IsMode(args []string) bool {
	return len(args) > 0 && (args[0] == "load" || args[0] == "sink" || args[0] == "relay")
}
