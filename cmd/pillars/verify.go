package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pillars-o11y/pillars/internal/verify"
)

const verifySummary = `Sends a few requests to a running frontend (a cache miss, a cache hit, a product, a request that
must fail) and checks through the backends' own query APIs that each one's trace, log lines and
metrics arrived and are linked: spans of every service with the right parents, log lines by trace
id, counters that moved, an exemplar naming a stored trace, Tempo's service graph, and, given the
Grafana data sources, that each link's query finds the request's data. Prints a checklist (--json
for a machine) and exits 1 when a check fails. The defaults fit 'make up'; in compose:
'docker compose run --rm verify'.`

// verifyFlags are the flags of `pillars verify`; the defaults are the addresses of `make up`.
type verifyFlags struct {
	cfg  verify.Config
	json bool
}

func parseVerifyFlags(args []string, getenv func(string) string, stderr io.Writer) (verifyFlags, error) {
	var v verifyFlags
	f := newFlags("verify", verifySummary, stderr)
	f.fs.Usage = func() { // the OpenTelemetry variables of the services do not apply here
		fmt.Fprintf(stderr, "Usage: pillars verify [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", verifySummary)
		f.fs.PrintDefaults()
	}
	f.String(&v.cfg.FrontendURL, "frontend-url", "http://127.0.0.1:8001", "the frontend to send requests to")
	registerStoreFlags(f, &v.cfg)
	f.String(&v.cfg.Datasources, "datasources", "", "Grafana data source provisioning file whose links to check (e.g. deploy/grafana/provisioning/datasources/datasources.yaml)")
	f.String(&v.cfg.GrafanaURL, "grafana-url", "", "read the data sources from this Grafana's /api/datasources instead (credentials may be in the URL)")
	f.String(&v.cfg.GrafanaToken, "grafana-token", "", "bearer token (a service account's) for --grafana-url")
	f.Bool(&v.json, "json", false, "print the report as JSON instead of the checklist")
	f.Duration(&v.cfg.Timeout, "timeout", verify.DefaultTimeout, "how long each check waits for its signal to arrive")
	if err := f.parse(args, getenv); err != nil {
		return v, err
	}
	if v.cfg.Timeout <= 0 {
		return v, usageError{fmt.Errorf("--timeout %s: want a positive duration", v.cfg.Timeout)}
	}
	v.cfg.Getenv = getenv
	return v, nil
}

// registerStoreFlags adds the flags that say where the telemetry backends are, with the
// defaults of 'make up': verify's, and those of every command that reads the backends.
func registerStoreFlags(f *flags, cfg *verify.Config) {
	f.String(&cfg.PrometheusURL, "prometheus-url", "http://127.0.0.1:19090", "Prometheus HTTP API")
	f.String(&cfg.TracesURL, "traces-url", "http://127.0.0.1:16686", "trace store: Jaeger's query API (make up) or Tempo's HTTP API (http://tempo:3200 in compose)")
	f.String(&cfg.TracesKind, "traces-kind", "auto", "auto, jaeger or tempo")
	f.String(&cfg.LogsURL, "logs-url", "http://127.0.0.1:19428", "log store: VictoriaLogs (make up) or Loki (http://loki:3100 in compose)")
	f.String(&cfg.LogsKind, "logs-kind", "auto", "auto, victorialogs or loki")
}

// runVerify checks a running deployment: progress to stderr, the report to stdout.
func runVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	v, err := parseVerifyFlags(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	v.cfg.Progress = stderr
	start := time.Now()
	rep := verify.Run(ctx, v.cfg)
	if v.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if !rep.Passed {
		return fmt.Errorf("verify: %d of %d checks failed (%s)", rep.Counts.Failed, len(rep.Checks), time.Since(start).Round(time.Second))
	}
	return nil
}
