// Package telemetrytest gives tests a service Telemetry whose spans, logs and metrics can be
// read back: spans from an in-memory exporter, log lines from a buffer, metrics from the
// service's own registry.
package telemetrytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Recorder is a Telemetry plus what it recorded.
type Recorder struct {
	*telemetry.Telemetry
	Spans *tracetest.InMemoryExporter
	logs  *SyncBuffer
}

// New returns telemetry for service that records everything in memory. It is shut down when
// the test ends.
func New(t testing.TB, service string) *Recorder {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	logs := &SyncBuffer{}
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service:     service,
		Version:     "test",
		Environment: "test",
		Trace:       telemetry.TraceConfig{Exporter: exp},
		LogLevel:    slog.LevelDebug,
		Stdout:      logs,
	})
	if err != nil {
		t.Fatalf("telemetry: %v", err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return &Recorder{Telemetry: tel, Spans: exp, logs: logs}
}

// Ended returns the spans ended so far (flushing the batch processor first).
func (r *Recorder) Ended(t testing.TB) tracetest.SpanStubs {
	t.Helper()
	if err := r.Flush(context.Background()); err != nil {
		t.Fatalf("flush spans: %v", err)
	}
	return r.Spans.GetSpans()
}

// Names lists span names, for failure messages.
func Names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// LogLines returns every JSON log line written so far, decoded.
func (r *Recorder) LogLines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(r.logs.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// LogWithMsg returns the first log line whose msg is exactly msg, failing if there is none.
func (r *Recorder) LogWithMsg(t testing.TB, msg string) map[string]any {
	t.Helper()
	lines := r.LogLines(t)
	for _, l := range lines {
		if l["msg"] == msg {
			return l
		}
	}
	t.Fatalf("no log line with msg %q in %d lines:\n%s", msg, len(lines), r.logs.String())
	return nil
}

// CounterValue returns the value of a counter (or gauge) series with exactly these labels,
// 0 when the series does not exist yet.
func (r *Recorder) CounterValue(t testing.TB, name string, labels prometheus.Labels) float64 {
	t.Helper()
	m := r.metric(t, name, labels)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("%s is neither a counter nor a gauge", name)
	return 0
}

// HistogramCount returns the sample count of a histogram series, 0 when it does not exist.
func (r *Recorder) HistogramCount(t testing.TB, name string, labels prometheus.Labels) uint64 {
	t.Helper()
	if m := r.metric(t, name, labels); m != nil && m.Histogram != nil {
		return m.Histogram.GetSampleCount()
	}
	return 0
}

func (r *Recorder) metric(t testing.TB, name string, labels prometheus.Labels) *dto.Metric {
	t.Helper()
	families, err := r.Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; !ok || v != lp.GetValue() {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

// SpanStub is an ended span as the in-memory exporter keeps it.
type SpanStub = tracetest.SpanStub

// SyncBuffer is a bytes.Buffer safe for concurrent writers: the stdout of a service under
// test, written by several handlers at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Scrape GETs a /metrics URL as Prometheus does, asking for OpenMetrics (the only format that
// carries exemplars), and returns the exposition; it fails the test if another format comes
// back.
func Scrape(t testing.TB, url string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("scrape %s: Content-Type %q, want OpenMetrics", url, ct)
	}
	return string(body)
}

// JSONKeys lists every key path of a JSON document ("user.id", "top_products[].product_id"),
// sorted, without trace_id: the shape of an answer, for comparing a fake's with the real one's.
func JSONKeys(t testing.TB, body []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "trace_id" {
					continue
				}
				keys = append(keys, prefix+k)
				walk(prefix+k+".", e)
			}
		case []any:
			for _, e := range x {
				walk(strings.TrimSuffix(prefix, ".")+"[].", e)
			}
		}
	}
	walk("", v)
	slices.Sort(keys)
	return slices.Compact(keys)
}
