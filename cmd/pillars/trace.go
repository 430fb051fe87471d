package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/traceview"
)

const traceSummary = `Prints one trace from the trace store as a waterfall: the span tree with each span's service,
duration and a bar to scale, failed spans marked ✗ with their status message; then the trace's
log lines from the log store, then the metrics whose exemplars name it. The id is the one of a
traceresponse header, a log line or an exemplar (fewer than 32 hex digits are padded with
leading zeros; a whole traceparent or traceresponse value works too). A trace that is not in
the store yet is waited for (--wait). The defaults fit 'make up'.`

// traceFlags are the flags of `pillars trace`.
type traceFlags struct {
	id                                                      string
	prometheusURL, tracesURL, tracesKind, logsURL, logsKind string
	wait                                                    time.Duration
}

func parseTraceFlags(args []string, getenv func(string) string, stderr io.Writer) (traceFlags, error) {
	var t traceFlags
	f := newFlags("trace", traceSummary, stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pillars trace <trace id> [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", traceSummary)
		f.fs.PrintDefaults()
	}
	storeFlags{&t.prometheusURL, &t.tracesURL, &t.tracesKind, &t.logsURL, &t.logsKind}.register(f)
	f.Duration(&t.wait, "wait", 10*time.Second, "how long to wait for the trace to reach the trace store")
	t.id, args = traceIDArg(args)
	if err := f.parse(args, getenv); err != nil {
		return t, err
	}
	if t.id == "" {
		f.fs.Usage()
		return t, usageError{errors.New("trace: give the id of the trace to show, e.g. pillars trace 4bf92f3577b34da6a3ce929d0e0e4736")}
	}
	if t.wait <= 0 {
		return t, usageError{fmt.Errorf("--wait %s: want a positive duration", t.wait)}
	}
	return t, nil
}

// traceIDArg takes the trace id out of the arguments: the one argument that is neither a
// flag nor a flag's value, wherever it stands (every flag of the command takes a value, so
// "--logs-url x" is a flag and its value, and "--logs-url=x" one argument).
func traceIDArg(args []string) (string, []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if i > 0 {
			if prev := args[i-1]; strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") && prev != "--" {
				continue // the value of the flag before it
			}
		}
		rest := append(append([]string(nil), args[:i]...), args[i+1:]...)
		return a, rest
	}
	return "", args
}

// runTrace prints one trace: progress to stderr, the waterfall to stdout.
func runTrace(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	t, err := parseTraceFlags(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if _, err := traceview.ParseTraceID(t.id); err != nil {
		return usageError{err}
	}
	client := &http.Client{Timeout: readback.DefaultTimeout}
	stores, err := openTraceStores(ctx, t, client)
	if err != nil {
		return err
	}
	v, err := traceview.Fetch(ctx, stores, t.id, traceview.Options{Wait: t.wait, Progress: stderr})
	if err != nil {
		return err
	}
	if err := traceview.Render(stdout, v); err != nil {
		return err
	}
	// The trace was shown; a store that could not be read still makes the exit status say so.
	return errors.Join(storeProblem("log store", stores.LogsDown), storeProblem("Prometheus", stores.PrometheusDown))
}

// openTraceStores connects to the three stores. The trace store is required; the log store
// and Prometheus that cannot be reached are reported in their part of the output instead.
func openTraceStores(ctx context.Context, t traceFlags, client *http.Client) (traceview.Stores, error) {
	ctx, cancel := context.WithTimeout(ctx, readback.DefaultTimeout)
	defer cancel()
	var s traceview.Stores
	var err error
	if s.Traces, err = readback.OpenTraces(ctx, t.tracesKind, t.tracesURL, client); err != nil {
		return s, fmt.Errorf("the trace store at %s is unusable: %w", t.tracesURL, err)
	}
	if s.Logs, err = readback.OpenLogs(ctx, t.logsKind, t.logsURL, client); err != nil {
		s.Logs, s.LogsDown = nil, err
	}
	prom, err := readback.NewPrometheus(t.prometheusURL, client)
	if err == nil {
		_, err = prom.Ping(ctx)
	}
	if err != nil {
		s.PrometheusDown = err
	} else {
		s.Prometheus = prom
	}
	return s, nil
}

func storeProblem(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s unusable: %w", what, err)
}
