//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// Clients for the services; the backends are read through internal/readback (stk.prom,
// stk.traces, stk.logs), the same clients `pillars verify` uses.

var client = &http.Client{Timeout: 10 * time.Second}

// eventually polls check until it returns nil; at the deadline the test fails with the last error.
// It is the only way these tests wait: every signal arrives asynchronously.
func eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
		}
		<-tick.C
	}
}

// ---- the services ----

type response struct {
	status  int
	header  http.Header
	body    []byte
	traceID string // from the traceresponse header
}

var traceresponse = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)

func do(t testing.TB, method, u string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if m := traceresponse.FindStringSubmatch(resp.Header.Get("traceresponse")); m != nil {
		r.traceID = m[1]
	}
	return r
}

// get requests a frontend path and returns the response; it fails the test when the response
// has no traceresponse header, since every test follows its request by trace id.
func get(t testing.TB, path string) response {
	t.Helper()
	r := do(t, http.MethodGet, "http://"+stk.frontend+path, nil)
	if r.traceID == "" {
		t.Fatalf("GET %s: no valid traceresponse header (got %q); status %d, body %s",
			path, r.header.Get("traceresponse"), r.status, r.body)
	}
	return r
}

// getOK is get that also wants a 200.
func getOK(t testing.TB, path string) response {
	t.Helper()
	r := get(t, path)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %s", path, r.status, r.body)
	}
	return r
}

// checkErrorBody asserts the contract's error shape: {"error":"...","status":N,"trace_id":"..."}.
func checkErrorBody(t testing.TB, r response) {
	t.Helper()
	var body struct {
		Error   string `json:"error"`
		Status  int    `json:"status"`
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Errorf("error body %s: %v", r.body, err)
		return
	}
	if body.Error == "" || body.Status != r.status || body.TraceID != r.traceID {
		t.Errorf("error body %s: want a message, status %d and trace_id %s", r.body, r.status, r.traceID)
	}
}

// setFaults changes the database's runtime faults and restores "no faults" when the test ends.
func setFaults(t testing.TB, faults map[string]any) {
	t.Helper()
	put := func(f map[string]any) {
		r := do(t, http.MethodPut, "http://"+stk.database+"/admin/faults", f)
		if r.status/100 != 2 {
			t.Fatalf("PUT /admin/faults %v: status %d, body %s", f, r.status, r.body)
		}
	}
	t.Cleanup(func() { put(map[string]any{"latency": "0s", "jitter": "0s", "error_rate": 0}) })
	put(faults)
}

// ---- the backends, through readback ----

// queryTimeout bounds one query to a backend.
const queryTimeout = 10 * time.Second

func queryCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), queryTimeout)
}

// promQuery runs an instant PromQL query.
func promQuery(q string) ([]readback.Sample, error) {
	ctx, cancel := queryCtx()
	defer cancel()
	return stk.prom.Query(ctx, q, time.Time{})
}

// promSum is sum(q), 0 when q selects nothing.
func promSum(t testing.TB, q string) float64 {
	t.Helper()
	v, err := promSumErr(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func promSumErr(q string) (float64, error) {
	ctx, cancel := queryCtx()
	defer cancel()
	return stk.prom.Sum(ctx, q)
}

// waitRises polls until sum(q) is above before.
func waitRises(t testing.TB, q string, before float64) {
	t.Helper()
	eventually(t, 20*time.Second, "sum("+q+") rises above "+fmt.Sprint(before), func() error {
		v, err := promSumErr(q)
		if err != nil {
			return err
		}
		if v <= before {
			return fmt.Errorf("still %v", v)
		}
		return nil
	})
}

// waitScraped waits until Prometheus has scraped every service after this call, so that a
// value read next includes everything the services counted before it.
func waitScraped(t testing.TB) {
	t.Helper()
	since := float64(time.Now().UnixMilli()) / 1000
	eventually(t, 15*time.Second, "a fresh scrape of every service", func() error {
		res, err := promQuery(`timestamp(up{job=~"frontend|backend|database"})`)
		if err != nil {
			return err
		}
		fresh := map[string]bool{}
		for _, s := range res {
			if s.Value > since {
				fresh[s.Metric["job"]] = true
			}
		}
		if len(fresh) != 3 {
			return fmt.Errorf("scraped since %.3f: %v", since, fresh)
		}
		return nil
	})
}

// promExemplars reads the exemplars of q stored in the last 10 minutes.
func promExemplars(q string) ([]readback.ExemplarSeries, error) {
	ctx, cancel := queryCtx()
	defer cancel()
	now := time.Now()
	return stk.prom.Exemplars(ctx, q, now.Add(-10*time.Minute), now.Add(time.Minute))
}

// fetchTrace reads one trace from Jaeger.
func fetchTrace(traceID string) (readback.Trace, error) {
	ctx, cancel := queryCtx()
	defer cancel()
	return stk.traces.Trace(ctx, traceID)
}

// waitTrace polls Jaeger until the trace has spans with every one of the names.
func waitTrace(t testing.TB, traceID string, names ...string) readback.Trace {
	t.Helper()
	var tr readback.Trace
	eventually(t, 20*time.Second, "trace "+traceID+" in Jaeger", func() error {
		var err error
		if tr, err = fetchTrace(traceID); err != nil {
			return err
		}
		for _, n := range names {
			if len(tr.ByName(n)) == 0 {
				return fmt.Errorf("no span %q yet; have %s", n, tr)
			}
		}
		return nil
	})
	return tr
}

// queryLogs runs a LogsQL query over all stored logs.
func queryLogs(q string) ([]readback.LogLine, error) {
	ctx, cancel := queryCtx()
	defer cancel()
	return stk.logs.Query(ctx, q, time.Time{}, time.Time{}, 1000)
}

// logsOfTrace is the log store's query for the lines of one trace.
func logsOfTrace(traceID string) string { return stk.logs.TraceQuery(traceID) }
