// Package verify checks a running pillars deployment end to end, the way a person would:
// it sends a few requests to the frontend (a cache miss, a cache hit, a product, a request
// that must fail) and then reads the three signals back through the backends' own query
// APIs (package readback) until each has arrived or its deadline passes:
//
//   - each request's trace, with the spans of every service it touched and the right parents;
//   - its log lines, found by its trace id, and the failing request's error line;
//   - the metrics that moved, and an exemplar that names a trace the trace store really has;
//   - the service graph, when the trace store is Tempo (its metrics generator makes it);
//   - the links of the Grafana data sources (log → trace, trace → logs, exemplar → trace):
//     the query each link would run is run against the real stores and must find something.
//
// The outcome is a [Report]: a checklist for a person, JSON for a machine. `pillars verify`
// is the command; the end-to-end tests run it, and so can `docker compose run --rm verify`.
package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/termtext"
)

// Config says where everything is. Empty kinds mean "auto": told from what the URL answers.
type Config struct {
	FrontendURL   string
	PrometheusURL string
	TracesURL     string
	TracesKind    string // auto, jaeger, tempo
	LogsURL       string
	LogsKind      string // auto, victorialogs, loki
	// Datasources is a Grafana data source provisioning file whose links are checked;
	// GrafanaURL instead reads the data sources from a running Grafana's HTTP API (with
	// GrafanaToken as a bearer token, or credentials in the URL). Both empty: no link checks.
	Datasources  string
	GrafanaURL   string
	GrafanaToken string
	// Timeout is how long each check waits for its signal to arrive.
	Timeout time.Duration
	// Getenv expands $VAR in a provisioning file the way Grafana does; nil means none set.
	Getenv func(string) string
	// Progress receives a line now and then while checks wait; nil discards them.
	Progress io.Writer
	// HTTPClient is used for every call; nil means one with a 10 s timeout per call.
	HTTPClient *http.Client
}

// DefaultTimeout is how long a check waits when Config.Timeout is zero: long enough for a
// 15 s scrape interval and Tempo's few seconds before a trace is searchable.
const DefaultTimeout = 60 * time.Second

// runner is one run's state, shared by the checks.
type runner struct {
	cfg     Config
	client  *http.Client
	started time.Time

	progressMu sync.Mutex

	prom    *readback.Prometheus
	traces  readback.TraceStore
	logs    readback.LogStore
	sources []dataSource

	// Why a store is unusable, for the checks that need it ("" when usable).
	promDown, tracesDown, logsDown, sourcesDown string

	baseline map[string]float64
	requests []*request
}

// Run performs every check and returns the report; it never returns early on a failed
// check, and it ends within about the timeout whatever the backends do.
func Run(ctx context.Context, cfg Config) Report {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: readback.DefaultTimeout}
	}
	r := &runner{cfg: cfg, client: client, started: time.Now()}
	rep := Report{Started: r.started}

	rep.Checks = append(rep.Checks, r.openStores(ctx)...)
	rep.Backends = r.backends()
	r.baseline = r.readBaseline(ctx)
	rep.Checks = append(rep.Checks, r.sendRequests(ctx)...)
	rep.Checks = append(rep.Checks, r.parallel(ctx, r.signalChecks())...)
	rep.Checks = append(rep.Checks, r.parallel(ctx, r.linkChecks())...)
	rep.finish()
	return rep
}

// checkFunc runs one check to its end (passing, failing or skipped).
type checkFunc func(ctx context.Context) Check

// parallel runs checks at once, so that the whole run waits about one timeout and not one per
// check, and returns them in the order given.
func (r *runner) parallel(ctx context.Context, checks []checkFunc) []Check {
	out := make([]Check, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			start := time.Now()
			out[i] = c(ctx)
			out[i].Seconds = time.Since(start).Round(10 * time.Millisecond).Seconds()
		})
	}
	wg.Wait()
	return out
}

// progress writes one line to the progress writer; lines from checks running at once do not
// interleave.
func (r *runner) progress(format string, args ...any) {
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	// The arguments may be a store's answer: escaped like the report.
	fmt.Fprintln(r.cfg.Progress, "verify:", termtext.EscapeText(fmt.Sprintf(format, args...)))
}

func (r *runner) backends() []Backend {
	out := []Backend{{Role: "frontend", Kind: "pillars", URL: r.cfg.FrontendURL}}
	add := func(role, kind, url, down string) {
		if down != "" {
			kind = "unusable"
		}
		out = append(out, Backend{Role: role, Kind: kind, URL: url})
	}
	add("metrics", "Prometheus", r.cfg.PrometheusURL, r.promDown)
	var tracesKind, logsKind string
	if r.traces != nil {
		tracesKind = string(r.traces.Kind())
	}
	if r.logs != nil {
		logsKind = string(r.logs.Kind())
	}
	add("traces", storeKind(r.cfg.TracesKind, tracesKind), r.cfg.TracesURL, r.tracesDown)
	add("logs", storeKind(r.cfg.LogsKind, logsKind), r.cfg.LogsURL, r.logsDown)
	switch {
	case r.cfg.GrafanaURL != "":
		add("data sources", "Grafana API", r.cfg.GrafanaURL, r.sourcesDown)
	case r.cfg.Datasources != "":
		add("data sources", "provisioning file", r.cfg.Datasources, r.sourcesDown)
	}
	return out
}

// storeKind names a store for the header: its kind, and whether it was detected.
func storeKind(asked, kind string) string {
	if kind == "" {
		return "?"
	}
	if asked == "" || asked == readback.KindAuto {
		return displayName(kind) + " (detected)"
	}
	return displayName(kind)
}

func displayName(kind string) string {
	switch kind {
	case string(readback.TracesJaeger):
		return "Jaeger"
	case string(readback.TracesTempo):
		return "Tempo"
	case string(readback.LogsVictoriaLogs):
		return "VictoriaLogs"
	case string(readback.LogsLoki):
		return "Loki"
	}
	return kind
}
