// Command pillars runs the three services of the pillars observability reference system:
// frontend → backend → database, each emitting Prometheus metrics, OpenTelemetry traces and
// structured logs shipped to Loki, all linked by trace id.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/pillars-o11y/pillars/internal/termtext"
)

// gcPercent is the GC target the services run with unless GOGC says otherwise. A request
// allocates its spans, log records and answers, and lives for microseconds: with Go's
// default of 100 and a live heap of a few megabytes the collector ran every couple of hundred
// requests, and its work was a third of the CPU the frontend spent per request with every
// signal on. At 200 it runs half as often for some 5-10 MB more resident memory, measured
// in bench/RESULTS.md; GOMEMLIMIT still bounds the heap.
const gcPercent = 200

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The first signal starts the graceful shutdown; a second one, with the default handling
	// restored, ends the process at once.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		// An error may quote a store's or a service's answer: shown, never acted on.
		fmt.Fprintln(os.Stderr, "pillars:", termtext.EscapeText(err.Error()))
		os.Exit(exitCode(err))
	}
}
