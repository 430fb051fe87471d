//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// With the database process stopped, the frontend answers 5xx and the failure shows in all
// three signals; once it is back, requests succeed again.
func TestDatabaseDown(t *testing.T) {
	database := stk.proc("database")
	t.Cleanup(func() { restart(t, database) })
	counters := []string{
		`frontend_errors_total`,
		`frontend_requests_total{status=~"5.."}`,
		`backend_database_calls_total{status!~"success|not_found|client_error"}`,
	}
	waitScraped(t)
	before := map[string]float64{}
	for _, q := range counters {
		before[q] = promSum(t, q)
	}
	if err := database.stop(); err != nil {
		t.Fatal(err)
	}

	r := get(t, "/user/901")
	if r.status/100 != 5 {
		t.Fatalf("GET /user/901 with the database down: status %d, want 5xx; body %s", r.status, r.body)
	}
	checkErrorBody(t, r)

	t.Run("metrics", func(t *testing.T) {
		for _, q := range counters {
			waitRises(t, q, before[q])
		}
		eventually(t, 15*time.Second, "up{job=\"database\"} == 0", func() error {
			if v, err := promSumErr(`up{job="database"}`); err != nil || v != 0 {
				return fmt.Errorf("up %v, %v", v, err)
			}
			return nil
		})
	})
	t.Run("traces", func(t *testing.T) {
		tr := waitErrorSpans(t, r.traceID, "frontend", "backend")
		for _, s := range tr.Spans {
			if s.Service == "database" {
				t.Errorf("span %s from the stopped database", s)
			}
		}
	})
	t.Run("logs", func(t *testing.T) {
		waitErrorLogs(t, r.traceID, "frontend", "backend")
	})

	restart(t, database)
	getOK(t, "/user/901")
}

// With the log store stopped, requests still succeed and the services count the entries they
// drop; once it is back (same port, same data) new lines arrive.
func TestLogStoreDown(t *testing.T) {
	logs := stk.proc("victoria-logs")
	t.Cleanup(func() { restart(t, logs) })
	const dropped = "pillars_log_entries_dropped_total"
	waitScraped(t)
	before := promSum(t, dropped)
	if err := logs.stop(); err != nil {
		t.Fatal(err)
	}

	// Keep requesting (each must succeed) until the services report dropped entries.
	id := 910
	eventually(t, 30*time.Second, dropped+" rises while the log store is down", func() error {
		id++
		getOK(t, fmt.Sprintf("/user/%d", id))
		v, err := promSumErr(dropped)
		if err != nil {
			return err
		}
		if v <= before {
			return fmt.Errorf("still %v", v)
		}
		return nil
	})

	restart(t, logs)
	r := getOK(t, "/user/950")
	waitLogMessages(t, r.traceID, all, "Fetching user 950")
}

// restart starts a stopped process again with the same arguments and waits until it is ready.
func restart(t testing.TB, p *proc) {
	t.Helper()
	if p.running() {
		return
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.waitReady(ctx); err != nil {
		t.Fatal(err)
	}
}
