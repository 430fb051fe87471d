package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// signalChecks are the checks of each request's trace and logs, the metrics, the exemplar and
// the service graph; they run at once.
func (r *runner) signalChecks() []checkFunc {
	var checks []checkFunc
	for _, req := range r.requests {
		checks = append(checks,
			func(ctx context.Context) Check { return r.traceCheck(ctx, req) },
			func(ctx context.Context) Check { return r.logsCheck(ctx, req) })
	}
	for _, m := range r.metricChecks() {
		checks = append(checks, func(ctx context.Context) Check { return r.counterCheck(ctx, m) })
	}
	checks = append(checks, r.exemplarCheck, r.serviceGraphCheck)
	return checks
}

// forRequest starts a check about one request, skipped when the request did not go as it must.
func forRequest(signal, name string, req *request) (Check, bool) {
	c := Check{Signal: signal, Name: name + " of " + req.name, TraceID: req.traceID}
	if !req.ok {
		c.Status, c.Detail = Skip, "not checked: the request did not go as expected"
		return c, false
	}
	return c, true
}

// traceCheck waits until the request's trace has the spans of every service it touched,
// linked as the contract says.
func (r *runner) traceCheck(ctx context.Context, req *request) Check {
	c, ok := forRequest(SignalTraces, "trace", req)
	if !ok {
		return c
	}
	if c, ok = r.needs(c, "traces"); !ok {
		return c
	}
	query := fmt.Sprintf("%s trace %s", displayName(string(r.traces.Kind())), req.traceID)
	return r.poll(ctx, c, "the trace of "+req.name, func(ctx context.Context) attempt {
		tr, err := r.traces.Trace(ctx, req.traceID)
		if err != nil {
			return notYet(query, err)
		}
		if why := req.shape.check(tr, req.sentSpanID); why != "" {
			return attempt{detail: why, query: query, answer: spanList(tr)}
		}
		return attempt{ok: true, detail: fmt.Sprintf("%d spans from %s, each linked to its caller", len(tr.Spans), strings.Join(tr.Services(), ", "))}
	})
}

// logsCheck waits until the log store has lines with the request's trace id from every
// service it touched, and for the failing request its error line.
func (r *runner) logsCheck(ctx context.Context, req *request) Check {
	c, ok := forRequest(SignalLogs, "logs", req)
	if !ok {
		return c
	}
	if c, ok = r.needs(c, "logs"); !ok {
		return c
	}
	query := r.logs.TraceQuery(req.traceID)
	start := r.started.Add(-time.Minute)
	return r.poll(ctx, c, "the logs of "+req.name, func(ctx context.Context) attempt {
		lines, err := r.logs.Query(ctx, query, start, time.Now().Add(time.Minute), 1000)
		if err != nil {
			return notYet(query, err)
		}
		if why := missingLines(lines, req); why != "" {
			return attempt{detail: why, query: query, answer: lineList(lines)}
		}
		detail := fmt.Sprintf("%d lines from %s", len(lines), strings.Join(lineServices(lines), ", "))
		if req.errText != "" {
			detail += ", with the error line"
		}
		return attempt{ok: true, detail: detail}
	})
}

// missingLines says which expected lines are not there yet.
func missingLines(lines []readback.LogLine, req *request) string {
	have := lineServices(lines)
	for _, s := range req.shape.services() {
		if !slices.Contains(have, s) {
			return fmt.Sprintf("no line from %s yet", s)
		}
	}
	for _, l := range lines {
		if l.TraceID() != req.traceID {
			return fmt.Sprintf("a line of another trace (%q) in the answer: %s", l.TraceID(), l)
		}
	}
	if req.errText == "" {
		return ""
	}
	for _, l := range lines {
		if l.Service() == "frontend" && (l.Level() == "warn" || l.Level() == "error") && l.Contains(req.errText) {
			return ""
		}
	}
	return fmt.Sprintf("no frontend line at level warn or error with the error %q", req.errText)
}

func lineServices(lines []readback.LogLine) []string {
	var out []string
	for _, l := range lines {
		if s := l.Service(); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func lineList(lines []readback.LogLine) string {
	if len(lines) == 0 {
		return "no lines"
	}
	parts := make([]string, 0, 5)
	for i, l := range lines {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(lines)-5))
			break
		}
		parts = append(parts, l.String())
	}
	return fmt.Sprintf("%d lines: %s", len(lines), strings.Join(parts, "; "))
}

// metricCheck is one counter that the requests must have moved.
type metricCheck struct {
	name    string
	series  []string // each must rise by at least one over its baseline
	service string
}

func (r *runner) metricChecks() []metricCheck {
	return []metricCheck{
		{"frontend requests counted", []string{
			`frontend_requests_total{endpoint="/user/{id}",status="200"}`,
			`frontend_requests_total{endpoint="/user/{id}",status="404"}`,
			`frontend_requests_total{endpoint="/product/{id}",status="200"}`,
		}, "frontend"},
		{"backend cache counted", []string{
			`backend_cache_operations_total{operation="miss"}`,
			`backend_cache_operations_total{operation="hit"}`,
		}, "backend"},
		{"database queries counted", []string{
			`database_queries_total{status="success"}`,
			`database_queries_total{status="not_found"}`,
		}, "database"},
	}
}

// readBaseline reads every counter before the requests are sent.
func (r *runner) readBaseline(ctx context.Context) map[string]float64 {
	base := map[string]float64{}
	if r.prom == nil {
		return base
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	for _, m := range r.metricChecks() {
		for _, s := range m.series {
			v, err := r.prom.Sum(ctx, s)
			if err == nil {
				base[s] = v
			}
		}
	}
	return base
}

// counterCheck waits until each series of m has risen above its baseline: the requests were
// counted and Prometheus scraped the counts.
func (r *runner) counterCheck(ctx context.Context, m metricCheck) Check {
	c := Check{Signal: SignalMetrics, Name: m.name}
	if !slices.ContainsFunc(r.requests, func(q *request) bool { return q.ok }) {
		c.Status, c.Detail = Skip, "not checked: no request went as expected"
		return c
	}
	if c, ok := r.needs(c, "metrics"); !ok {
		return c
	}
	return r.poll(ctx, c, m.name, func(ctx context.Context) attempt {
		var moved []string
		for _, s := range m.series {
			q := "sum(" + s + ")"
			v, err := r.prom.Sum(ctx, s)
			if err != nil {
				return notYet(q, err)
			}
			if v < r.baseline[s]+1 {
				return attempt{detail: fmt.Sprintf("%s is %g, was %g before the requests: not scraped yet, or not counted", q, v, r.baseline[s]), query: q, answer: fmt.Sprint(v)}
			}
			moved = append(moved, fmt.Sprintf("%s +%g", s, v-r.baseline[s]))
		}
		return attempt{ok: true, detail: strings.Join(moved, ", ")}
	})
}

// exemplarSeries is the latency histogram whose exemplars must point at stored traces.
const exemplarSeries = "frontend_request_duration_seconds_bucket"

// exemplarCheck waits for an exemplar labelled trace_id on the frontend's latency histogram
// (one of verify's own requests when it can) and requires the trace store to have that trace.
func (r *runner) exemplarCheck(ctx context.Context) Check {
	c := Check{Signal: SignalMetrics, Name: "exemplar names a stored trace"}
	if c, ok := r.needs(c, "metrics", "traces"); !ok {
		return c
	}
	return r.poll(ctx, c, "an exemplar", func(ctx context.Context) attempt {
		id, a := r.findExemplar(ctx, "trace_id")
		if !a.ok {
			return a
		}
		if _, err := r.traces.Trace(ctx, id); err != nil {
			return attempt{detail: fmt.Sprintf("exemplar trace_id=%s: %v", id, err), query: displayName(string(r.traces.Kind())) + " trace " + id}
		}
		return attempt{ok: true, detail: fmt.Sprintf("%s{trace_id=%q} is a trace in %s", exemplarSeries, id, displayName(string(r.traces.Kind())))}
	})
}

// findExemplar returns the trace id in label of an exemplar of the latency histogram stored
// since the run began: one of verify's requests when there is one, else the newest.
func (r *runner) findExemplar(ctx context.Context, label string) (string, attempt) {
	query := "query_exemplars " + exemplarSeries
	res, err := r.prom.Exemplars(ctx, exemplarSeries, r.started.Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil {
		return "", notYet(query, err)
	}
	ours := map[string]bool{}
	for _, q := range r.requests {
		ours[q.traceID] = true
	}
	var newest readback.Exemplar
	var labels []string
	for _, s := range res {
		for _, e := range s.Exemplars {
			for k := range e.Labels {
				if !slices.Contains(labels, k) {
					labels = append(labels, k)
				}
			}
			v, ok := e.Labels[label]
			if !ok {
				continue
			}
			if id, err := readback.NormalizeTraceID(v); err == nil && ours[id] {
				return id, attempt{ok: true}
			}
			if e.Time.After(newest.Time) {
				newest = e
			}
		}
	}
	if newest.Labels == nil {
		slices.Sort(labels)
		why := "no exemplars stored since the requests"
		if len(labels) > 0 {
			why = fmt.Sprintf("no exemplar has the label %q; the stored exemplars have: %s", label, strings.Join(labels, ", "))
		}
		return "", attempt{detail: why, query: query, answer: fmt.Sprintf("%d series with exemplars", len(res))}
	}
	id, err := readback.NormalizeTraceID(newest.Labels[label])
	if err != nil {
		return "", attempt{detail: fmt.Sprintf("exemplar %s=%q: %v", label, newest.Labels[label], err), query: query, final: true}
	}
	return id, attempt{ok: true}
}

// serviceGraphCheck waits for Tempo's metrics generator's service graph edges in Prometheus.
func (r *runner) serviceGraphCheck(ctx context.Context) Check {
	c := Check{Signal: SignalServiceGraph, Name: "service graph edges"}
	if c, ok := r.needs(c, "metrics", "traces"); !ok {
		return c
	}
	if r.traces.Kind() != readback.TracesTempo {
		c.Status, c.Detail = Skip, "not checked: only Tempo's metrics generator makes a service graph"
		return c
	}
	edges := []string{
		`traces_service_graph_request_total{client="frontend",server="backend"}`,
		`traces_service_graph_request_total{client="backend",server="database"}`,
	}
	return r.poll(ctx, c, "the service graph", func(ctx context.Context) attempt {
		for _, e := range edges {
			v, err := r.prom.Sum(ctx, e)
			if err != nil {
				return notYet(e, err)
			}
			if v == 0 {
				return attempt{detail: e + " has no samples (is Prometheus' remote-write receiver on?)", query: e, answer: "no series"}
			}
		}
		return attempt{ok: true, detail: "frontend → backend → database in traces_service_graph_request_total"}
	})
}
