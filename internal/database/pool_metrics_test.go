package database

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The pool's waits are exported from the service's own registry (go_sql_*, db_name the
// store's name) on both stores: with a pool of one connection held, a request for another
// counts in go_sql_wait_count_total while it waits, and its wait adds to
// go_sql_wait_duration_seconds_total once it gets the connection.
func TestPoolWaitsAreExported(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		h := ts.start(t, Config{MaxOpenConns: 1})
		labels := prometheus.Labels{"db_name": ts.name}
		for _, name := range []string{"go_sql_max_open_connections", "go_sql_wait_count_total", "go_sql_wait_duration_seconds_total", "go_sql_in_use_connections"} {
			if !strings.Contains(scrapeNames(t, h), name+"{db_name=\""+ts.name+"\"}") {
				t.Errorf("no series %s{db_name=%q}", name, ts.name)
			}
		}
		if v := h.tel.CounterValue(t, "go_sql_max_open_connections", labels); v != 1 {
			t.Errorf("go_sql_max_open_connections = %v, want 1", v)
		}
		before := h.tel.CounterValue(t, "go_sql_wait_count_total", labels)
		waitedBefore := h.tel.CounterValue(t, "go_sql_wait_duration_seconds_total", labels)

		held, err := h.svc.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			c, err := h.svc.db.Conn(context.Background())
			if err == nil {
				err = c.Close()
			}
			got <- err
		}()
		telemetrytest.Eventually(t, 10*time.Second, "a waiter counted in go_sql_wait_count_total", func() bool {
			return h.tel.CounterValue(t, "go_sql_wait_count_total", labels) > before
		})
		if err := held.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		if waited := h.tel.CounterValue(t, "go_sql_wait_duration_seconds_total", labels); waited <= waitedBefore {
			t.Errorf("go_sql_wait_duration_seconds_total %v, want more than %v after a wait", waited, waitedBefore)
		}
	})
}

// scrapeNames is the service's /metrics in the text format, for the series names.
func scrapeNames(t *testing.T, h *harness) string {
	t.Helper()
	return telemetrytest.Scrape(t, h.srv.URL+"/metrics")
}
