package database

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

func (h *harness) putFaults(t testing.TB, body string) response {
	t.Helper()
	return h.do(t, http.MethodPut, "/admin/faults", body)
}

func (h *harness) faults(t testing.TB) faults.Database {
	t.Helper()
	var f faults.Database
	h.get(t, "/admin/faults").decode(t, 200, &f)
	return f
}

func (h *harness) patchFaults(t testing.TB, body string) response {
	t.Helper()
	return h.do(t, http.MethodPatch, "/admin/faults", body)
}

// Config.Faults are the starting settings; PUT replaces them and answers the new ones.
func TestFaultSettings(t *testing.T) {
	h := start(t, Config{Faults: faults.Database{Latency: faults.Duration(5 * time.Millisecond), ErrorRate: 0.25}})
	if f := h.faults(t); f.Latency != faults.Duration(5*time.Millisecond) || f.ErrorRate != 0.25 || f.Jitter != 0 {
		t.Errorf("initial faults %+v", f)
	}
	var got faults.Database
	h.putFaults(t, `{"latency":"250ms","jitter":"50ms","error_rate":0.2}`).decode(t, 200, &got)
	want := faults.Database{Latency: faults.Duration(250 * time.Millisecond), Jitter: faults.Duration(50 * time.Millisecond), ErrorRate: 0.2}
	if got != want || h.faults(t) != want {
		t.Errorf("after PUT: answered %+v, GET %+v, want %+v", got, h.faults(t), want)
	}
	// PUT replaces the whole document: what it leaves out is off.
	h.putFaults(t, `{"error_rate":1}`).decode(t, 200, &got)
	if want := (faults.Database{ErrorRate: 1}); h.faults(t) != want {
		t.Errorf("after partial PUT: %+v, want %+v", h.faults(t), want)
	}
	raw := h.get(t, "/admin/faults").body
	if !strings.Contains(string(raw), `"latency":"0s"`) {
		t.Errorf("GET /admin/faults = %s: want durations written as strings", raw)
	}
}

// A bad document is refused with a 400 (413 when too large) and changes nothing.
func TestFaultSettingsRejected(t *testing.T) {
	h := start(t, Config{})
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"error_rate":1.5}`, 400, "error_rate"},
		{`{"error_rate":-0.1}`, 400, "error_rate"},
		{`{"latency":"-5ms"}`, 400, "negative"},
		{`{"jitter":"-1s"}`, 400, "negative"},
		{`{"latency":250}`, 400, `want a string like "250ms"`},
		{`{"latency":"soon"}`, 400, `want a duration like "250ms", got "soon"`},
		{`{"latnecy":"5ms"}`, 400, `unknown knob "latnecy": the database's knobs are latency, jitter`},
		{`{"latency":"5ms"} {"latency":"6ms"}`, 400, "nothing after it"},
		{`not json`, 400, "not valid JSON"},
		{``, 400, "empty body"},
		{`{"latency":"` + strings.Repeat("1", 5000) + `ms"}`, 413, "larger than"},
	} {
		r := h.putFaults(t, c.body)
		var e errorBody
		r.decode(t, c.status, &e)
		if !strings.Contains(e.Error, c.want) || strings.Contains(e.Error, "Go ") {
			t.Errorf("PUT %.40s: error %q, want it to mention %q", c.body, e.Error, c.want)
		}
	}
	if f := h.faults(t); f != (faults.Database{}) {
		t.Errorf("faults changed by rejected documents: %+v", f)
	}
}

// Injected latency makes the query slow: counted, timed and logged as a slow query of its
// table, with the SQL, its duration and the trace id.
func TestInjectedLatencyIsASlowQuery(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		testInjectedLatency(t, ts.start(t, Config{SlowQueryThreshold: 20 * time.Millisecond}))
	})
}

func testInjectedLatency(t *testing.T, h *harness) {
	const latency = 40 * time.Millisecond
	h.putFaults(t, `{"latency":"40ms"}`)
	r := h.get(t, "/db/user/42")
	if r.status != 200 {
		t.Fatalf("status %d: latency alone must not fail the request; body %s", r.status, r.body)
	}
	if got := h.value(t, "database_slow_queries_total", "table", "users"); got != 1 {
		t.Errorf("slow users queries %v, want 1", got)
	}
	logs := h.logsWithMsg(t, "Slow query detected")
	if len(logs) != 1 {
		t.Fatalf("want one slow query warning, have %d", len(logs))
	}
	l := logs[0]
	if l["level"] != "WARN" || l["trace_id"] != r.traceID || l["table"] != "users" ||
		!strings.Contains(l["query"].(string), "FROM users") {
		t.Errorf("slow query log %v", l)
	}
	if ms, _ := l["duration_ms"].(float64); ms < float64(latency.Milliseconds()) {
		t.Errorf("duration_ms %v, want at least the injected %v", l["duration_ms"], latency)
	}
	spans := h.traceSpans(t, r.traceID)
	if exec := one(t, spans, "query_execution"); exec.EndTime.Sub(exec.StartTime) < latency {
		t.Errorf("query_execution lasted %v, want the injected latency inside it", exec.EndTime.Sub(exec.StartTime))
	}

	// Back to normal: fast queries are not slow.
	h.putFaults(t, `{}`)
	h.get(t, "/db/user/42")
	if got := h.value(t, "database_slow_queries_total", "table", "users"); got != 1 {
		t.Errorf("slow users queries %v after removing the latency, want still 1", got)
	}
}

// With error_rate 1 every query fails: a 500 that says it was injected, the transaction
// rolled back and counted, the failure on the spans and in an error log with the trace id.
func TestInjectedErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		testInjectedErrors(t, ts.start(t, Config{Faults: faults.Database{ErrorRate: 1}}))
	})
}

func testInjectedErrors(t *testing.T, h *harness) {
	r := h.get(t, "/db/user/42")
	var e errorBody
	r.decode(t, 500, &e)
	if e.Error != "the query failed on purpose (fault injection)" || e.TraceID != r.traceID {
		t.Errorf("error body %+v", e)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"database_queries_total", []string{"operation", "SELECT", "table", "users", "status", "error"}, 1},
		{"database_queries_total", []string{"operation", "SELECT", "table", "users", "status", "success"}, 0},
		{"database_transactions_total", []string{"status", "rolled_back"}, 1},
		{"database_transactions_total", []string{"status", "committed"}, 0},
	} {
		if got := h.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	spans := h.traceSpans(t, r.traceID)
	entry, exec := one(t, spans, "database_get_user"), one(t, spans, "query_execution")
	for _, s := range []telemetrytest.SpanStub{entry, exec} {
		if s.Status.Code != codes.Error {
			t.Errorf("span %s status %v, want Error", s.Name, s.Status)
		}
	}
	if len(exec.Events) == 0 || exec.Events[0].Name != "exception" {
		t.Errorf("query_execution events %v: want the recorded error", exec.Events)
	}
	if _, ok := spans["transaction_commit"]; ok {
		t.Error("a failed transaction was committed")
	}
	if l := h.logsWithMsg(t, "Query failed"); len(l) != 1 || l[0]["level"] != "ERROR" || l[0]["trace_id"] != r.traceID {
		t.Errorf("Query failed logs %v: want one ERROR line with trace_id %s", l, r.traceID)
	}
	if l := h.logsWithMsg(t, "Transaction rolled back"); len(l) != 1 || l[0]["trace_id"] != r.traceID {
		t.Errorf("Transaction rolled back logs %v", l)
	}

	// Errors off again: the next request succeeds.
	h.putFaults(t, `{"error_rate":0}`)
	if r := h.get(t, "/db/product/3"); r.status != 200 {
		t.Errorf("after turning errors off: status %d", r.status)
	}
}

// Changing the faults while requests run is safe (the race detector watches this test) and
// every request sees one whole setting.
func TestFaultsChangeUnderLoad(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testFaultsChangeUnderLoad(t, ts.start(t, Config{})) })
}

func testFaultsChangeUnderLoad(t *testing.T, h *harness) {
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				r := h.get(t, "/db/user/"+strconv.Itoa(1+w*10+i))
				if r.status != 200 && r.status != 500 {
					t.Errorf("status %d: %s", r.status, r.body)
				}
			}
		})
	}
	for i := range 20 {
		body, _ := json.Marshal(faults.Database{Jitter: faults.Duration(time.Millisecond), ErrorRate: faults.Rate(i%2) * 0.5})
		if r := h.putFaults(t, string(body)); r.status != 200 {
			t.Errorf("PUT: status %d", r.status)
		}
	}
	wg.Wait()
	succeeded := h.value(t, "database_queries_total", "operation", "SELECT", "table", "users", "status", "success")
	failed := h.value(t, "database_queries_total", "operation", "SELECT", "table", "users", "status", "error")
	if succeeded+failed != 40 {
		t.Errorf("%v + %v queries counted, want 40", succeeded, failed)
	}
	if committed := h.value(t, "database_transactions_total", "status", "committed"); committed != succeeded {
		t.Errorf("%v committed transactions for %v successful queries", committed, succeeded)
	}
	if rolledBack := h.value(t, "database_transactions_total", "status", "rolled_back"); rolledBack != failed {
		t.Errorf("%v rolled back transactions for %v failed queries", rolledBack, failed)
	}
}

// A caller that gives up (the backend's timeout) cancels the query: the transaction is rolled
// back at once instead of running on, and the request is not counted as a server fault.
func TestCallerGivingUpRollsBack(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		testCallerGivingUp(t, ts.start(t, Config{Faults: faults.Database{Latency: faults.Duration(30 * time.Second)}}))
	})
}

func testCallerGivingUp(t *testing.T, h *harness) {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/db/user/7", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := h.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("request answered %d despite 30s of latency", resp.StatusCode)
	}

	// The request metric is the last thing the server records for a request: wait for it.
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for h.value(t, "database_requests_total", "method", "GET", "endpoint", "/db/user/{id}", "status", "499") != 1 {
		select {
		case <-deadline:
			t.Fatal("the abandoned request was not counted with status 499")
		case <-tick.C:
		}
	}
	if got := h.value(t, "database_transactions_total", "status", "rolled_back"); got != 1 {
		t.Errorf("rolled back transactions %v, want 1", got)
	}
	if got := h.value(t, "database_connection_pool_active"); got != 0 {
		t.Errorf("%v connections still in use", got)
	}
}
