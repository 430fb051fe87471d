package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Frontend is the entry service: who is using it, which pages they ask for and with what
// result, and what goes wrong on the way to the backend.
func Frontend() *dashboard.DashboardBuilder {
	d := base("pillars-frontend", "Pillars frontend",
		"The entry service: GET /, /user/{id}, /product/{id}. It calls the backend for every page.",
		"frontend")

	d.WithRow(row("Users")).
		WithPanel(single("Active users", "short",
			promQuery(`sum(frontend_active_users)`, "active users"))).
		WithPanel(single("Requests per second", "reqps",
			promQuery(`sum(job_endpoint:pillars_requests:rate1m{job="frontend"})`, "requests/s"))).
		WithPanel(single("p99 latency", "s",
			promQuery(`job:pillars_request_duration_seconds:p99_rate5m{job="frontend"}`, "p99"))).
		WithPanel(graph("Active users", "short",
			promQuery(`sum(frontend_active_users)`, "active users"))).
		WithPanel(stacked("Errors by type", "short",
			promQuery(`sum by (type) (rate(frontend_errors_total[$__rate_interval]))`, "{{type}}")))

	d = withHTTP(d, "frontend")
	d = withLogs(d, "frontend")
	return withRuntime(d, "frontend")
}
