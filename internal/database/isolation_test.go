package database

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// A request's own latency (X-Pillars-Fault: database.latency) holds none of the pool's
// connections while it waits: with a pool of two and four requests waiting out their own 30s,
// plain requests are all answered while those still wait. Before, the four held both
// connections and every plain request queued behind them.
func TestOwnLatencyHoldsNoConnection(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		testOwnLatencyHoldsNoConnection(t, ts.start(t, Config{MaxOpenConns: 2, RequestFaults: true}))
	})
}

func testOwnLatencyHoldsNoConnection(t *testing.T, h *harness) {
	const faulted = 4
	faultedCtx, cancel := context.WithCancel(t.Context())
	answered := make(chan int, faulted)
	for i := range faulted {
		go func() {
			req, _ := http.NewRequestWithContext(faultedCtx, http.MethodGet, h.srv.URL+"/db/user/"+strconv.Itoa(100+i), nil)
			req.Header.Set(faults.Header, "database.latency=30s")
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				answered <- 0
				return
			}
			resp.Body.Close()
			answered <- resp.StatusCode
		}()
	}
	telemetrytest.Eventually(t, 10*time.Second, "every faulted request to reach its transaction", func() bool {
		return countPrefix(h, t, "Querying user 10") == faulted
	})

	plainCtx, plainDone := context.WithTimeout(t.Context(), 10*time.Second)
	defer plainDone()
	var failed sync.Map
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(plainCtx, http.MethodGet, h.srv.URL+"/db/user/"+strconv.Itoa(1+i), nil)
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				failed.Store(i, err.Error())
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failed.Store(i, resp.Status)
			}
		})
	}
	wg.Wait()
	failed.Range(func(k, v any) bool {
		t.Errorf("plain request %v failed while others waited out their own latency: %v", k, v)
		return true
	})
	select {
	case status := <-answered:
		t.Errorf("a faulted request answered %d before its 30s latency was over", status)
	default:
	}
	cancel()
	for range faulted {
		<-answered
	}
}

// countPrefix counts the log lines whose msg starts with prefix.
func countPrefix(h *harness, t *testing.T, prefix string) int {
	n := 0
	for _, l := range h.tel.LogLines(t) {
		if msg, _ := l["msg"].(string); strings.HasPrefix(msg, prefix) {
			n++
		}
	}
	return n
}

// A request's own latency is waited before its transaction, noted on its entry span; the
// service's latency stays inside query_execution, where a slow database shows.
func TestOwnLatencyComesBeforeTheTransaction(t *testing.T) {
	h := start(t, Config{RequestFaults: true})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, h.srv.URL+"/db/user/42", nil)
	req.Header.Set(faults.Header, "database.latency=50ms")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	traceID := traceIDOfResponse(t, resp)
	spans := h.traceSpans(t, traceID)
	entry, begin, exec := one(t, spans, "database_get_user"), one(t, spans, "transaction_begin"), one(t, spans, "query_execution")
	if got := attr(entry, "pillars.fault.latency_ms"); got != "50" {
		t.Errorf("the entry span notes latency %q, want 50", got)
	}
	if got := attr(exec, "pillars.fault.latency_ms"); got != "" {
		t.Errorf("query_execution notes latency %q: the request's own latency was waited inside the transaction", got)
	}
	if waited := begin.StartTime.Sub(entry.StartTime); waited < 50*time.Millisecond {
		t.Errorf("the transaction began %v into the request, want after the 50ms latency", waited)
	}
	if got := h.value(t, "database_slow_queries_total", "table", "users"); got != 0 {
		t.Errorf("%v slow queries: a latency waited before the query is not a slow query", got)
	}

	// The service's latency, for everyone, is inside query_execution as before.
	h.putFaults(t, `{"latency":"30ms"}`)
	r := h.get(t, "/db/user/42")
	if got := attr(one(t, h.traceSpans(t, r.traceID), "query_execution"), "pillars.fault.latency_ms"); got != "30" {
		t.Errorf("query_execution notes the service's latency %q, want 30", got)
	}
}

func traceIDOfResponse(t *testing.T, resp *http.Response) string {
	t.Helper()
	v := resp.Header.Get("traceresponse")
	if len(v) < 35 {
		t.Fatalf("traceresponse %q", v)
	}
	return v[3:35]
}
