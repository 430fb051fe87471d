package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// Bad input gets the right 4xx with a JSON error naming the problem, logged with the trace
// id, and changes nothing else: no database query, no cache entry.
func TestBadInputAnswersClearErrors(t *testing.T) {
	s, _ := startAll(t, nil)
	cases := []struct {
		method, path string
		status       int
		errContains  string
	}{
		{"GET", "/user/abc", 400, "abc"},
		{"GET", "/user/0", 400, "0"},
		{"GET", "/user/-5", 400, "-5"},
		{"GET", "/user/99999999999999999999", 400, ""},
		{"GET", "/user/999999", 404, "999999"},
		{"GET", "/product/1001", 404, "1001"},
		{"GET", "/product/x1", 400, "x1"},
		{"GET", "/no/such/route", 404, "no route"},
		{"POST", "/user/1", 405, "not allowed"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, "http://"+s.frontend+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error   string `json:"error"`
			TraceID string `json:"trace_id"`
		}
		decodeJSON(t, resp, &body)
		if resp.StatusCode != c.status || body.Error == "" || !strings.Contains(body.Error, c.errContains) {
			t.Errorf("%s %s: %d %q, want %d mentioning %q", c.method, c.path, resp.StatusCode, body.Error, c.status, c.errContains)
		}
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q", c.method, c.path, resp.Header.Get("Content-Type"))
		}
		if body.TraceID != "" {
			s.logs(body.TraceID, "request failed")
		}
	}
	db := metrics(t, s.database)
	if v := sample(db, `database_queries_total{operation="SELECT",status="success",table="users"}`); v != 0 {
		t.Errorf("invalid ids reached the database: %v successful user queries", v)
	}
	fe := metrics(t, s.frontend)
	for _, line := range strings.Split(fe, "\n") {
		series, _, _ := strings.Cut(line, " # ") // exemplars hold hex trace ids, not labels
		if strings.Contains(series, "/no/such/route") || strings.Contains(series, "abc") {
			t.Errorf("a raw path or id leaked into a frontend metric label: %s", series)
		}
	}
	if v := sample(fe, `frontend_errors_total{type="bad_request"}`); v < 4 {
		t.Errorf("frontend_errors_total{bad_request} = %v, want ≥ 4", v)
	}
	// And the service still serves.
	if r := s.get("/user/1"); r.status != http.StatusOK {
		t.Errorf("after bad input, /user/1 answered %d", r.status)
	}
}

// With the database stopped, the frontend answers a 5xx JSON error, the failure is an error
// span in the frontend and backend, it is logged and counted; when the database is back, so
// are the answers.
func TestDeadDatabaseGivesServerErrorsAndRecovers(t *testing.T) {
	otlp := telemetrytest.NewOTLPReceiver(t)
	loki := telemetrytest.NewLokiReceiver(t)
	fe, be, db := freeAddr(t), freeAddr(t), freeAddr(t)
	dbPath := seededCopy(t)
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.URL,
		"PILLARS_LOKI_URL":            loki.URL,
		"PILLARS_LOKI_BATCH_WAIT":     "50ms",
		"PILLARS_FRONTEND_ADDR":       fe, "PILLARS_BACKEND_URL": "http://" + be,
		"PILLARS_BACKEND_ADDR": be, "PILLARS_DATABASE_URL": "http://" + db,
		"PILLARS_DATABASE_ADDR": db, "PILLARS_DB_PATH": dbPath,
	}
	out := &telemetrytest.SyncBuffer{}
	stopDB := startRun(t, []string{"database"}, env, out)
	startRun(t, []string{"backend"}, env, out)
	startRun(t, []string{"frontend"}, env, out)
	for _, a := range []string{db, be, fe} {
		waitReady(t, "http://"+a)
	}
	s := &stack{t: t, frontend: fe, backend: be, database: db, otlp: otlp, loki: loki, stdout: out}
	if r := s.get("/user/7"); r.status != http.StatusOK {
		t.Fatalf("healthy stack: %d", r.status)
	}

	if err := stopDB(); err != nil {
		t.Fatalf("database did not stop cleanly: %v", err)
	}
	r := s.get("/user/8")
	if r.status < 500 || r.body["error"] == nil {
		t.Fatalf("with the database down: %d %v, want a 5xx JSON error", r.status, r.body)
	}
	spans := s.trace(r.traceID, "frontend_get_user", "backend_get_user", "GET /db/user/{id}")
	for _, name := range []string{"frontend_get_user", "backend_get_user", "GET /db/user/{id}"} {
		if spans[name][0].Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("span %s has status %v, want error", name, spans[name][0].Status)
		}
	}
	s.logs(r.traceID, "request failed")
	if v := sample(metrics(t, be), `backend_database_calls_total{operation="get_user",status="unavailable"}`); v != 1 {
		t.Errorf("backend_database_calls_total{get_user,unavailable} = %v, want 1", v)
	}
	if v := sample(metrics(t, fe), `frontend_errors_total{type="backend_error"}`); v != 1 {
		t.Errorf("frontend_errors_total{backend_error} = %v, want 1", v)
	}
	health := getURL(t, "http://"+be+"/health")
	if health.body["status"] != "degraded" {
		t.Errorf("backend /health with its database down: %v", health.body)
	}

	// The database comes back on the same file: answers come back, no restart elsewhere.
	startRun(t, []string{"database"}, env, out)
	waitReady(t, "http://"+db)
	if r := s.get("/user/8"); r.status != http.StatusOK {
		t.Errorf("after the database came back: %d %v", r.status, r.body)
	}
}

// With no OTLP receiver, no Loki and nobody scraping, every request still succeeds, and a
// stop still exits cleanly.
func TestAbsentTelemetryBackendsNeverFailRequests(t *testing.T) {
	dead := freeAddr(t) // nothing listens here
	s, stop := startAll(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + dead,
		"PILLARS_LOKI_URL":            "http://" + dead + "/loki/api/v1/push",
	})
	start := time.Now()
	for i := range 50 {
		path := "/user/" + strconv.Itoa(1+i%10)
		if i%3 == 0 {
			path = "/product/" + strconv.Itoa(1+i%10)
		}
		if r := s.get(path); r.status != http.StatusOK {
			t.Fatalf("%s answered %d with telemetry backends down", path, r.status)
		}
	}
	t.Logf("50 requests with dead telemetry backends took %v", time.Since(start))
	if err := stop(); err != nil {
		t.Errorf("stop with dead telemetry backends: %v", err)
	}
}

// On stop (SIGTERM in main), every service finishes in-flight work and flushes its spans
// and logs before run returns, and run returns nil (exit status 0).
func TestStopFlushesSpansAndLogs(t *testing.T) {
	s, stop := startAll(t, map[string]string{"PILLARS_LOKI_BATCH_WAIT": "1h"})
	r := s.get("/user/55")
	if err := stop(); err != nil {
		t.Fatalf("run returned %v on stop, want nil", err)
	}
	// No polling: everything must already be there.
	var found bool
	for _, sp := range s.otlp.Spans() {
		found = found || (hexID(sp.TraceId) == r.traceID && sp.Name == "database_get_user")
	}
	if !found {
		t.Error("spans of the last request were not flushed on stop")
	}
	if !anyLine(s.loki.Entries(), `"msg":"User 55 fetch completed"`) {
		t.Error("log lines of the last request were not flushed on stop (batch wait was 1h)")
	}
	// The ports are free again.
	for _, a := range []string{s.frontend, s.backend, s.database} {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("%s still in use after stop: %v", a, err)
			continue
		}
		ln.Close()
	}
}

func TestCommandLine(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"version"}, func(string) string { return "" }, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "pillars ") {
		t.Errorf("version: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"backend", "--help"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Errorf("--help: %v", err)
	}
	for _, want := range []string{"-cache-ttl", "PILLARS_CACHE_TTL", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("backend --help does not mention %s", want)
		}
	}
	err := run(t.Context(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || exitCode(err) != 2 {
		t.Errorf("unknown command: %v (exit %d), want a usage error", err, exitCode(err))
	}
	err = run(t.Context(), []string{"database"}, func(k string) string {
		return map[string]string{"PILLARS_SLOW_QUERY_THRESHOLD": "soon"}[k]
	}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "PILLARS_SLOW_QUERY_THRESHOLD") || exitCode(err) != 2 {
		t.Errorf("bad variable: %v", err)
	}
	// A port already taken fails the command at once, saying which address, in `all` as in a
	// single service (where it once reached the next service's wiring as a nil listener).
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	taken := ln.Addr().String()
	for _, args := range [][]string{
		{"frontend", "--frontend-addr", taken},
		{"all", "--database-addr", "127.0.0.1:0", "--backend-addr", taken, "--frontend-addr", "127.0.0.1:0"},
		{"all", "--database-addr", taken},
	} {
		err = run(t.Context(), args, func(string) string { return "" }, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), taken+" is already in use") || exitCode(err) != 1 {
			t.Errorf("%v with %s taken: %v (exit %d), want the address named as in use", args, taken, err, exitCode(err))
		}
	}
	err = run(t.Context(), []string{"database", "--database-addr", "127.0.0.1:0", "--db-path", seededCopy(t),
		"--database-faults", `{"latency":"2h"}`}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--database-faults: knob latency: at most 30s") || exitCode(err) != 2 {
		t.Errorf("faults out of bounds: %v (exit %d), want a usage error naming the knob", err, exitCode(err))
	}
	err = run(t.Context(), []string{"backend", "--backend-addr", "127.0.0.1:0", "--request-faults", "sometimes"},
		func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `--request-faults "sometimes"`) || exitCode(err) != 2 {
		t.Errorf("bad --request-faults: %v (exit %d)", err, exitCode(err))
	}
	err = run(t.Context(), []string{"backend", "--backend-addr", "nonsense"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `"nonsense" is not a host:port address`) || exitCode(err) != 2 {
		t.Errorf("malformed address: %v (exit %d), want a usage error", err, exitCode(err))
	}
}

func TestFlagBeatsVariableBeatsDefault(t *testing.T) {
	f := newFlags("x", "", &bytes.Buffer{})
	var a, b, c string
	f.String(&a, "one", "default", "")
	f.String(&b, "two", "default", "")
	f.String(&c, "three", "default", "")
	env := map[string]string{"PILLARS_ONE": "env", "PILLARS_TWO": "env"}
	if err := f.parse([]string{"--one", "flag"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if a != "flag" || b != "env" || c != "default" {
		t.Errorf("got %q %q %q, want flag env default", a, b, c)
	}
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: body is not JSON: %v", resp.Request.URL, err)
	}
}

// Oversized input is refused at the door and the service keeps serving: headers past the
// limit get 431 from the server, an absurdly long id a 400 naming the problem.
func TestOversizedInputIsRefused(t *testing.T) {
	s, _ := startAll(t, nil)
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.frontend+"/user/1", nil)
	req.Header.Set("X-Padding", strings.Repeat("x", 128<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("128 KiB of headers: %d, want 431", resp.StatusCode)
	}
	r := s.get("/user/" + strings.Repeat("9", 4000))
	if r.status != http.StatusBadRequest || r.body["error"] == nil {
		t.Errorf("a 4000-digit id: %d %v, want a 400 JSON error", r.status, r.body)
	}
	if r := s.get("/user/" + strings.Repeat("9", 65000)); r.status != http.StatusRequestURITooLong || r.body["error"] == nil {
		t.Errorf("a 65 kB id: %d %v, want a 414 JSON error", r.status, r.body)
	}
	if r := s.get("/user/1"); r.status != http.StatusOK {
		t.Errorf("after oversized input, /user/1 answered %d", r.status)
	}
}

// Input never multiplies into telemetry: 600 requests with ids of 7 kB each (under the URL
// limit, so they reach the handlers) leave bounded log lines and spans, and every export
// batch stays far under what a trace store accepts (Tempo refuses a whole batch over its
// body limit, losing the ordinary spans in it too).
func TestOversizedInputStaysOutOfTelemetry(t *testing.T) {
	s, stop := startAll(t, nil)
	ok := s.get("/user/7")
	big := strings.Repeat("7", 7000)
	for i := range 600 {
		path := "/user/" + big
		if i%2 == 1 {
			path = "/product/" + big
		}
		if r := s.get(path); r.status != http.StatusBadRequest {
			t.Fatalf("request %d: %d, want 400", i, r.status)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("per request: %d bytes of OTLP, %d bytes of logs; largest export %d bytes",
		s.otlp.Bytes.Load()/601, s.loki.Bytes.Load()/601, s.otlp.LargestBatch.Load())
	if n := s.otlp.LargestBatch.Load(); n > 1<<20 {
		t.Errorf("largest OTLP export was %d bytes, want well under 1 MiB", n)
	}
	if perRequest := s.otlp.Bytes.Load() / 601; perRequest > 4<<10 {
		t.Errorf("%d bytes of spans per request, want a few kB at most", perRequest)
	}
	if perRequest := s.loki.Bytes.Load() / 601; perRequest > 4<<10 {
		t.Errorf("%d bytes of logs per request, want a few kB at most", perRequest)
	}
	for _, line := range strings.Split(s.stdout.String(), "\n") {
		if strings.Contains(line, strings.Repeat("7", 100)) {
			t.Fatalf("the input reached a log line: %.300s", line)
		}
	}
	// The ordinary request's spans were exported with the rest.
	if spans := s.trace(ok.traceID, "frontend_get_user", "backend_get_user", "database_get_user"); len(spans) == 0 {
		t.Error("the ordinary request's trace is missing")
	}
}

// A client that trickles its request and never finishes it is cut off by the server's
// header timeout, and holds nothing that other requests need in the meantime.
func TestSlowClientIsCutOff(t *testing.T) {
	s, _ := startAll(t, nil)
	conn, err := net.Dial("tcp", s.frontend)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /user/1 HTTP/1.1\r\nHost: pillars\r\n")); err != nil {
		t.Fatal(err)
	}
	if r := s.get("/user/2"); r.status != http.StatusOK {
		t.Errorf("while a slow client hangs, /user/2 answered %d", r.status)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 512)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue // a 408 answer before the close is fine too
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			t.Fatal("the server kept a half-sent request open for 20s")
		}
		break // closed by the server
	}
}
