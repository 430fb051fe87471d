package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Database is the storage service: what is queried, how fast, what is slow, and the state of
// its transactions, connection pool and tables.
func Database() *dashboard.DashboardBuilder {
	d := base("pillars-database", "Pillars database",
		"The storage service over SQLite or PostgreSQL: GET /db/user/{id}, /db/product/{id}, /db/query. Faults can be injected with PUT /admin/faults.",
		"database")

	d.WithRow(row("Queries")).
		WithPanel(single("Queries per second", "reqps",
			promQuery(`sum(operation_table:database_queries:rate1m)`, "queries/s"))).
		WithPanel(single("Slow queries per second", "reqps",
			promQuery(`sum(table:database_slow_queries:rate5m)`, "slow/s"))).
		WithPanel(single("Active pool connections", "short",
			promQuery(`sum(database_connection_pool_active)`, "active"))).
		WithPanel(stacked("Queries by table and operation", "ops",
			promQuery(`sum by (table, operation) (rate(database_queries_total[$__rate_interval]))`, "{{table}} {{operation}}"))).
		WithPanel(stacked("Queries by status", "ops",
			promQuery(`sum by (status) (rate(database_queries_total[$__rate_interval]))`, "{{status}}"))).
		WithPanel(graph("Query latency p99 / p50 by table", "s",
			withExemplars(latency("0.99", "table", "database_query_duration_seconds"), "p99 {{table}}"),
			withExemplars(latency("0.5", "table", "database_query_duration_seconds"), "p50 {{table}}"))).
		WithPanel(graph("Slow queries by table", "ops",
			promQuery(`sum by (table) (rate(database_slow_queries_total[$__rate_interval]))`, "{{table}}")))

	d.WithRow(row("Transactions, pool, tables")).
		WithPanel(stacked("Transactions by outcome", "ops",
			promQuery(`sum by (status) (rate(database_transactions_total[$__rate_interval]))`, "{{status}}")).
			Span(thirdWidth)).
		WithPanel(graph("Connection pool: active connections", "short",
			promQuery(`sum(database_connection_pool_active)`, "active")).
			Span(thirdWidth)).
		WithPanel(graph("Table sizes", "bytes",
			promQuery(`sum by (table) (database_table_size_bytes)`, "{{table}}")).
			Span(thirdWidth))

	d = withHTTP(d, "database")
	d = withLogs(d, "database")
	return withRuntime(d, "database")
}
