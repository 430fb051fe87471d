package telemetry

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	collectorlogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	collectormetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/proto"
)

// otlpSink is an OTLP/HTTP receiver that decodes what the SDK's exporters send to
// /v1/metrics and /v1/logs, as a Collector would: a batch that does not decode is answered
// 400 and counted.
type otlpSink struct {
	mu       sync.Mutex
	metrics  []*metricspb.ResourceMetrics
	logs     []*logspb.ResourceLogs
	rejected []string
	srv      *httptest.Server
}

func newOTLPSink(t *testing.T) *otlpSink {
	s := &otlpSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *otlpSink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	switch r.URL.Path {
	case "/v1/metrics":
		var req collectormetrics.ExportMetricsServiceRequest
		if err = proto.Unmarshal(body, &req); err == nil {
			s.metrics = append(s.metrics, req.GetResourceMetrics()...)
		}
	case "/v1/logs":
		var req collectorlogs.ExportLogsServiceRequest
		if err = proto.Unmarshal(body, &req); err == nil {
			s.logs = append(s.logs, req.GetResourceLogs()...)
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.rejected = append(s.rejected, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// metric returns the last pushed data of the metric with that name, and its resource.
func (s *otlpSink) metric(name string) (*metricspb.Metric, *metricspb.ResourceMetrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.metrics) - 1; i >= 0; i-- {
		for _, sm := range s.metrics[i].GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == name {
					return m, s.metrics[i]
				}
			}
		}
	}
	return nil, nil
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	return out
}

func newOTLPTelemetry(t *testing.T, cfg Config) *Telemetry {
	t.Helper()
	cfg.Service, cfg.Version, cfg.Environment = "frontend", "test", "test"
	cfg.Trace.Exporter = tracetest.NewInMemoryExporter()
	tel, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// Pushed over OTLP, the registry keeps the seed's names and labels, the histogram keeps its
// classic buckets (native ones included in the registry), and an exemplar names the trace
// with the 16 bytes of its id.
func TestMetricsPushedOverOTLPAreTheRegistrys(t *testing.T) {
	sink := newOTLPSink(t)
	tel := newOTLPTelemetry(t, Config{Metrics: MetricsConfig{OTLP: true, Endpoint: sink.srv.URL}})
	m := newHTTPMetrics(tel.Registry, "frontend")
	ctx, span := tel.Tracer.Start(context.Background(), "frontend_get_user")
	Inc(ctx, m.requests.WithLabelValues("GET", "/user/{id}", "200"))
	Observe(ctx, m.duration.WithLabelValues("/user/{id}"), 0.042)
	span.End()
	if err := tel.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if len(sink.rejected) > 0 {
		t.Fatalf("the receiver rejected a push: %v", sink.rejected)
	}
	traceID := span.SpanContext().TraceID()

	counter, res := sink.metric("frontend_requests_total")
	if counter == nil {
		t.Fatal("no frontend_requests_total pushed")
	}
	if got := attrs(res.GetResource().GetAttributes())["service.name"]; got != "frontend" {
		t.Errorf("service.name %q, want frontend (it becomes the job label)", got)
	}
	sum := counter.GetSum()
	if sum == nil || !sum.GetIsMonotonic() || len(sum.GetDataPoints()) != 1 {
		t.Fatalf("frontend_requests_total is not one monotonic sum: %v", counter)
	}
	dp := sum.GetDataPoints()[0]
	wantLabels := map[string]string{"method": "GET", "endpoint": "/user/{id}", "status": "200"}
	if got := attrs(dp.GetAttributes()); !equalMaps(got, wantLabels) || dp.GetAsDouble() != 1 {
		t.Errorf("data point %v = %v, want %v = 1", got, dp.GetAsDouble(), wantLabels)
	}
	if ex := dp.GetExemplars(); len(ex) != 1 || !bytes.Equal(ex[0].GetTraceId(), traceID[:]) {
		t.Errorf("counter exemplars %v, want one naming trace %s", ex, traceID)
	}

	hist, _ := sink.metric("frontend_request_duration_seconds")
	if hist.GetHistogram() == nil {
		t.Fatalf("frontend_request_duration_seconds pushed as %T, want an explicit-bucket histogram (classic _bucket series)", hist.GetData())
	}
	hdp := hist.GetHistogram().GetDataPoints()[0]
	if got, want := hdp.GetExplicitBounds(), prometheus.DefBuckets; !equalFloats(got, want) {
		t.Errorf("bounds %v, want the classic buckets %v", got, want)
	}
	if hdp.GetCount() != 1 || len(hdp.GetExemplars()) != 1 || !bytes.Equal(hdp.GetExemplars()[0].GetTraceId(), traceID[:]) {
		t.Errorf("histogram count %d, exemplars %v; want 1 sample whose exemplar names %s", hdp.GetCount(), hdp.GetExemplars(), traceID)
	}
}

func TestExemplarIDsAreDecodedFromHex(t *testing.T) {
	id := "4bf92f3577b34da6a3ce929d0e0e4736"
	raw, _ := hex.DecodeString(id)
	for _, c := range []struct {
		in   []byte
		want []byte
	}{
		{[]byte(id), raw},            // the bridge's text
		{raw, raw},                   // already an id
		{nil, nil},                   // no id
		{[]byte("zz" + id[2:]), nil}, // not hex: no id rather than a wrong one
		{[]byte("abc"), nil},
	} {
		if got := hexID(c.in, 16); !bytes.Equal(got, c.want) {
			t.Errorf("hexID(%q) = %x, want %x", c.in, got, c.want)
		}
	}
}

// /metrics is the "prometheus" exporter of OTEL_METRICS_EXPORTER: served by default, and
// answering 404 when metrics are only pushed, so that nothing is counted twice.
func TestMetricsEndpointFollowsTheExporterList(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    MetricsConfig
		status int
	}{
		{"default", MetricsConfig{}, http.StatusOK},
		{"otlp,prometheus", MetricsConfig{OTLP: true, Endpoint: "http://127.0.0.1:1"}, http.StatusOK},
		{"otlp", MetricsConfig{OTLP: true, NoPull: true, Endpoint: "http://127.0.0.1:1"}, http.StatusNotFound},
		{"none", MetricsConfig{NoPull: true}, http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			tel := newOTLPTelemetry(t, Config{Metrics: c.cfg})
			rec := httptest.NewRecorder()
			tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			if rec.Code != c.status {
				t.Fatalf("GET /metrics: %d, want %d", rec.Code, c.status)
			}
			if c.status == http.StatusOK && !strings.Contains(rec.Body.String(), "go_goroutines") {
				t.Errorf("no metrics in the answer:\n%.300s", rec.Body.String())
			}
			if c.status == http.StatusNotFound && !strings.Contains(rec.Body.String(), "OTEL_METRICS_EXPORTER") {
				t.Errorf("the 404 does not say why: %s", rec.Body.String())
			}
		})
	}
}

// A log record goes over OTLP as well as to stdout: the message as body, the level as
// severity and as the level attribute, the logger's attributes, the trace and span ids of
// the context, and strings bounded like the line's.
func TestLogsExportedOverOTLP(t *testing.T) {
	sink := newOTLPSink(t)
	var stdout bytes.Buffer
	tel := newOTLPTelemetry(t, Config{Logs: LogsConfig{OTLP: true, Endpoint: sink.srv.URL}, Stdout: &stdout, LogLevel: slog.LevelInfo})
	ctx, span := tel.Tracer.Start(context.Background(), "frontend_get_user")
	tel.Logger.InfoContext(ctx, "Fetching user 123", "user_id", 123)
	tel.Logger.WarnContext(ctx, strings.Repeat("x", 3*maxLogValue))
	tel.Logger.DebugContext(ctx, "below the level: neither on stdout nor exported")
	span.End()
	if err := tel.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if !strings.Contains(stdout.String(), `"msg":"Fetching user 123"`) {
		t.Errorf("the line is no longer on stdout:\n%s", stdout.String())
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var records []*logspb.LogRecord
	for _, rl := range sink.logs {
		if got := attrs(rl.GetResource().GetAttributes())["service.name"]; got != "frontend" {
			t.Errorf("resource service.name %q, want frontend", got)
		}
		for _, sl := range rl.GetScopeLogs() {
			records = append(records, sl.GetLogRecords()...)
		}
	}
	if len(records) != 2 {
		t.Fatalf("%d records exported, want 2 (the debug line is below the level)", len(records))
	}
	sc := span.SpanContext()
	first := records[0]
	if first.GetBody().GetStringValue() != "Fetching user 123" || first.GetSeverityNumber() != logspb.SeverityNumber_SEVERITY_NUMBER_INFO {
		t.Errorf("record body %q severity %v, want the message at INFO", first.GetBody().GetStringValue(), first.GetSeverityNumber())
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	if !bytes.Equal(first.GetTraceId(), tid[:]) || !bytes.Equal(first.GetSpanId(), sid[:]) {
		t.Errorf("record ids %x/%x, want the span's %s/%s", first.GetTraceId(), first.GetSpanId(), tid, sid)
	}
	a := attrs(first.GetAttributes())
	if a["service"] != "frontend" || a["level"] != "info" {
		t.Errorf("attributes %v, want service=frontend and level=info as the Loki push labels them", a)
	}
	if _, dup := a["trace_id"]; dup {
		t.Errorf("trace_id repeated as an attribute: %v", a)
	}
	if n := len(records[1].GetBody().GetStringValue()); n > maxLogValue+len("…") {
		t.Errorf("a %d-byte message was exported with %d bytes, want at most %d", 3*maxLogValue, n, maxLogValue)
	}
	if attrs(records[1].GetAttributes())["level"] != "warn" {
		t.Errorf("second record's level %v, want warn", attrs(records[1].GetAttributes()))
	}
}

// Without OTEL_LOGS_EXPORTER=otlp nothing is exported, whatever the endpoint says.
func TestNoOTLPLogsUnlessAsked(t *testing.T) {
	sink := newOTLPSink(t)
	tel := newOTLPTelemetry(t, Config{Logs: LogsConfig{Endpoint: sink.srv.URL}, Metrics: MetricsConfig{Endpoint: sink.srv.URL}})
	tel.Logger.Info("hello")
	if err := tel.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.logs)+len(sink.metrics) > 0 {
		t.Errorf("exported %d log and %d metric batches without being asked", len(sink.logs), len(sink.metrics))
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
