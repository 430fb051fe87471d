package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Backend is the business service: how well its cache shields the database, where its time
// goes, and how its calls to the database fare.
func Backend() *dashboard.DashboardBuilder {
	d := base("pillars-backend", "Pillars backend",
		"The business service: GET /api/data, /api/user/{id}, /api/product/{id}. A cache in front of the database.",
		"backend")

	hitRatio := `sum(rate(backend_cache_operations_total{operation="hit"}[$__rate_interval]))
/ sum(rate(backend_cache_operations_total[$__rate_interval]))`

	d.WithRow(row("Cache")).
		WithPanel(single("Cache hit ratio", "percentunit", promQuery(hitRatio, "hit ratio"))).
		WithPanel(single("Database calls per second", "reqps",
			promQuery(`sum(rate(backend_database_calls_total[$__rate_interval]))`, "calls/s"))).
		WithPanel(single("p99 latency", "s",
			promQuery(`job:pillars_request_duration_seconds:p99_rate5m{job="backend"}`, "p99"))).
		WithPanel(graph("Cache hit ratio", "percentunit", promQuery(hitRatio, "hit ratio")).
			Max(1)).
		WithPanel(stacked("Cache lookups by result", "ops",
			promQuery(`sum by (operation) (rate(backend_cache_operations_total[$__rate_interval]))`, "{{operation}}")))

	d.WithRow(row("Processing and database calls")).
		WithPanel(graph("Processing time p99 by operation", "s",
			withExemplars(latency("0.99", "operation", "backend_processing_time_seconds"), "p99 {{operation}}"),
			withExemplars(latency("0.5", "operation", "backend_processing_time_seconds"), "p50 {{operation}}"))).
		WithPanel(stacked("Database calls by operation and status", "ops",
			promQuery(`sum by (operation, status) (rate(backend_database_calls_total[$__rate_interval]))`, "{{operation}} {{status}}")))

	d = withHTTP(d, "backend")
	d = withLogs(d, "backend")
	return withRuntime(d, "backend")
}
