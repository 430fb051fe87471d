package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// A request for user 123 is one trace rooted at the frontend: frontend_get_user (SERVER) with
// the backend call as its CLIENT child, the trace context handed to the backend, the seed's log
// lines carrying the trace id, and the request counted with the trace as exemplar.
func TestGetUserIsOneTrace(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{})

	resp, body := get(t, http.DefaultClient, fe.URL+"/user/123", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	traceID, spanID := traceResponse(t, resp.Header)
	var answer struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
		Cache   string `json:"cache"`
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if answer.User.ID != 123 || answer.Cache != "miss" || answer.TraceID != traceID {
		t.Errorf("body %s: want user 123 with cache miss and trace_id %s", body, traceID)
	}

	var server, client telemetrytest.SpanStub
	eventually(t, "spans of the request", func() error {
		var err error
		server, err = findSpan(fe, "frontend_get_user")
		if err == nil {
			client, err = findSpan(fe, "GET /api/user/{id}")
		}
		return err
	})
	if server.SpanKind != trace.SpanKindServer || server.Parent.IsValid() {
		t.Errorf("frontend_get_user: kind %v, parent %v; want a SERVER root span", server.SpanKind, server.Parent)
	}
	if got := server.SpanContext.TraceID().String(); got != traceID {
		t.Errorf("frontend_get_user in trace %s, traceresponse says %s", got, traceID)
	}
	if got := server.SpanContext.SpanID().String(); got != spanID {
		t.Errorf("frontend_get_user is span %s, traceresponse says %s", got, spanID)
	}
	if client.SpanKind != trace.SpanKindClient || client.Parent.SpanID() != server.SpanContext.SpanID() ||
		client.SpanContext.TraceID() != server.SpanContext.TraceID() {
		t.Errorf("GET /api/user/{id}: kind %v, parent %v; want a CLIENT child of frontend_get_user", client.SpanKind, client.Parent)
	}

	// The backend got the trace context: same trace, the CLIENT span as parent.
	reqs := fb.received()
	if len(reqs) != 1 || reqs[0].URL.Path != "/api/user/123" {
		t.Fatalf("backend received %d requests (%v), want GET /api/user/123", len(reqs), reqs)
	}
	want := "00-" + traceID + "-" + client.SpanContext.SpanID().String() + "-01"
	if got := reqs[0].Header.Get("traceparent"); got != want {
		t.Errorf("traceparent to the backend %q, want %q", got, want)
	}

	for _, msg := range []string{"Fetching user 123", "Calling backend", "Backend call completed", "User 123 fetch completed"} {
		line := fe.tel.LogWithMsg(t, msg)
		if line["trace_id"] != traceID {
			t.Errorf("log %q has trace_id %v, want %s", msg, line["trace_id"], traceID)
		}
	}
	if line := fe.tel.LogWithMsg(t, "Fetching user 123"); line["user_id"] != 123.0 || line["level"] != "INFO" {
		t.Errorf("log line %v: want user_id 123 at INFO", line)
	}

	labels := prometheus.Labels{"method": "GET", "endpoint": "/user/{id}", "status": "200"}
	eventually(t, "frontend_requests_total", func() error {
		if v := fe.tel.CounterValue(t, "frontend_requests_total", labels); v != 1 {
			return fmt.Errorf("frontend_requests_total%v = %v, want 1", labels, v)
		}
		return nil
	})
	if n := fe.tel.HistogramCount(t, "frontend_request_duration_seconds", prometheus.Labels{"endpoint": "/user/{id}"}); n != 1 {
		t.Errorf("frontend_request_duration_seconds{endpoint=/user/{id}} count %d, want 1", n)
	}
	series := `frontend_requests_total{endpoint="/user/{id}",method="GET",status="200"} 1.0 # {trace_id="` + traceID + `"} 1.0`
	if !hasLinePrefix(scrapeOpenMetrics(t, fe.URL), series) {
		t.Errorf("/metrics has no line starting %s", series)
	}
}

// A product request is frontend_get_product over GET /api/product/{id}, with its log lines.
func TestGetProduct(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{})

	resp, body := get(t, http.DefaultClient, fe.URL+"/product/7", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	traceID, _ := traceResponse(t, resp.Header)
	var answer struct {
		Product struct{ ID int64 } `json:"product"`
		Pricing struct {
			FinalPriceCents int64 `json:"final_price_cents"`
		} `json:"pricing"`
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Product.ID != 7 ||
		answer.Pricing.FinalPriceCents != 2164 || answer.TraceID != traceID {
		t.Errorf("body %s (%v): want product 7 with its pricing and trace_id %s", body, err, traceID)
	}
	eventually(t, "spans", func() error {
		server, err := findSpan(fe, "frontend_get_product")
		if err != nil {
			return err
		}
		client, err := findSpan(fe, "GET /api/product/{id}")
		if err != nil {
			return err
		}
		if server.Parent.IsValid() || client.Parent.SpanID() != server.SpanContext.SpanID() {
			return errors.New("want frontend_get_product as root with GET /api/product/{id} as child")
		}
		return nil
	})
	for _, msg := range []string{"Fetching product 7", "Product 7 fetch completed"} {
		if line := fe.tel.LogWithMsg(t, msg); line["trace_id"] != traceID || line["product_id"] != 7.0 {
			t.Errorf("log %v: want trace_id %s and product_id 7", line, traceID)
		}
	}
}

// The home page is JSON for an API client and a small HTML page for a browser; both carry the
// trace id of their own request.
func TestHomePage(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{})

	t.Run("json", func(t *testing.T) {
		resp, body := get(t, http.DefaultClient, fe.URL+"/", "*/*")
		traceID, _ := traceResponse(t, resp.Header)
		var answer struct {
			TopProducts []map[string]any `json:"top_products"`
			TraceID     string           `json:"trace_id"`
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal(body, &answer) != nil || len(answer.TopProducts) != 2 || answer.TraceID != traceID {
			t.Errorf("status %d, type %q, body %s: want the backend's data as JSON with trace_id %s",
				resp.StatusCode, resp.Header.Get("Content-Type"), body, traceID)
		}
		if line := fe.tel.LogWithMsg(t, "Loading home page"); line["trace_id"] != traceID {
			t.Errorf("Loading home page: trace_id %v, want %s", line["trace_id"], traceID)
		}
	})
	t.Run("html", func(t *testing.T) {
		resp, body := get(t, http.DefaultClient, fe.URL+"/",
			"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		traceID, _ := traceResponse(t, resp.Header)
		page := string(body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("status %d, type %q: want a 200 HTML page", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`<code id="trace-id">` + traceID + `</code>`,
			`href="/user/123"`,
			`href="/product/7"`,
			`Walnut &lt;desk&gt;`, // the backend's text is escaped
		} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %s:\n%s", want, page)
			}
		}
		if resp.Header.Get("Vary") != "Accept" {
			t.Errorf("Vary %q, want Accept", resp.Header.Get("Vary"))
		}
	})
	eventually(t, "home spans and metrics", func() error {
		server, err := findSpan(fe, "frontend_home_request")
		if err != nil {
			return err
		}
		client, err := findSpan(fe, "GET /api/data")
		if err != nil {
			return err
		}
		if server.Parent.IsValid() || client.Parent.SpanID() != server.SpanContext.SpanID() {
			return errors.New("want frontend_home_request as root with GET /api/data as child")
		}
		// The route is labelled "/" (not the mux's "/{$}"), as dashboards expect.
		labels := prometheus.Labels{"method": "GET", "endpoint": "/", "status": "200"}
		if v := fe.tel.CounterValue(t, "frontend_requests_total", labels); v != 2 {
			return fmt.Errorf("frontend_requests_total%v = %v, want 2", labels, v)
		}
		return nil
	})
}

// A backend failure is never a 200: a user it says does not exist is a 404, any other 4xx
// and its 5xx are a 502, no answer in time is a 504, no backend at all a 503; each a JSON
// error counted by type.
func TestBackendFailures(t *testing.T) {
	closed := newFakeBackend(t, 0, 0)
	closed.Close()
	for _, tc := range []struct {
		name       string
		backendURL func(t *testing.T) string
		status     int
		kind       errorType
		message    string
	}{
		{"not found", fakeCodeURL(http.StatusNotFound, backend.CodeUserNotFound), http.StatusNotFound, errNotFound, "fake backend says 404"},
		{"no route", fakeCodeURL(http.StatusNotFound, telemetry.CodeNoRoute), http.StatusBadGateway, errBackendError,
			"backend refused the request for user 123: it failed (404 no_route: fake backend says 404)"},
		{"404 without a code", fakeURL(http.StatusNotFound, 0), http.StatusBadGateway, errBackendError, "backend refused the request for user 123"},
		{"bad request", fakeURL(http.StatusBadRequest, 0), http.StatusBadGateway, errBackendError, "backend refused the request for user 123"},
		{"backend error", fakeURL(http.StatusInternalServerError, 0), http.StatusBadGateway, errBackendError, "backend answered 500 for user 123: fake backend says 500"},
		{"backend unavailable upstream", fakeURL(http.StatusServiceUnavailable, 0), http.StatusBadGateway, errBackendError, "backend answered 503"},
		{"slow backend", fakeURL(0, time.Minute), http.StatusGatewayTimeout, errBackendTimeout, "backend did not answer within 100ms"},
		{"backend down", func(*testing.T) string { return closed.URL }, http.StatusServiceUnavailable, errBackendUnavailable, "backend unavailable for user 123: it could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := newTestFrontend(t, tc.backendURL(t), Config{BackendTimeout: 100 * time.Millisecond})
			resp, body := get(t, http.DefaultClient, fe.URL+"/user/123", "")
			traceID, _ := traceResponse(t, resp.Header)
			var e struct {
				Error   string `json:"error"`
				Status  int    `json:"status"`
				TraceID string `json:"trace_id"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if resp.StatusCode != tc.status || e.Status != tc.status || e.TraceID != traceID ||
				!strings.HasPrefix(e.Error, tc.message) {
				t.Errorf("status %d, body %s; want %d with error %q… and trace_id %s",
					resp.StatusCode, body, tc.status, tc.message, traceID)
			}

			for _, kind := range []errorType{errBadRequest, errNotFound, errBackendError, errBackendUnavailable, errBackendTimeout, errInternal} {
				want := 0.0
				if kind == tc.kind {
					want = 1
				}
				if v := fe.tel.CounterValue(t, "frontend_errors_total", prometheus.Labels{"type": string(kind)}); v != want {
					t.Errorf("frontend_errors_total{type=%q} = %v, want %v", kind, v, want)
				}
			}
			line := fe.tel.LogWithMsg(t, "User 123 fetch failed")
			wantLevel := "WARN"
			if tc.status >= 500 {
				wantLevel = "ERROR"
			}
			if line["trace_id"] != traceID || line["user_id"] != 123.0 || line["status"] != float64(tc.status) ||
				line["error_type"] != string(tc.kind) || line["error"] == "" || line["level"] != wantLevel {
				t.Errorf("error log %v: want %s with trace_id, user_id, status %d, error_type %s and the error",
					line, wantLevel, tc.status, tc.kind)
			}
			eventually(t, "counted and traced", func() error {
				labels := prometheus.Labels{"method": "GET", "endpoint": "/user/{id}", "status": fmt.Sprint(tc.status)}
				if v := fe.tel.CounterValue(t, "frontend_requests_total", labels); v != 1 {
					return fmt.Errorf("frontend_requests_total%v = %v, want 1", labels, v)
				}
				server, err := findSpan(fe, "frontend_get_user")
				if err != nil {
					return err
				}
				// 5xx answers are the server's failure; a 4xx is the caller's (HTTP conventions).
				if wantErr := tc.status >= 500; (server.Status.Code == codes.Error) != wantErr {
					return fmt.Errorf("frontend_get_user status %v for a %d", server.Status, tc.status)
				}
				client, err := findSpan(fe, "GET /api/user/{id}")
				if err != nil {
					return err
				}
				if client.Status.Code != codes.Error {
					return fmt.Errorf("GET /api/user/{id} status %v, want error", client.Status)
				}
				return nil
			})
		})
	}
}

func fakeURL(status int, delay time.Duration) func(t *testing.T) string {
	return func(t *testing.T) string { return newFakeBackend(t, status, delay).URL }
}

// fakeCodeURL is a fake backend whose every /api call answers status with code.
func fakeCodeURL(status int, code string) func(t *testing.T) string {
	return func(t *testing.T) string {
		fb := newFakeBackend(t, status, 0)
		fb.code = code
		return fb.URL
	}
}

// Unknown routes and wrong methods are JSON errors whose metrics never carry the raw path.
func TestUnknownRoutes(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{})

	resp, body := get(t, http.DefaultClient, fe.URL+"/wp-admin/setup.php", "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"status":404`) {
		t.Errorf("unknown route: %d %s, want a 404 JSON error", resp.StatusCode, body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fe.URL+"/user/1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Errorf("POST /user/1: %d, Allow %q; want 405 allowing GET", resp.StatusCode, resp.Header.Get("Allow"))
	}
	eventually(t, "unmatched label", func() error {
		for _, l := range []prometheus.Labels{
			{"method": "GET", "endpoint": "unmatched", "status": "404"},
			{"method": "POST", "endpoint": "unmatched", "status": "405"},
		} {
			if v := fe.tel.CounterValue(t, "frontend_requests_total", l); v != 1 {
				return fmt.Errorf("frontend_requests_total%v = %v, want 1", l, v)
			}
		}
		return nil
	})
	for _, line := range scrapeOpenMetrics(t, fe.URL) {
		if strings.Contains(line, "wp-admin") {
			t.Errorf("raw path in the metrics: %s", line)
		}
	}
	if len(fb.received()) != 0 {
		t.Errorf("the backend was called for a route the frontend does not have")
	}
}

// frontend_active_users counts distinct visitor cookies: a browser keeps its cookie and counts
// once however many pages it loads.
func TestActiveUsersCountsVisitors(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{})
	active := func() float64 { return fe.tel.CounterValue(t, "frontend_active_users", nil) }
	if v := active(); v != 0 {
		t.Fatalf("frontend_active_users = %v before any request", v)
	}

	var issued []*http.Cookie
	for range 2 {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		for i, path := range []string{"/", "/user/1", "/product/2"} {
			resp, _ := get(t, browser, fe.URL+path, "")
			cookies := resp.Cookies()
			if i > 0 {
				if len(cookies) != 0 {
					t.Errorf("%s: a visitor with a cookie got a new one: %v", path, cookies)
				}
				continue
			}
			if len(cookies) != 1 || cookies[0].Name != visitorCookie {
				t.Fatalf("first visit: cookies %v, want one %s", cookies, visitorCookie)
			}
			issued = append(issued, cookies[0])
		}
	}
	c := issued[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 || issued[1].Value == c.Value {
		t.Errorf("visitor cookie %v: want a distinct HttpOnly, SameSite=Lax cookie for path / that persists", c)
	}
	if v := active(); v != 2 {
		t.Errorf("frontend_active_users = %v after two browsers, want 2", v)
	}
	// A forged cookie that this service could not have issued is replaced, not stored.
	resp, _ := get(t, &http.Client{Transport: cookieTransport{visitorCookie + "=" + strings.Repeat("x", 500)}}, fe.URL+"/user/1", "")
	if len(resp.Cookies()) != 1 {
		t.Errorf("an oversized visitor cookie was kept")
	}
	if v := active(); v != 3 {
		t.Errorf("frontend_active_users = %v, want 3", v)
	}
	// Probes and scrapes are not visitors.
	get(t, http.DefaultClient, fe.URL+"/health", "")
	get(t, http.DefaultClient, fe.URL+"/metrics", "")
	if v := active(); v != 3 {
		t.Errorf("frontend_active_users = %v after probes, want 3", v)
	}
}

type cookieTransport struct{ cookie string }

func (c cookieTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Cookie", c.cookie)
	return http.DefaultTransport.RoundTrip(r)
}

// /health reports the backend's state; /ready follows SetReady.
func TestHealth(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{})
	resp, body := get(t, http.DefaultClient, fe.URL+"/health", "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"backend":"ok"`) ||
		!strings.Contains(string(body), `"status":"healthy"`) {
		t.Errorf("/health: %d %s; want healthy with backend ok", resp.StatusCode, body)
	}
	fb.Close()
	_, body = get(t, http.DefaultClient, fe.URL+"/health", "")
	if !strings.Contains(string(body), `"status":"degraded"`) {
		t.Errorf("/health with the backend gone: %s; want degraded", body)
	}
	if resp, _ := get(t, http.DefaultClient, fe.URL+"/ready", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/ready: %d, want 200 after New", resp.StatusCode)
	}
	fe.svc.SetReady(false)
	if resp, _ := get(t, http.DefaultClient, fe.URL+"/ready", ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/ready: %d, want 503 after SetReady(false)", resp.StatusCode)
	}
}

// findSpan returns the ended span with that name, or an error to retry on.
func findSpan(fe *testFrontend, name string) (telemetrytest.SpanStub, error) {
	for _, s := range fe.tel.Spans.GetSpans() {
		if s.Name == name {
			return s, nil
		}
	}
	_ = fe.tel.Flush(context.Background())
	return telemetrytest.SpanStub{}, fmt.Errorf("no span %q; have %v", name, telemetrytest.Names(fe.tel.Spans.GetSpans()))
}

func hasLinePrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// The frontend's own traffic generator, steered through /admin/traffic, sends real requests:
// full traces rooted at the frontend's span (the generator adds no span of its own), visitors
// that show in frontend_active_users, and outcomes counted in pillars_traffic_requests_total.
func TestTrafficAgainstTheFrontend(t *testing.T) {
	fb := newFakeBackend(t, 0, 0)
	fe := newTestFrontend(t, fb.URL, Config{TrafficUsers: 5})
	fe.svc.StartTraffic()
	req, _ := http.NewRequest(http.MethodPut, fe.URL+"/admin/traffic", strings.NewReader(`{"rate": 200}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /admin/traffic: %s", resp.Status)
	}
	eventually(t, "generated traffic", func() error {
		var n float64
		for _, endpoint := range []string{"/", "/user/{id}", "/product/{id}"} {
			n += fe.tel.CounterValue(t, "frontend_requests_total", prometheus.Labels{"method": "GET", "endpoint": endpoint, "status": "200"})
		}
		if n < 40 {
			return fmt.Errorf("%v successful requests so far", n)
		}
		return nil
	})
	fe.svc.StopTraffic()
	roots := 0
	for _, s := range fe.tel.Ended(t) {
		switch s.Name {
		case "frontend_home_request", "frontend_get_user", "frontend_get_product":
			roots++
			if s.Parent.IsValid() {
				t.Errorf("%s has a parent %s: the generator must not start traces", s.Name, s.Parent.SpanID())
			}
		}
	}
	if roots == 0 {
		t.Error("no frontend entry spans from generated traffic")
	}
	if v := fe.tel.CounterValue(t, "frontend_active_users", nil); v < 1 || v > 5 {
		t.Errorf("frontend_active_users = %v with 5 simulated users, want 1..5", v)
	}
	if v := fe.tel.CounterValue(t, "pillars_traffic_requests_total", prometheus.Labels{"outcome": "ok"}); v < 40 {
		t.Errorf("pillars_traffic_requests_total{outcome=ok} = %v after 40 answered requests", v)
	}
}
