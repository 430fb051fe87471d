package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// withHTTP adds the RED section every service shares: its requests by route template and
// status, the share answered with a server error, and latency quantiles with exemplars.
// Every service serves HTTP through the same middleware, so <svc>_requests_total and
// <svc>_request_duration_seconds exist for all three.
func withHTTP(d *dashboard.DashboardBuilder, svc string) *dashboard.DashboardBuilder {
	requests := svc + "_requests_total"
	duration := svc + "_request_duration_seconds"
	return d.
		WithRow(row("HTTP: requests, errors, latency")).
		WithPanel(stacked("Requests by endpoint and status", "reqps",
			// Counters carry exemplars too: a dot per sampled request, linked to its trace.
			withExemplars(fmt.Sprintf(`sum by (endpoint, status) (rate(%s[$__rate_interval]))`, requests),
				"{{endpoint}} {{status}}"))).
		WithPanel(graph("Server error ratio by endpoint (5xx)", "percentunit",
			promQuery(fmt.Sprintf(`sum by (endpoint) (job_endpoint:pillars_request_error_ratio:rate1m{job=%q})`, svc),
				"{{endpoint}}")).
			Max(1)).
		WithPanel(graph("Latency p50 / p99 by endpoint", "s",
			withExemplars(latency("0.99", "endpoint", duration), "p99 {{endpoint}}"),
			withExemplars(latency("0.5", "endpoint", duration), "p50 {{endpoint}}")).
			Span(fullWidth))
}

// withLogs adds the service's log stream, newest first, and its error lines.
func withLogs(d *dashboard.DashboardBuilder, svc string) *dashboard.DashboardBuilder {
	return d.
		WithRow(row("Logs (open a line, then View trace)")).
		WithPanel(logPanel("Errors and warnings", fmt.Sprintf(`{service=%q, level=~"error|warn"}`, svc))).
		WithPanel(logPanel("All logs", fmt.Sprintf(`{service=%q}`, svc)))
}

// withRuntime adds the process view: memory, goroutines, and the log shipper's own health
// (lines dropped before reaching Loki would otherwise go unnoticed).
func withRuntime(d *dashboard.DashboardBuilder, svc string) *dashboard.DashboardBuilder {
	sel := fmt.Sprintf(`{job=%q}`, svc)
	return d.
		WithRow(row("Runtime and log shipping")).
		WithPanel(graph("Resident memory and Go heap", "bytes",
			promQuery("process_resident_memory_bytes"+sel, "resident"),
			promQuery("go_memstats_heap_inuse_bytes"+sel, "heap in use")).
			Span(thirdWidth)).
		WithPanel(graph("Goroutines", "short",
			promQuery("go_goroutines"+sel, "goroutines")).
			Span(thirdWidth)).
		WithPanel(graph("Log lines shipped / dropped", "short",
			promQuery(fmt.Sprintf(`sum(rate(pillars_log_entries_shipped_total%s[$__rate_interval]))`, sel), "shipped/s"),
			promQuery(fmt.Sprintf(`sum by (reason) (rate(pillars_log_entries_dropped_total%s[$__rate_interval]))`, sel), "dropped/s {{reason}}")).
			Span(thirdWidth))
}
