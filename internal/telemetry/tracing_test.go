package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestSamplerFromEnvironmentNames(t *testing.T) {
	cases := []struct {
		name, arg string
		wantDesc  string
		wantErr   bool
	}{
		{"", "", "ParentBased{root:AlwaysOnSampler", false},
		{"always_off", "", "AlwaysOffSampler", false},
		{"traceidratio", "0.25", "TraceIDRatioBased{0.25}", false},
		{"parentbased_traceidratio", "0.5", "ParentBased{root:TraceIDRatioBased{0.5}", false},
		{"traceidratio", "2", "", true},
		{"jaeger_remote", "", "", true},
	}
	for _, c := range cases {
		s, err := parseSampler(c.name, c.arg)
		if c.wantErr {
			if err == nil {
				t.Errorf("%s/%s: want an error", c.name, c.arg)
			}
			continue
		}
		if err != nil || !strings.HasPrefix(s.Description(), c.wantDesc) {
			t.Errorf("%s/%s: got %v, %v; want %s", c.name, c.arg, s, err, c.wantDesc)
		}
	}
}

// The resource comes from the SDK's detectors: telemetry.sdk.*, the host, the schema URL, and
// OTEL_RESOURCE_ATTRIBUTES percent-decoded. In `all` the service keeps its own name; a
// single-service command lets OTEL_SERVICE_NAME rename it.
func TestResourceComesFromTheSDKDetectors(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "team=pillars,note=two%20words,service.name=wrong")
	t.Setenv("OTEL_SERVICE_NAME", "renamed")
	attrsOf := func(fromEnv bool) (map[string]string, string) {
		res, err := newResource(context.Background(), Config{Service: "backend", Version: "1.2.3", Environment: "prod",
			Trace: TraceConfig{ServiceNameFromEnv: fromEnv}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, kv := range res.Attributes() {
			got[string(kv.Key)] = kv.Value.Emit()
		}
		return got, res.SchemaURL()
	}
	got, schema := attrsOf(false)
	want := map[string]string{"service.name": "backend", "service.version": "1.2.3",
		"deployment.environment": "prod", "deployment.environment.name": "prod", "team": "pillars",
		"note": "two words", "telemetry.sdk.language": "go", "telemetry.sdk.name": "opentelemetry"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if got["host.name"] == "" || got["telemetry.sdk.version"] == "" {
		t.Errorf("host.name and telemetry.sdk.version missing: %v", got)
	}
	if schema != semconv.SchemaURL {
		t.Errorf("schema URL %q, want %q", schema, semconv.SchemaURL)
	}
	other, _ := attrsOf(false)
	if _, err := uuid.Parse(got["service.instance.id"]); err != nil || got["service.instance.id"] == other["service.instance.id"] {
		t.Errorf("service.instance.id %q and %q: want a new UUID per resource", got["service.instance.id"], other["service.instance.id"])
	}
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=pod-7")
	if got, _ := attrsOf(false); got["service.instance.id"] != "pod-7" {
		t.Errorf("service.instance.id %q, want the one OTEL_RESOURCE_ATTRIBUTES names", got["service.instance.id"])
	}
	if got, _ := attrsOf(true); got["service.name"] != "renamed" || got["service.version"] != "1.2.3" {
		t.Errorf("single service: service.name %q, version %q; want OTEL_SERVICE_NAME and our version", got["service.name"], got["service.version"])
	}
}

// http/json is a protocol the Go SDK cannot speak: refused, never silently sent as protobuf.
func TestHTTPJSONProtocolIsRefused(t *testing.T) {
	_, err := newOTLPExporter(context.Background(), TraceConfig{Protocol: "http/json"})
	if err == nil || !strings.Contains(err.Error(), "http/protobuf or grpc") {
		t.Fatalf("http/json: err = %v, want a refusal naming what is supported", err)
	}
}

// Batch settings reach the processor, and a span's attribute values are bounded by default.
func TestBatchSettingsAndSpanLimitsApply(t *testing.T) {
	exp := &batchCounter{}
	tel, err := New(context.Background(), Config{Service: "backend", Trace: TraceConfig{
		Exporter: exp, Batch: BatchConfig{MaxExportBatchSize: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_, span := tel.Tracer.Start(context.Background(), "s", trace.WithAttributes(attribute.String("big", strings.Repeat("x", 5000))))
		span.End()
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exp.spans.Load() != 10 || exp.largest.Load() > 3 {
		t.Errorf("exported %d spans in batches of up to %d, want 10 in batches of at most 3", exp.spans.Load(), exp.largest.Load())
	}
	if n := exp.longest.Load(); n != DefaultAttributeValueLength {
		t.Errorf("a 5000-byte attribute was exported with %d bytes, want %d", n, DefaultAttributeValueLength)
	}
}

// batchCounter records batch sizes and the longest string attribute exported.
type batchCounter struct {
	spans, largest, longest atomic.Int64
}

func (b *batchCounter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	b.spans.Add(int64(len(spans)))
	if n := int64(len(spans)); n > b.largest.Load() {
		b.largest.Store(n)
	}
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if n := int64(len(kv.Value.Emit())); n > b.longest.Load() {
				b.longest.Store(n)
			}
		}
	}
	return nil
}

func (b *batchCounter) Shutdown(context.Context) error { return nil }

// A real OTLP/HTTP round trip: spans reach the endpoint named by OTEL_EXPORTER_OTLP_ENDPOINT
// as a protobuf ExportTraceServiceRequest with the service's resource.
func TestSpansAreExportedOverOTLPHTTP(t *testing.T) {
	var got atomic.Pointer[collectortrace.ExportTraceServiceRequest]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		req := &collectortrace.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(b, req); err == nil {
			got.Store(req)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	tel, err := New(context.Background(), Config{Service: "database", Version: "v", Environment: "e",
		Trace: TraceConfig{Endpoint: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer.Start(context.Background(), "database_get_user")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	req := got.Load()
	if req == nil || len(req.ResourceSpans) != 1 {
		t.Fatalf("no spans exported: %v", req)
	}
	rs := req.ResourceSpans[0]
	var service string
	for _, kv := range rs.Resource.Attributes {
		if kv.Key == "service.name" {
			service = kv.Value.GetStringValue()
		}
	}
	if service != "database" || rs.ScopeSpans[0].Spans[0].Name != "database_get_user" {
		t.Errorf("exported %s / %s", service, rs.ScopeSpans[0].Spans[0].Name)
	}
}

func TestClientSpanPropagatesAndMarksFailures(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, err := New(context.Background(), Config{Service: "backend", Trace: TraceConfig{Exporter: exp}})
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("traceparent"))
		WriteJSON(w, http.StatusNotFound, ErrorBody{Error: "user 9 does not exist", Status: 404})
	}))
	defer srv.Close()
	ctx, parent := tel.Tracer.Start(context.Background(), "backend_get_user")
	var v map[string]any
	err = tel.NewClient().GetJSON(ctx, "/db/user/{id}", srv.URL+"/db/user/9", &v)
	parent.End()
	if StatusOf(err) != http.StatusNotFound || !strings.Contains(err.Error(), "user 9 does not exist") {
		t.Errorf("err = %v (status %d), want the callee's 404 and message", err, StatusOf(err))
	}
	_ = tel.Flush(context.Background())
	var client tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.SpanKind == trace.SpanKindClient {
			client = s
		}
	}
	if client.Name != "GET /db/user/{id}" || client.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("client span %q parent %s", client.Name, client.Parent.SpanID())
	}
	if client.Status.Code != codes.Error {
		t.Error("a 404 answer must mark the CLIENT span as error")
	}
	tp, _ := seen.Load().(string)
	if !strings.Contains(tp, client.SpanContext.TraceID().String()+"-"+client.SpanContext.SpanID().String()) {
		t.Errorf("traceparent %q does not carry the client span", tp)
	}

	// A refused connection is an error the caller can see, with an error span.
	srv.Close()
	if err := tel.NewClient().GetJSON(context.Background(), "/db/user/{id}", srv.URL+"/db/user/9", &v); err == nil {
		t.Error("calling a closed server succeeded")
	}
	_ = tel.Shutdown(context.Background())
}

// OTEL_SDK_DISABLED exports nothing, so metrics must not carry exemplars pointing at traces
// that will never exist, while logs keep their trace ids for correlation.
func TestDisabledTracingMakesNoExemplars(t *testing.T) {
	tel, err := New(context.Background(), Config{Service: "frontend", Trace: TraceConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	ctx, span := tel.Tracer.Start(context.Background(), "frontend_get_user")
	defer span.End()
	if !span.SpanContext().IsValid() {
		t.Error("a disabled SDK should still give spans ids for log correlation")
	}
	if ex := exemplar(withRequestIDs(ctx, false)); ex != nil {
		t.Errorf("exemplar %v with tracing disabled", ex)
	}
}

// OTEL_TRACES_EXPORTER: console writes the spans to the service's stdout; none exports
// nothing and so samples nothing (no exemplar may point at a trace that was never sent).
func TestTracesExporterConsoleAndNone(t *testing.T) {
	var out strings.Builder
	tel, err := New(context.Background(), Config{Service: "backend", Version: "v", Environment: "e",
		Trace: TraceConfig{Exporters: []string{"console"}}, Stdout: &syncWriter{w: &out}})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer.Start(context.Background(), "backend_get_user")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Name":"backend_get_user"`) {
		t.Errorf("console exporter wrote %q, want the span", out.String())
	}

	none, err := New(context.Background(), Config{Service: "backend", Trace: TraceConfig{Exporters: []string{"none"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = none.Shutdown(context.Background()) }()
	_, span = none.Tracer.Start(context.Background(), "s")
	if !span.SpanContext().IsValid() || span.SpanContext().IsSampled() {
		t.Errorf("with no exporter the span is %v, want valid ids and not sampled", span.SpanContext())
	}
	if _, err := New(context.Background(), Config{Service: "backend", Trace: TraceConfig{Exporters: []string{"zipkin"}}}); err == nil {
		t.Error("an unknown exporter was accepted")
	}
}

// OTEL_PROPAGATORS chooses the header formats; the default is W3C trace context and baggage.
func TestPropagatorsFromTheirNames(t *testing.T) {
	cases := []struct {
		names      []string
		want, not  string
		wantRefuse bool
	}{
		{names: nil, want: "Traceparent", not: "B3"},
		{names: []string{"b3"}, want: "B3", not: "Traceparent"},
		{names: []string{"tracecontext", "jaeger"}, want: "Uber-Trace-Id"},
		{names: []string{"none"}, not: "Traceparent"},
		{names: []string{"nonsense"}, wantRefuse: true},
	}
	for _, c := range cases {
		tel, err := New(context.Background(), Config{Service: "frontend", Propagators: c.names,
			Trace: TraceConfig{Exporter: tracetest.NewInMemoryExporter()}})
		if c.wantRefuse {
			if err == nil {
				t.Errorf("%v accepted", c.names)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ctx, span := tel.Tracer.Start(context.Background(), "s")
		h := http.Header{}
		tel.Propagator.Inject(ctx, propagation.HeaderCarrier(h))
		span.End()
		if c.want != "" && h.Get(c.want) == "" {
			t.Errorf("%v: no %s header in %v", c.names, c.want, h)
		}
		if c.not != "" && h.Get(c.not) != "" {
			t.Errorf("%v: %s header present in %v", c.names, c.not, h)
		}
		_ = tel.Shutdown(context.Background())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// OTEL_EXPORTER_OTLP_HEADERS and _COMPRESSION are the one place where the OTLP exporter reads
// the process environment itself (the README says so): an endpoint that needs a token, and a
// collector that wants gzip, get them.
func TestOTLPHeadersAndCompressionFromTheEnvironment(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-pillars-token=s3cret")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	var token, encoding atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token.Store(r.Header.Get("X-Pillars-Token"))
		encoding.Store(r.Header.Get("Content-Encoding"))
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	tel, err := New(context.Background(), Config{Service: "database", Trace: TraceConfig{Endpoint: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer.Start(context.Background(), "s")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if token.Load() != "s3cret" || encoding.Load() != "gzip" {
		t.Errorf("export sent token %v, encoding %v; want s3cret, gzip", token.Load(), encoding.Load())
	}
}
