package database

import (
	"database/sql"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// metrics are the database service's seed metrics (the request metrics come from
// telemetry.Instrument). Every label value is a fixed enum: operation SELECT; table one of
// the schema's tables; status success|error|not_found or committed|rolled_back.
type metrics struct {
	queries      *prometheus.CounterVec   // database_queries_total{operation,table,status}
	duration     *prometheus.HistogramVec // database_query_duration_seconds{operation,table}
	slow         *prometheus.CounterVec   // database_slow_queries_total{table}
	tableSize    *prometheus.GaugeVec     // database_table_size_bytes{table}
	transactions *prometheus.CounterVec   // database_transactions_total{status}
}

// queryBuckets span sub-millisecond lookups to injected multi-second latency; 0.1 is the
// default slow-query threshold, so the histogram and the slow counter tell the same story.
var queryBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// newMetrics registers the service's metrics on reg (the service's own registry, never the
// global one). dbName is the db_name label of the pool's go_sql_* series: the store's name.
func newMetrics(reg prometheus.Registerer, db *sql.DB, dbName string) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "database_queries_total",
			Help: "SQL statements run, by operation, main table and outcome (success, error, not_found).",
		}, []string{"operation", "table", "status"}),
		duration: prometheus.NewHistogramVec(telemetry.NativeHistogram(prometheus.HistogramOpts{
			Name:    "database_query_duration_seconds",
			Help:    "Time to execute an SQL statement (injected latency included), by operation and main table.",
			Buckets: queryBuckets,
		}), []string{"operation", "table"}),
		slow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "database_slow_queries_total",
			Help: "SQL statements slower than the slow-query threshold, by main table.",
		}, []string{"table"}),
		tableSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "database_table_size_bytes",
			Help: "Bytes a table and its indexes occupy, from the store's own accounting (SQLite's dbstat, PostgreSQL's pg_total_relation_size).",
		}, []string{"table"}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "database_transactions_total",
			Help: "Transactions ended, by outcome (committed, rolled_back).",
		}, []string{"status"}),
	}
	// Read from the pool when scraped: the real number of connections in use right now. The
	// pool is database/sql's for both stores (pgx, under it, keeps no pool of its own).
	poolActive := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "database_connection_pool_active",
		Help: "Connections of the SQL pool in use (database/sql DBStats.InUse).",
	}, func() float64 { return float64(db.Stats().InUse) })

	// The pool's own accounting, client_golang's: go_sql_wait_count_total and
	// go_sql_wait_duration_seconds_total count the requests that waited for a connection and
	// how long, which is how a squeezed pool (pool_size) or a held lock shows before requests
	// fail; with the open, idle and closed-connection series beside them.
	pool := collectors.NewDBStatsCollector(db, dbName)

	var errs []error
	for _, c := range []prometheus.Collector{m.queries, m.duration, m.slow, m.tableSize, m.transactions, poolActive, pool} {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	// Every series exists at zero from the start, so rate() and alerts see them before the
	// first event.
	for _, table := range queriedTables {
		for _, status := range []string{querySuccess, queryError, queryNotFound} {
			m.queries.WithLabelValues(operationSelect, table, status)
		}
		m.duration.WithLabelValues(operationSelect, table)
		m.slow.WithLabelValues(table)
	}
	for _, status := range []string{txCommitted, txRolledBack} {
		m.transactions.WithLabelValues(status)
	}
	return m, nil
}
