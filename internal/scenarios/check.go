package scenarios

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// Stores are the backends a signature is read from; an item whose store is nil is reported
// as not checked.
type Stores struct {
	Prometheus *readback.Prometheus
	Traces     readback.TraceStore
	Logs       readback.LogStore
}

// CheckOptions say where in time to look.
type CheckOptions struct {
	// Since is where the search for spans and log lines starts (default: 15 minutes ago);
	// metrics and alerts are read as they are now.
	Since time.Time
	// Timescale, when set (the end-to-end tests use "30"), adds the label timescale=<it> to
	// every alert: the alerts of the time-scaled copies of the rules, which fire in seconds.
	Timescale string
	// QueryTimeout bounds each query (default 10 s).
	QueryTimeout time.Duration
}

// Signals of a signature's items.
const (
	SignalMetrics = "metrics"
	SignalTraces  = "traces"
	SignalLogs    = "logs"
	SignalAlerts  = "alerts"
)

// Result is one signature item as found in its store.
type Result struct {
	Signal string `json:"signal"`
	// Item says what is looked for, in a person's words.
	Item     string `json:"item"`
	Observed bool   `json:"observed"`
	// Detail says what was found: the value, the span, the line; or what there was instead.
	Detail string `json:"detail"`
	// Query is what the store was asked.
	Query string `json:"query"`
	// Error is set when the store could not answer: the item is neither seen nor unseen.
	Error string `json:"error,omitempty"`
}

func (r Result) String() string {
	state := "not observed"
	switch {
	case r.Error != "":
		state = "ERROR " + r.Error
	case r.Observed:
		state = "observed"
	}
	return fmt.Sprintf("%s: %s: %s (%s)", r.Signal, r.Item, state, r.Detail)
}

// Check reads every item of sig from its store once, all at the same time, and returns the
// results in the signature's order: metrics, traces, logs, alerts.
func Check(ctx context.Context, sig Signature, stores Stores, opts CheckOptions) []Result {
	if opts.Since.IsZero() {
		opts.Since = time.Now().Add(-15 * time.Minute)
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 10 * time.Second
	}
	var checks []func(context.Context) Result
	for _, m := range sig.Metrics {
		checks = append(checks, func(ctx context.Context) Result { return checkMetric(ctx, stores.Prometheus, m) })
	}
	for _, t := range sig.Traces {
		checks = append(checks, func(ctx context.Context) Result { return checkTrace(ctx, stores.Traces, t, opts.Since) })
	}
	for _, l := range sig.Logs {
		checks = append(checks, func(ctx context.Context) Result { return checkLog(ctx, stores.Logs, l, opts.Since) })
	}
	for _, a := range sig.Alerts {
		checks = append(checks, func(ctx context.Context) Result {
			return checkAlert(ctx, stores.Prometheus, a, opts.Timescale)
		})
	}
	out := make([]Result, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, opts.QueryTimeout)
			defer cancel()
			out[i] = c(cctx)
		})
	}
	wg.Wait()
	return out
}

func checkMetric(ctx context.Context, prom *readback.Prometheus, m MetricItem) Result {
	r := Result{Signal: SignalMetrics, Item: m.Name + " (" + m.Threshold() + ")", Query: m.Query}
	if prom == nil {
		r.Error = "no Prometheus to ask"
		return r
	}
	samples, err := prom.Query(ctx, m.Query, time.Time{})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if len(samples) == 0 {
		r.Detail = "the query selects nothing"
		return r
	}
	best := samples[0]
	for _, s := range samples {
		if m.Crossed(s.Value) {
			r.Observed, best = true, s
			break
		}
		if m.Above != nil && s.Value > best.Value || m.Below != nil && s.Value < best.Value {
			best = s
		}
	}
	r.Detail = "value " + strconv.FormatFloat(best.Value, 'g', 4, 64) + labelText(best.Metric)
	return r
}

func labelText(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+strconv.Quote(labels[k]))
	}
	return " {" + strings.Join(parts, ", ") + "}"
}

// SpanSearch is the search the item stands for, from since until now.
func (t TraceItem) SpanSearch(since time.Time) readback.SpanSearch {
	return readback.SpanSearch{Service: t.Service, Name: t.Span, Error: t.Error, Attribute: t.Attribute,
		Value: t.Value, Contains: t.Contains, Start: since, End: time.Now().Add(time.Minute), Limit: 50}
}

func checkTrace(ctx context.Context, store readback.TraceStore, t TraceItem, since time.Time) Result {
	q := t.SpanSearch(since)
	r := Result{Signal: SignalTraces, Item: q.String(), Query: q.String() + " since " + since.UTC().Format(time.RFC3339)}
	if store == nil {
		r.Error = "no trace store to ask"
		return r
	}
	spans, err := store.FindSpans(ctx, q)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if len(spans) == 0 {
		r.Detail = "no such span in the traces found"
		return r
	}
	s := spans[0]
	r.Observed = true
	r.Detail = fmt.Sprintf("%d spans, e.g. in trace %s", len(spans), s.TraceID)
	if v, ok := s.Attr(t.Attribute); ok && t.Attribute != "" {
		r.Detail += ": " + t.Attribute + "=" + strconv.Quote(cut(v, 80))
	}
	if s.StatusMessage != "" {
		r.Detail += ", status " + strconv.Quote(cut(s.StatusMessage, 80))
	}
	return r
}

// LogFilter is the filter the item stands for.
func (l LogItem) LogFilter() readback.LogFilter {
	return readback.LogFilter{Service: l.Service, Level: l.Level, Phrase: l.Message}
}

func checkLog(ctx context.Context, store readback.LogStore, l LogItem, since time.Time) Result {
	f := l.LogFilter()
	r := Result{Signal: SignalLogs, Item: f.String()}
	if store == nil {
		r.Error = "no log store to ask"
		return r
	}
	r.Query = store.MessageQuery(f)
	lines, err := store.Query(ctx, r.Query, since, time.Now().Add(time.Minute), 200)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	var found []readback.LogLine
	for _, line := range lines {
		if f.Matches(line) {
			found = append(found, line)
		}
	}
	if len(found) == 0 {
		r.Detail = fmt.Sprintf("no such line since %s (%d lines answered the query)", since.UTC().Format(time.TimeOnly), len(lines))
		return r
	}
	last := found[len(found)-1]
	r.Observed = true
	r.Detail = fmt.Sprintf("%d lines, the last %q", len(found), cut(last.Message(), 100))
	if id := last.TraceID(); id != "" {
		r.Detail += " in trace " + id
	}
	return r
}

// Labels are the labels the alert must have, with the timescale's when given.
func (a AlertItem) labels(timescale string) map[string]string {
	want := maps.Clone(a.Labels)
	if want == nil {
		want = map[string]string{}
	}
	if timescale != "" {
		want["timescale"] = timescale
	}
	return want
}

func checkAlert(ctx context.Context, prom *readback.Prometheus, a AlertItem, timescale string) Result {
	want := a.labels(timescale)
	r := Result{Signal: SignalAlerts, Item: a.Alert + labelText(want) + " firing", Query: "GET /api/v1/alerts"}
	if prom == nil {
		r.Error = "no Prometheus to ask"
		return r
	}
	alerts, err := prom.Alerts(ctx)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	pending := false
	for _, al := range alerts {
		if al.Name() != a.Alert || !hasLabels(al.Labels, want) {
			continue
		}
		if al.State == "firing" {
			r.Observed = true
			r.Detail = "firing, active since " + al.ActiveAt.UTC().Format(time.TimeOnly) + labelText(al.Labels)
			return r
		}
		pending = true
	}
	r.Detail = "not active"
	if pending {
		r.Detail = "pending: its condition holds, its for: not over yet"
	}
	return r
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
