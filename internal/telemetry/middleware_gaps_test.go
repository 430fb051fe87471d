package telemetry_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// serveOne serves one route through Instrument on a real loopback server.
func serveOne(t *testing.T, pattern string, h http.HandlerFunc) (*telemetry.Telemetry, *tracetest.InMemoryExporter, *httptest.Server) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(context.Background(), telemetry.Config{Service: "backend", Version: "test", Environment: "test",
		Trace: telemetry.TraceConfig{Exporter: exp}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(pattern, h)
	mux.Handle("GET /metrics", telemetry.MetricsHandler(tel.Registry))
	srv := httptest.NewServer(tel.Instrument(mux, telemetry.SpanNames{pattern: "backend_under_test"}))
	t.Cleanup(func() { srv.Close(); _ = tel.Shutdown(context.Background()) })
	return tel, exp, srv
}

func scrape(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A handler that cuts the connection with http.ErrAbortHandler (as httputil.ReverseProxy does)
// still ends its span, as an error, and is counted: before, the span was never ended and the
// request never counted.
func TestAbortedHandlerEndsItsSpanAndIsCounted(t *testing.T) {
	tel, exp, srv := serveOne(t, "GET /abort", func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})
	if resp, err := http.Get(srv.URL + "/abort"); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d), want the connection cut", resp.StatusCode)
	}
	_ = tel.Flush(context.Background())
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "backend_under_test" || spans[0].Status.Code != codes.Error {
		t.Fatalf("spans %v, want one ended error span", spans)
	}
	m := scrape(t, srv)
	if !strings.Contains(m, `backend_requests_total{endpoint="/abort",method="GET",status="500"} 1`) {
		t.Errorf("the aborted request is not counted:\n%s", grepLines(m, "backend_requests_total"))
	}
	if !strings.Contains(m, `http_server_request_duration_seconds_count{error_type="aborted",http_request_method="GET",http_response_status_code="500",http_route="/abort"} 1`) {
		t.Errorf("the aborted request is not in the standard histogram:\n%s", grepLines(m, "http_server_request_duration_seconds_count"))
	}
}

// A panic after the handler sent 200 leaves the client with a 200: that is what is recorded,
// not a 500 it never saw. The span still says the request failed.
func TestPanicAfterTheHeaderRecordsWhatTheClientGot(t *testing.T) {
	tel, exp, srv := serveOne(t, "GET /late-panic", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		panic("after the header")
	})
	resp, err := http.Get(srv.URL + "/late-panic")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // cut short: the panic ends the response
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client got %d, want the 200 that was sent", resp.StatusCode)
	}
	_ = tel.Flush(context.Background())
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Status.Code != codes.Error {
		t.Fatalf("spans %v, want one error span", spans)
	}
	attrs := map[string]string{}
	for _, kv := range spans[0].Attributes {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	if attrs["http.response.status_code"] != "200" || attrs["error.type"] != "panic" {
		t.Errorf("span attributes %v, want status 200 and error.type panic", attrs)
	}
	m := scrape(t, srv)
	if !strings.Contains(m, `backend_requests_total{endpoint="/late-panic",method="GET",status="200"} 1`) {
		t.Errorf("want the request counted with the 200 the client got:\n%s", grepLines(m, "backend_requests_total"))
	}
}

// The middleware keeps the server's optional interfaces: a handler can stream (Flusher) and
// take over the connection (Hijacker) through it.
func TestMiddlewareKeepsFlusherAndHijacker(t *testing.T) {
	_, _, srv := serveOne(t, "GET /upgrade", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			http.Error(w, "no Flusher", http.StatusTeapot)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no Hijacker", http.StatusTeapot)
			return
		}
		conn, rw, err := hj.Hijack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusTeapot)
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = rw.Flush()
	})
	resp, err := http.Get(srv.URL + "/upgrade")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(bufio.NewReader(resp.Body))
	if resp.StatusCode != http.StatusOK || string(body) != "hijacked" {
		t.Errorf("got %d %q, want the hijacked connection's own answer", resp.StatusCode, body)
	}
}

// Request and response body sizes are recorded, as the conventions' body.size histograms, in
// the bytes read and sent.
func TestBodySizesAreRecorded(t *testing.T) {
	_, _, srv := serveOne(t, "POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b[:300])
	})
	resp, err := http.Post(srv.URL+"/echo", "text/plain", strings.NewReader(strings.Repeat("x", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	m := scrape(t, srv)
	for _, want := range []string{
		`http_server_request_body_size_bytes_sum{http_request_method="POST",http_response_status_code="200",http_route="/echo"} 1000`,
		`http_server_response_body_size_bytes_sum{http_request_method="POST",http_response_status_code="200",http_route="/echo"} 300`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(m, "body_size_bytes_sum"))
		}
	}
}
