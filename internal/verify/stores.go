package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// pingTimeout bounds the first call to each store: one that does not answer within it is
// reported as such instead of holding every check back.
const pingTimeout = 10 * time.Second

// openStores connects to Prometheus, the trace store and the log store (detecting their kinds
// when asked to), and reads the data sources. Each is a check of its own signal, so that a
// stopped log store fails the log checks and nothing else.
func (r *runner) openStores(ctx context.Context) []Check {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	checks := make([]Check, 0, 4)

	c := Check{Signal: SignalMetrics, Name: "Prometheus answers"}
	prom, err := readback.NewPrometheus(r.cfg.PrometheusURL, r.client)
	if err == nil {
		var info readback.BuildInfo
		if info, err = prom.Ping(ctx); err == nil {
			r.prom = prom
			version := info.Version
			if version == "" {
				version = "(version not stamped)"
			}
			c.Status, c.Detail = Pass, "Prometheus "+version+" at "+prom.URL()
		}
	}
	if err != nil {
		r.promDown = "Prometheus at " + r.cfg.PrometheusURL + " is unusable"
		c.Status, c.Detail = Fail, err.Error()
	}
	checks = append(checks, c)

	c = Check{Signal: SignalTraces, Name: "trace store answers"}
	traces, err := readback.OpenTraces(ctx, r.cfg.TracesKind, r.cfg.TracesURL, r.client)
	if err != nil {
		r.tracesDown = "the trace store at " + r.cfg.TracesURL + " is unusable"
		c.Status, c.Detail = Fail, err.Error()
	} else {
		r.traces = traces
		c.Status, c.Detail = Pass, storeKind(r.cfg.TracesKind, string(traces.Kind()))+" at "+traces.URL()
	}
	checks = append(checks, c)

	c = Check{Signal: SignalLogs, Name: "log store answers"}
	logs, err := readback.OpenLogs(ctx, r.cfg.LogsKind, r.cfg.LogsURL, r.client)
	if err != nil {
		r.logsDown = "the log store at " + r.cfg.LogsURL + " is unusable"
		c.Status, c.Detail = Fail, err.Error()
	} else {
		r.logs = logs
		c.Status, c.Detail = Pass, storeKind(r.cfg.LogsKind, string(logs.Kind()))+" at "+logs.URL()
	}
	checks = append(checks, c)

	if r.cfg.Datasources == "" && r.cfg.GrafanaURL == "" {
		r.sourcesDown = "no data sources given (--datasources or --grafana-url)"
		return checks
	}
	c = Check{Signal: SignalLinks, Name: "data sources read"}
	var from string
	if r.cfg.GrafanaURL != "" {
		from = "Grafana at " + r.cfg.GrafanaURL
		r.sources, err = readGrafanaDatasources(ctx, r.cfg.GrafanaURL, r.cfg.GrafanaToken, r.client)
	} else {
		from = r.cfg.Datasources
		r.sources, err = readProvisioningFile(r.cfg.Datasources, r.cfg.Getenv)
	}
	if err != nil {
		r.sourcesDown = "the data sources could not be read"
		c.Status, c.Detail = Fail, err.Error()
	} else {
		c.Status, c.Detail = Pass, fmt.Sprintf("%d data sources from %s", len(r.sources), from)
	}
	return append(checks, c)
}

// needs returns a skipped check when one of the named stores is unusable.
func (r *runner) needs(c Check, stores ...string) (Check, bool) {
	for _, s := range stores {
		var down string
		switch s {
		case "metrics":
			down = r.promDown
		case "traces":
			down = r.tracesDown
		case "logs":
			down = r.logsDown
		case "sources":
			down = r.sourcesDown
		}
		if down != "" {
			c.Status, c.Detail = Skip, "not checked: "+down
			return c, false
		}
	}
	return c, true
}
