package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

func newTracedTelemetry(t *testing.T) (*telemetry.Telemetry, *tracetest.InMemoryExporter, *telemetrytest.SyncBuffer) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	logs := &telemetrytest.SyncBuffer{}
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "frontend", Version: "test", Environment: "test",
		Trace: telemetry.TraceConfig{Exporter: exp}, LogLevel: slog.LevelDebug, Stdout: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel, exp, logs
}

func ended(t *testing.T, tel *telemetry.Telemetry, exp *tracetest.InMemoryExporter) tracetest.SpanStubs {
	t.Helper()
	if err := tel.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return exp.GetSpans()
}

// Server spans carry the address and the port the client used apart, and the peer's address
// and port apart, as the HTTP semantic conventions (and otelhttp) do.
func TestServerSpanSplitsAddressesFromPorts(t *testing.T) {
	tel, exp, _, srv := newInstrumented(t)
	_ = tel
	resp, _ := get(t, srv.URL+"/user/7", http.Header{"User-Agent": {"probe/1"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	_ = tel.Flush(context.Background())
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	a := attrMap(spans[0].Attributes)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	want := map[string]string{
		"server.address": "127.0.0.1", "server.port": port, "client.address": "127.0.0.1",
		"network.peer.address": "127.0.0.1", "url.scheme": "http", "network.protocol.version": "1.1",
		"user_agent.original": "probe/1", "http.request.method": "GET", "url.path": "/user/7",
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %q, want %q (all %v)", k, a[k], v, a)
		}
	}
	if p, err := strconv.Atoi(a["network.peer.port"]); err != nil || p <= 0 || a["client.port"] != "" {
		t.Errorf("network.peer.port %q, client.port %q: want the peer's port, and client.port (opt-in) left out", a["network.peer.port"], a["client.port"])
	}
}

// At a public endpoint an outside traceparent does not choose the trace: the request is the
// root of a new trace, linked to the caller's, and outside baggage is dropped.
func TestPublicEndpointStartsANewLinkedTrace(t *testing.T) {
	tel, exp, logs := newTracedTelemetry(t)
	mux := http.NewServeMux()
	var baggageSeen atomic.Value
	mux.HandleFunc("GET /user/{id}", func(w http.ResponseWriter, r *http.Request) {
		h := http.Header{}
		tel.Propagator.Inject(r.Context(), propagation.HeaderCarrier(h))
		baggageSeen.Store(h.Get("baggage"))
		telemetry.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	})
	srv := httptest.NewServer(tel.Instrument(mux, nil, telemetry.PublicEndpoint()))
	defer srv.Close()
	outside := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{9, 9, 9}, SpanID: trace.SpanID{8, 8}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	h := http.Header{"Baggage": {"pillars.fault=database.latency%3D5s"}}
	tel.Propagator.Inject(trace.ContextWithRemoteSpanContext(context.Background(), outside), propagation.HeaderCarrier(h))
	h.Set("Baggage", "pillars.fault=database.latency%3D5s")
	resp, _ := get(t, srv.URL+"/user/1", h)
	spans := ended(t, tel, exp)
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.SpanContext.TraceID() == outside.TraceID() || s.Parent.IsValid() {
		t.Errorf("the request continued the outside trace %s (parent %v)", outside.TraceID(), s.Parent)
	}
	if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID() != outside.TraceID() {
		t.Errorf("links %v, want one link to the caller's trace", s.Links)
	}
	if !strings.Contains(resp.Header.Get("traceresponse"), s.SpanContext.TraceID().String()) {
		t.Errorf("traceresponse %q does not name the new trace", resp.Header.Get("traceresponse"))
	}
	if b, _ := baggageSeen.Load().(string); b != "" {
		t.Errorf("outside baggage %q reached the handler", b)
	}
	_ = logs
}

// A URL longer than the bound is a 414 JSON error, and none of it reaches logs or spans.
func TestOverlongURLIs414(t *testing.T) {
	tel, exp, logs, srv := newInstrumented(t)
	long := strings.Repeat("9", 20000)
	resp, body := get(t, srv.URL+"/user/"+long, nil)
	var e telemetry.ErrorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusRequestURITooLong || e.Status != 414 {
		t.Fatalf("status %d body %s: want a 414 JSON error", resp.StatusCode, body)
	}
	if strings.Contains(logs.String(), strings.Repeat("9", 100)) || len(logs.String()) > 2000 {
		t.Errorf("the URL reached the logs (%d bytes):\n%.500s", len(logs.String()), logs.String())
	}
	for _, s := range ended(t, tel, exp) {
		for _, kv := range s.Attributes {
			if len(kv.Value.Emit()) > telemetry.MaxEcho+len("…") {
				t.Errorf("span %s attribute %s is %d bytes", s.Name, kv.Key, len(kv.Value.Emit()))
			}
		}
	}
}

// Whatever a handler logs, no string in a log line passes the hard bound.
func TestLogLinesAreBounded(t *testing.T) {
	tel, _, logs := newTracedTelemetry(t)
	tel.Logger.Info(strings.Repeat("m", 10000), "input", strings.Repeat("i", 10000),
		slog.Group("g", slog.String("nested", strings.Repeat("n", 10000))), "n", 5)
	line := logs.String()
	if len(line) > 3*2048+200 {
		t.Errorf("a line with three 10 kB strings is %d bytes, want each string bounded", len(line))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil || m["n"] != 5.0 {
		t.Errorf("bounded line is not the same JSON record: %v %v", err, m)
	}
}

// The CLIENT span ends when the answer has been read, not when its headers arrive.
func TestClientSpanEndsAfterTheBodyIsRead(t *testing.T) {
	tel, exp, _ := newTracedTelemetry(t)
	headersSent, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"a":`))
		w.(http.Flusher).Flush()
		close(headersSent)
		<-release
		_, _ = w.Write([]byte(`1}`))
	}))
	defer srv.Close()
	done := make(chan error, 1)
	go func() {
		var v map[string]int
		done <- tel.NewClient().GetJSON(context.Background(), "/slow", srv.URL+"/slow", &v)
	}()
	<-headersSent
	if spans := ended(t, tel, exp); len(spans) != 0 {
		t.Fatalf("the client span ended with the headers, before the body: %v", telemetrytest.Names(spans))
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if spans := ended(t, tel, exp); len(spans) != 1 || spans[0].SpanKind != trace.SpanKindClient {
		t.Fatalf("spans %v, want the client span", telemetrytest.Names(spans))
	}
}

// Between services a redirect is never followed: it is a bad answer (502), and the place it
// points to is never called.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	tel, _, _ := newTracedTelemetry(t)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/x", http.StatusFound))
	defer srv.Close()
	var v map[string]any
	err := tel.NewClient().GetJSON(context.Background(), "/api/data", srv.URL+"/api/data", &v)
	if o := telemetry.Classify(err); o.Status != http.StatusBadGateway || o.Label != telemetry.CallError {
		t.Errorf("redirect: %v classified %+v, want error/502", err, o)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// completeAnswer is a wire type that knows what a complete answer holds.
type completeAnswer struct {
	ID int64 `json:"id"`
}

func (a completeAnswer) Validate() error {
	if a.ID == 0 {
		return errors.New("no id")
	}
	return nil
}

// An answer that decodes but lacks what the API promises ("{}") is a bad answer, a 502.
func TestIncompleteAnswerIsABadAnswer(t *testing.T) {
	tel, _, _ := newTracedTelemetry(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, map[string]any{})
	}))
	defer srv.Close()
	var v completeAnswer
	err := tel.NewClient().GetJSON(context.Background(), "/x", srv.URL, &v)
	if !errors.Is(err, telemetry.ErrBadAnswer) || telemetry.Classify(err).Status != http.StatusBadGateway {
		t.Errorf("{}: err %v, want a bad answer classified 502", err)
	}
}

// Classify is the one rule for every tier; its reasons never carry addresses or system calls.
func TestClassifyCallFailures(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	_, refused := http.Get(closedURL)
	canceledCtx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name   string
		err    error
		label  string
		status int
	}{
		{"success", nil, telemetry.CallSuccess, 200},
		{"known 404", telemetry.KnownNotFound(&telemetry.HTTPError{Status: 404, Code: "user_not_found", Err: errors.New("user 9 does not exist")}, "user_not_found"), telemetry.CallNotFound, 404},
		{"404 of another code", telemetry.KnownNotFound(&telemetry.HTTPError{Status: 404, Code: "no_route", Err: errors.New("no route for GET /v2/api/user/9")}, "user_not_found"), telemetry.CallClientError, 502},
		{"404 without a code", &telemetry.HTTPError{Status: 404, Err: errors.New("not found")}, telemetry.CallClientError, 502},
		{"400", &telemetry.HTTPError{Status: 400, Err: errors.New("bad id")}, telemetry.CallClientError, 502},
		{"503", &telemetry.HTTPError{Status: 503, Err: errors.New("database unavailable")}, telemetry.CallError, 502},
		{"bad answer", fmt.Errorf("%w: x", telemetry.ErrBadAnswer), telemetry.CallError, 502},
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), telemetry.CallTimeout, 504},
		{"canceled", canceledCtx.Err(), telemetry.CallCanceled, 499},
		{"refused", refused, telemetry.CallUnavailable, 503},
	} {
		o := telemetry.Classify(c.err)
		if o.Label != c.label || o.Status != c.status {
			t.Errorf("%s: %+v, want %s/%d", c.name, o, c.label, c.status)
		}
		if strings.Contains(o.Reason, "127.0.0.1") || strings.Contains(o.Reason, "dial") {
			t.Errorf("%s: reason %q names internals", c.name, o.Reason)
		}
	}
}

// Excerpt bounds input on a rune boundary and keeps it valid UTF-8 (an OTLP exporter refuses a
// whole batch over one invalid string).
func TestExcerptIsBoundedValidUTF8(t *testing.T) {
	if got := telemetry.Excerpt("\xff12"); got != "\uFFFD12" {
		t.Errorf("Excerpt = %q, want the invalid byte replaced", got)
	}
	// The cut at MaxEcho splits an "é" in two: the whole rune goes.
	got := telemetry.Excerpt("a" + strings.Repeat("é", telemetry.MaxEcho))
	if !utf8.ValidString(got) || len(got) > telemetry.MaxEcho+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("Excerpt = %q (%d bytes), want valid UTF-8 of at most %d bytes and an ellipsis", got, len(got), telemetry.MaxEcho)
	}
	if got := telemetry.Quote(strings.Repeat("x", 100)); got != `"`+strings.Repeat("x", telemetry.MaxEcho)+`"…` {
		t.Errorf("Quote = %s", got)
	}
}

// With the request metrics off (--metrics=false) a request is served and traced as ever, but
// neither counted nor timed.
func TestUnmeasuredRequestsAreNotCounted(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(context.Background(), telemetry.Config{Service: "frontend",
		Trace: telemetry.TraceConfig{Exporter: exp}, Metrics: telemetry.MetricsConfig{Unmeasured: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	mux.Handle("GET /metrics", tel.MetricsHandler())
	srv := httptest.NewServer(tel.Instrument(mux, nil))
	defer srv.Close()
	get(t, srv.URL+"/user/1", nil)
	if spans := ended(t, tel, exp); len(spans) != 1 {
		t.Errorf("%d spans, want the request's", len(spans))
	}
	if body := telemetrytest.Scrape(t, srv.URL+"/metrics"); strings.Contains(body, `frontend_requests_total{`) {
		t.Errorf("the request was counted:\n%s", grepLines(body, "frontend_requests_total"))
	}
}
