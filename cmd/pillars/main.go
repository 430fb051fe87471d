// Command pillars runs the three services of the pillars observability reference system:
// frontend → backend → database, each emitting Prometheus metrics, OpenTelemetry traces and
// structured logs shipped to Loki, all linked by trace id.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The first signal starts the graceful shutdown; a second one, with the default handling
	// restored, ends the process at once.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pillars:", err)
		os.Exit(exitCode(err))
	}
}
