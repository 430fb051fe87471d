package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/nodegraph"
	"github.com/grafana/grafana-foundation-sdk/go/tempo"
)

// The three services' request histograms.
var allDurations = []string{"frontend_request_duration_seconds", "backend_request_duration_seconds", "database_request_duration_seconds"}

// Overview is the home page: which services talk to which, whether they are up, their
// traffic, errors and latency side by side, and the latest error lines from all of them.
func Overview() *dashboard.DashboardBuilder {
	d := base("pillars-overview", "Pillars overview",
		"The three services at a glance. Click a dot on a latency graph for its trace, a node of the service graph for its metrics and traces, an error line for its trace.",
		"overview")

	d.WithRow(row("Services")).
		WithPanel(single("Services up", "short",
			promQuery(`sum(up{job=~"frontend|backend|database"})`, "up"))).
		WithPanel(single("Requests per second (all services)", "reqps",
			promQuery(`sum(job_endpoint:pillars_requests:rate1m)`, "requests/s"))).
		WithPanel(single("Frontend server error ratio", "percentunit",
			promQuery(`sum(job:pillars_request_error_ratio:rate5m{job="frontend"})`, "5xx"))).
		// Built by Tempo's metrics generator from the CLIENT/SERVER span pairs and read from
		// Prometheus (traces_service_graph_*); the Tempo data source's serviceMap setting says where.
		WithPanel(nodegraph.NewPanelBuilder().
			Title("Service graph").
			Description("Calls between services, from traces. Click a node or an edge for its request rate, errors and traces.").
			Datasource(tempoDS).
			Height(10).
			Span(halfWidth).
			WithTarget(tempo.NewDataqueryBuilder().
				Datasource(tempoDS).
				QueryType(string(tempo.TempoQueryTypeServiceMap)).
				RefId("A"))).
		WithPanel(graph("Requests per second by service", "reqps",
			promQuery(`sum by (job) (job_endpoint:pillars_requests:rate1m)`, "{{job}}")).
			Height(10)).
		WithPanel(graph("Server error ratio by service (5xx)", "percentunit",
			promQuery(`job:pillars_request_error_ratio:rate5m`, "{{job}}")).
			Max(1).
			Span(fullWidth))

	d.WithRow(row("Latency (dots are exemplars: click one for its trace)")).
		WithPanel(graph("p99 latency by service", "s",
			withExemplars(latency("0.99", "job", allDurations...), "{{job}}"))).
		WithPanel(graph("p50 latency by service", "s",
			withExemplars(latency("0.5", "job", allDurations...), "{{job}}")))

	d.WithRow(row("Between services, from traces")).
		WithPanel(graph("Calls between services", "reqps",
			promQuery(`sum by (client, server) (rate(traces_service_graph_request_total[$__rate_interval]))`, "{{client}} → {{server}}"))).
		WithPanel(graph("p99 of calls between services (server side)", "s",
			withExemplars(`histogram_quantile(0.99, sum by (client, server, le) (rate(traces_service_graph_request_server_seconds_bucket[$__rate_interval])))`,
				"{{client}} → {{server}}")))

	return d.
		WithRow(row("Recent errors (open a line, then View trace)")).
		WithPanel(logPanel("Error logs from all services", `{service=~"frontend|backend|database", level="error"}`))
}
