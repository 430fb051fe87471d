package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// The fake stores answer the way the real ones do where the tests look: the same shapes, and
// a malformed query refused with a 400 and a parse error. The checks of package mcptest run
// against them here and against the real stores in the end-to-end tests.

var fakeNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func fakeSeries() []map[string]string {
	var out []map[string]string
	for _, ep := range []string{"/", "/user/{id}", "/product/{id}", "/health"} {
		out = append(out, map[string]string{"__name__": "frontend_requests_total", "job": "frontend", "endpoint": ep, "method": "GET", "status": "200"})
	}
	return out
}

// parseError is what Prometheus answers a query it cannot parse.
func parseError(path, q string) error {
	if strings.Count(q, "(") == strings.Count(q, ")") && strings.Count(q, "{") == strings.Count(q, "}") && !strings.HasSuffix(q, " by") {
		return nil
	}
	return &readback.HTTPError{Method: http.MethodGet, URL: "http://127.0.0.1:9090" + path + "?query=" + q, Status: 400,
		Reason: fmt.Sprintf("bad_data: invalid parameter \"query\": 1:%d: parse error: unclosed left parenthesis", len(q))}
}

type fakeMetrics struct{}

func (fakeMetrics) Query(_ context.Context, q string, at time.Time) ([]readback.Sample, error) {
	if err := parseError("/api/v1/query", q); err != nil {
		return nil, err
	}
	var out []readback.Sample
	for i, m := range fakeSeries() {
		out = append(out, readback.Sample{Metric: m, Time: at, Value: float64(i)})
	}
	return out, nil
}

func (fakeMetrics) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) ([]readback.Series, error) {
	if err := parseError("/api/v1/query_range", q); err != nil {
		return nil, err
	}
	var out []readback.Series
	for i, m := range fakeSeries() {
		sr := readback.Series{Metric: m}
		for t := start; !t.After(end); t = t.Add(step) {
			sr.Points = append(sr.Points, readback.Point{Time: t, Value: float64(i)})
		}
		out = append(out, sr)
	}
	return out, nil
}

func (fakeMetrics) LabelNames(context.Context, []string, time.Time, time.Time) ([]string, error) {
	return []string{"__name__", "endpoint", "job", "method", "status"}, nil
}

func (fakeMetrics) LabelValues(_ context.Context, label string, _ []string, _, _ time.Time) ([]string, error) {
	seen := map[string]bool{}
	for _, m := range fakeSeries() {
		seen[m[label]] = true
	}
	if label == "__name__" {
		seen["backend_requests_total"], seen["database_queries_total"] = true, true
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	return out, nil
}

func (fakeMetrics) Alerts(context.Context) ([]readback.Alert, error) {
	return []readback.Alert{
		{Labels: map[string]string{"alertname": "HighErrorRate", "service": "frontend"}, State: "firing", ActiveAt: fakeNow.Add(-time.Minute), Value: 0.2},
		{Labels: map[string]string{"alertname": "SlowQueries"}, State: "pending", ActiveAt: fakeNow},
	}, nil
}

type fakeTraces struct{}

func fakeTrace(i int) readback.Trace {
	id := fmt.Sprintf("%032x", i+1)
	start := fakeNow.Add(-time.Duration(i) * time.Minute)
	span := func(sid, parent, svc, name string, off, d time.Duration) readback.Span {
		return readback.Span{TraceID: id, SpanID: sid, ParentID: parent, Service: svc, Name: name, Start: start.Add(off), Duration: d, Status: readback.StatusOK,
			Attributes: map[string]string{"http.route": "/user/{id}"}}
	}
	return readback.Trace{ID: id, Spans: []readback.Span{
		span("0000000000000001", "", "frontend", "GET /user/{id}", 0, 30*time.Millisecond),
		span("0000000000000002", "0000000000000001", "backend", "GET /api/user/{id}", time.Millisecond, 20*time.Millisecond),
		span("0000000000000003", "0000000000000002", "database", "query_execution", 2*time.Millisecond, 10*time.Millisecond),
	}}
}

func (fakeTraces) Trace(_ context.Context, id string) (readback.Trace, error) {
	for i := range 5 {
		if tr := fakeTrace(i); tr.ID == id {
			return tr, nil
		}
	}
	return readback.Trace{}, fmt.Errorf("GET http://127.0.0.1:16686/api/traces/%s: %w", id, readback.ErrTraceNotFound)
}

func (fakeTraces) Search(_ context.Context, q readback.TraceSearch) ([]readback.TraceSummary, error) {
	var out []readback.TraceSummary
	for i := range 5 {
		tr := fakeTrace(i)
		if !slices.Contains(tr.Services(), q.Service) || len(out) == q.Limit {
			continue
		}
		out = append(out, readback.TraceSummary{TraceID: tr.ID, RootService: "frontend", RootName: tr.Spans[0].Name, Start: tr.Spans[0].Start, Duration: tr.Spans[0].Duration})
	}
	return out, nil
}

func (fakeTraces) Services(context.Context) ([]string, error) {
	return []string{"frontend", "backend", "database"}, nil
}

func (fakeTraces) Operations(_ context.Context, svc string) ([]string, error) {
	return []string{"GET /user/{id}", "GET /product/{id}", "GET /"}, nil
}

type fakeLogs struct{}

func (fakeLogs) Kind() readback.LogsKind { return readback.LogsVictoriaLogs }

func (fakeLogs) Query(_ context.Context, q string, start, end time.Time, limit int) ([]readback.LogLine, error) {
	if strings.Count(q, "{") != strings.Count(q, "}") {
		return nil, &readback.HTTPError{Method: http.MethodGet, URL: "http://127.0.0.1:9428/select/logsql/query?query=" + q, Status: 400,
			Body: "cannot parse query [" + q + "]: missing '}'"}
	}
	var out []readback.LogLine
	for i := range min(limit, 5) {
		out = append(out, readback.LogLine{Time: end.Add(-time.Duration(i) * time.Second), Line: fmt.Sprintf(`{"msg":"request %d"}`, i),
			Stream: map[string]string{"service": "backend", "level": "info"}, Fields: map[string]string{"trace_id": fmt.Sprintf("%032x", i+1)}})
	}
	return out, nil
}

// fakeDrills records what the drill tools asked for.
type fakeDrills struct {
	mu      sync.Mutex
	started []int64
	answers []json.RawMessage
}

type fakeStatus struct {
	Episode string `json:"episode"`
	State   string `json:"state"`
}

func (d *fakeDrills) Start(_ context.Context, seed int64) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started = append(d.started, seed)
	return fakeStatus{Episode: fmt.Sprint(seed), State: "running"}, nil
}

func (d *fakeDrills) Status(context.Context) (any, error) {
	return fakeStatus{Episode: "7", State: "running"}, nil
}

func (d *fakeDrills) Answer(_ context.Context, doc json.RawMessage) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.answers = append(d.answers, doc)
	return map[string]any{"score": map[string]any{"service": true, "kind": false}, "reveal": "hidden until answered"}, nil
}

func (d *fakeDrills) Score(context.Context) (any, error) {
	return map[string]any{"episodes": 1}, nil
}

func (d *fakeDrills) starts() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.started)
}
