// Package traceview reads one trace back from the stores, with the log lines and the metric
// exemplars that name it, and draws it for a terminal: the span tree as a waterfall (each
// span's service, name, duration and a bar to scale, failures marked), then the log lines,
// then the exemplars. It is what `pillars trace <id>` prints; it reads only through
// internal/readback, as `pillars verify` does.
package traceview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/termtext"
)

// Stores are where the signals are read from. Logs and Prometheus may be nil, with the
// reason in LogsDown / PrometheusDown; the view then says why that part is missing.
type Stores struct {
	Traces         readback.TraceStore
	Logs           readback.LogStore
	LogsDown       error
	Prometheus     *readback.Prometheus
	PrometheusDown error
}

// Options tune the waiting.
type Options struct {
	// Wait is how long to wait for the trace to reach its store (10s when 0): a request
	// answered a moment ago is exported a second or two later.
	Wait time.Duration
	// Settle is how long after the trace's end its log lines and exemplars are still waited
	// for (15s when 0: a log batch and a scrape interval). An older trace is read once.
	Settle time.Duration
	// Progress receives a line now and then while waiting; nil discards them.
	Progress io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// View is one trace and what names it.
type View struct {
	Trace      readback.Trace
	TracesFrom string // e.g. "jaeger at http://127.0.0.1:16686"

	Logs     []readback.LogLine
	LogsFrom string
	LogsErr  error // the log store was unusable or refused the query

	Exemplars     []Exemplar
	ExemplarsFrom string
	ExemplarsErr  error
}

// Exemplar is one stored exemplar whose trace_id is the trace's.
type Exemplar struct {
	Metric string
	Labels map[string]string // the series' labels without __name__
	Value  float64
	Time   time.Time
}

// ErrNotFound is returned (wrapped, with the store and the time waited) when the trace store
// has no such trace.
var ErrNotFound = errors.New("trace not found")

const (
	pollInterval = 500 * time.Millisecond
	// settleInterval is the pause between two reads of a fresh trace: longer than the
	// services' span and log batching (1s), so that "nothing changed" means something.
	settleInterval = 1500 * time.Millisecond
)

// traceContext matches a traceparent or traceresponse header value: a pasted header works
// as well as the bare id.
var traceContext = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)

// ParseTraceID returns the 32-digit trace id in s: an id of up to 32 hex digits (shorter ids
// are padded with leading zeros, as Jaeger and Tempo's search print them without), or a
// traceparent / traceresponse value.
func ParseTraceID(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if m := traceContext.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	return readback.NormalizeTraceID(s)
}

// Fetch reads the trace with that id (see ParseTraceID), waiting for it up to o.Wait, then
// its log lines and exemplars. Only a missing or unreadable trace is an error; the other two
// are reported in the view.
func Fetch(ctx context.Context, s Stores, id string, o Options) (View, error) {
	traceID, err := ParseTraceID(id)
	if err != nil {
		return View{}, err
	}
	o = o.withDefaults()
	v := View{TracesFrom: from(string(s.Traces.Kind()), s.Traces.URL())}
	if v.Trace, err = waitTrace(ctx, s.Traces, traceID, o); err != nil {
		return v, err
	}
	start, end := v.Trace.Window()
	v.readLogs(ctx, s, traceID, start, end)
	v.readExemplars(ctx, s, traceID, start, end)
	// A fresh trace may still be arriving: the spans of one service come in a later batch
	// than another's, log lines a push later, exemplars with the next scrape. Read again
	// until nothing changes between two reads and each part has something, or Settle after
	// the trace's end. An older trace has all it will get.
	settle := end.Add(o.Settle)
	for said := false; o.Now().Before(settle); said = true {
		if !said {
			progress(o, "the trace is fresh: waiting for all of its spans, log lines and exemplars (at most until %s after it ended)", o.Settle)
		}
		before := [3]int{len(v.Trace.Spans), len(v.Logs), len(v.Exemplars)}
		select {
		case <-ctx.Done():
			return v, nil
		case <-time.After(settleInterval):
		}
		if tr, err := s.Traces.Trace(ctx, traceID); err == nil && len(tr.Spans) >= len(v.Trace.Spans) {
			v.Trace = tr
		}
		start, end = v.Trace.Window()
		v.readLogs(ctx, s, traceID, start, end)
		v.readExemplars(ctx, s, traceID, start, end)
		stable := before == [3]int{len(v.Trace.Spans), len(v.Logs), len(v.Exemplars)}
		if stable && (len(v.Logs) > 0 || v.LogsErr != nil) && (len(v.Exemplars) > 0 || v.ExemplarsErr != nil) {
			break
		}
	}
	return v, nil
}

func (o Options) withDefaults() Options {
	if o.Wait <= 0 {
		o.Wait = 10 * time.Second
	}
	if o.Settle <= 0 {
		o.Settle = 15 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// waitTrace polls the trace store until it has the trace, the store fails otherwise, or
// o.Wait has passed.
func waitTrace(ctx context.Context, store readback.TraceStore, traceID string, o Options) (readback.Trace, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	begin := o.Now()
	lastProgress := begin
	for {
		tr, err := store.Trace(ctx, traceID)
		if err == nil && len(tr.Spans) > 0 {
			return tr, nil
		}
		if err != nil && !errors.Is(err, readback.ErrTraceNotFound) && ctx.Err() == nil {
			return tr, fmt.Errorf("reading trace %s from %s: %w", traceID, from(string(store.Kind()), store.URL()), err)
		}
		if ctx.Err() != nil {
			return tr, fmt.Errorf("%w: %s has no trace %s (waited %s; a trace shows up a second or two after its request, and only while the store keeps it)",
				ErrNotFound, from(string(store.Kind()), store.URL()), traceID, o.Wait)
		}
		if now := o.Now(); now.Sub(lastProgress) >= 2*time.Second {
			lastProgress = now
			progress(o, "waiting for trace %s in %s [%s of %s]", traceID, from(string(store.Kind()), store.URL()),
				now.Sub(begin).Round(time.Second), o.Wait)
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollInterval):
		}
	}
}

// readLogs reads the trace's lines over its time window with a margin on both sides (a
// line is stamped when written, which may precede the root span's end by a little or follow
// it, and clocks of hosts differ).
func (v *View) readLogs(ctx context.Context, s Stores, traceID string, start, end time.Time) {
	if s.Logs == nil {
		v.LogsErr = s.LogsDown
		return
	}
	v.LogsFrom = from(string(s.Logs.Kind()), s.Logs.URL())
	lines, err := s.Logs.Query(ctx, s.Logs.TraceQuery(traceID), start.Add(-5*time.Minute), end.Add(5*time.Minute), 1000)
	v.Logs, v.LogsErr = lines, err
}

// readExemplars asks Prometheus for the exemplars of every series of the trace's services
// (their job label is the service name, scraped or pushed) around the trace's time, and
// keeps those that name it. A series keeps only its latest exemplar or few between two
// scrapes, so a trace among many requests may have none.
func (v *View) readExemplars(ctx context.Context, s Stores, traceID string, start, end time.Time) {
	if s.Prometheus == nil {
		v.ExemplarsErr = s.PrometheusDown
		return
	}
	v.ExemplarsFrom = "Prometheus at " + s.Prometheus.URL()
	services := v.Trace.Services()
	if len(services) == 0 {
		return
	}
	quoted := make([]string, len(services))
	for i, svc := range services {
		quoted[i] = regexp.QuoteMeta(svc)
	}
	q := fmt.Sprintf(`{job=~%q}`, strings.Join(quoted, "|"))
	series, err := s.Prometheus.Exemplars(ctx, q, start.Add(-time.Minute), end.Add(2*time.Minute))
	if err != nil {
		v.ExemplarsErr = err
		return
	}
	v.Exemplars = nil
	for _, sr := range series {
		for _, e := range sr.Exemplars {
			if id, err := readback.NormalizeTraceID(e.Labels["trace_id"]); err != nil || id != traceID {
				continue
			}
			labels := map[string]string{}
			for k, val := range sr.SeriesLabels {
				if k != "__name__" {
					labels[k] = val
				}
			}
			v.Exemplars = append(v.Exemplars, Exemplar{Metric: sr.SeriesLabels["__name__"], Labels: labels, Value: e.Value, Time: e.Time})
		}
	}
	sort.Slice(v.Exemplars, func(i, j int) bool {
		a, b := v.Exemplars[i], v.Exemplars[j]
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		return labelString(a.Labels) < labelString(b.Labels)
	})
}

func from(kind, url string) string { return kind + " at " + url }

func progress(o Options, format string, args ...any) {
	// The arguments may be a store's answer: escaped like everything Render prints.
	fmt.Fprintln(o.Progress, "pillars trace:", termtext.Escape(fmt.Sprintf(format, args...)))
}
