package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// newInstrumented serves a tiny mux through Instrument on a real loopback server.
func newInstrumented(t *testing.T) (*telemetry.Telemetry, *tracetest.InMemoryExporter, *telemetrytest.SyncBuffer, *httptest.Server) {
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user/{id}", func(w http.ResponseWriter, r *http.Request) {
		tel.Logger.InfoContext(r.Context(), "Fetching user "+r.PathValue("id"))
		telemetry.WriteJSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		tel.WriteError(w, r, http.StatusBadGateway, errors.New("backend answered 500"))
	})
	mux.Handle("GET /metrics", telemetry.MetricsHandler(tel.Registry))
	srv := httptest.NewServer(tel.Instrument(mux, telemetry.SpanNames{"GET /user/{id}": "frontend_get_user"}))
	t.Cleanup(func() { srv.Close(); _ = tel.Shutdown(context.Background()) })
	return tel, exp, logs, srv
}

func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestInstrumentMakesOneServerSpanPerRequestAndLinksEverySignal(t *testing.T) {
	tel, exp, logs, srv := newInstrumented(t)

	// A caller's trace context is continued.
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	h := http.Header{}
	tel.Propagator.Inject(trace.ContextWithRemoteSpanContext(context.Background(), parent), propagation.HeaderCarrier(h))
	resp, _ := get(t, srv.URL+"/user/123", h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	_ = tel.Flush(context.Background())
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name != "frontend_get_user" || s.SpanKind != trace.SpanKindServer {
		t.Errorf("span %q kind %v, want frontend_get_user SERVER", s.Name, s.SpanKind)
	}
	if s.SpanContext.TraceID() != parent.TraceID() || s.Parent.SpanID() != parent.SpanID() {
		t.Errorf("span does not continue the caller's trace: trace %s parent %s", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
	wantHeader := "00-" + s.SpanContext.TraceID().String() + "-" + s.SpanContext.SpanID().String() + "-01"
	if got := resp.Header.Get("traceresponse"); got != wantHeader {
		t.Errorf("traceresponse = %q, want %q", got, wantHeader)
	}
	attrs := map[string]string{}
	for _, kv := range s.Attributes {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["http.route"] != "/user/{id}" || attrs["http.response.status_code"] != "200" {
		t.Errorf("semantic-convention attributes missing: %v", attrs)
	}
	if !strings.Contains(logs.String(), `"msg":"Fetching user 123"`) ||
		!strings.Contains(logs.String(), `"trace_id":"`+s.SpanContext.TraceID().String()+`"`) {
		t.Errorf("log line lacks message or trace id:\n%s", logs.String())
	}
	// The metric is labelled with the route template and carries the trace as exemplar.
	_, body := get(t, srv.URL+"/metrics", http.Header{"Accept": {"application/openmetrics-text; version=1.0.0"}})
	wantSample := `frontend_requests_total{endpoint="/user/{id}",method="GET",status="200"} 1.0 # {trace_id="` + s.SpanContext.TraceID().String() + `"}`
	if !strings.Contains(body, wantSample) {
		t.Errorf("metrics lack %s\n%s", wantSample, grepLines(body, "frontend_"))
	}
	if !strings.Contains(body, `frontend_request_duration_seconds_bucket{endpoint="/user/{id}"`) {
		t.Errorf("duration histogram missing")
	}
}

func TestUnknownRouteWrongMethodAndPanicAnswerJSON(t *testing.T) {
	tel, exp, logs, srv := newInstrumented(t)
	cases := []struct {
		name, method, path string
		status             int
		errorContains      string
	}{
		{"unknown route", http.MethodGet, "/no/such/page?id=42", http.StatusNotFound, "no route for GET /no/such/page"},
		{"wrong method", http.MethodPost, "/user/1", http.StatusMethodNotAllowed, "method POST not allowed"},
		{"panic", http.MethodGet, "/boom", http.StatusInternalServerError, "internal error"},
		{"handler error", http.MethodGet, "/fail", http.StatusBadGateway, "backend answered 500"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body telemetry.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("not a JSON error: %v", err)
			}
			if resp.StatusCode != c.status || body.Status != c.status || !strings.Contains(body.Error, c.errorContains) {
				t.Errorf("got %d %+v, want %d with %q", resp.StatusCode, body, c.status, c.errorContains)
			}
			if len(body.TraceID) != 32 || !strings.Contains(logs.String(), body.TraceID) {
				t.Errorf("error not logged with its trace id %q", body.TraceID)
			}
		})
	}
	// Raw paths never become label values.
	_, metrics := get(t, srv.URL+"/metrics", nil)
	if strings.Contains(metrics, "/no/such/page") {
		t.Error("a raw path leaked into a metric label")
	}
	for _, want := range []string{
		`frontend_requests_total{endpoint="unmatched",method="GET",status="404"} 1`,
		`frontend_requests_total{endpoint="unmatched",method="POST",status="405"} 1`,
		`frontend_requests_total{endpoint="/boom",method="GET",status="500"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s\n%s", want, grepLines(metrics, "frontend_requests_total"))
		}
	}
	// The panic made an error span with the exception recorded, and an error log.
	_ = tel.Flush(context.Background())
	var found bool
	for _, s := range exp.GetSpans() {
		if s.Name == "GET /boom" {
			found = true
			if s.Status.Code != codes.Error || len(s.Events) == 0 || s.Events[0].Name != "exception" {
				t.Errorf("panic span: status %v events %v", s.Status, s.Events)
			}
		}
	}
	if !found {
		t.Error("no span for the panicking request")
	}
	if !strings.Contains(logs.String(), `"msg":"panic while serving request"`) {
		t.Error("panic not logged")
	}
	// And the server still serves.
	if resp, _ := get(t, srv.URL+"/user/7", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after a panic the server answered %d", resp.StatusCode)
	}
}

func TestProbesAndScrapesAreNotTraced(t *testing.T) {
	tel, exp, _, srv := newInstrumented(t)
	get(t, srv.URL+"/metrics", nil)
	_ = tel.Flush(context.Background())
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("a scrape made %d spans", n)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
