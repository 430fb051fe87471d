package frontend

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// errorAnswer is the JSON error every service answers with, as a client reads it.
type errorAnswer struct {
	Error  string `json:"error"`
	Code   string `json:"code"`
	Status int    `json:"status"`
}

// A frontend pointed at the backend with a wrong path prefix gets the backend's own "no
// route" 404 on every call. That is not the visitor's "no such user": it is a 502, counted as
// a 5xx and as a backend error, so that the availability SLO sees it.
func TestWrongBackendURLIs502AndCountsAgainstTheSLO(t *testing.T) {
	fe := newTestFrontend(t, startRealBackend(t)+"/v2", Config{})
	for _, path := range []string{"/user/5", "/product/7", "/"} {
		resp, body := get(t, http.DefaultClient, fe.URL+path, "")
		var e errorAnswer
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: body %s: %v", path, body, err)
		}
		if resp.StatusCode != http.StatusBadGateway || e.Status != http.StatusBadGateway {
			t.Errorf("%s: %d %s, want 502", path, resp.StatusCode, body)
		}
	}
	eventually(t, "three 502s counted", func() error {
		var n float64
		for _, route := range []string{"/user/{id}", "/product/{id}", "/"} {
			n += fe.tel.CounterValue(t, "frontend_requests_total",
				prometheus.Labels{"method": "GET", "endpoint": route, "status": "502"})
		}
		if n != 3 {
			return fmt.Errorf("frontend_requests_total{status=502} = %v, want 3", n)
		}
		return nil
	})
	if v := fe.tel.CounterValue(t, "frontend_errors_total", prometheus.Labels{"type": string(errBackendError)}); v != 3 {
		t.Errorf("frontend_errors_total{type=backend_error} = %v, want 3", v)
	}
	if v := fe.tel.CounterValue(t, "frontend_errors_total", prometheus.Labels{"type": string(errNotFound)}); v != 0 {
		t.Errorf("frontend_errors_total{type=not_found} = %v, want 0: a wrong URL is not a missing user", v)
	}
}

// A user or product that really does not exist is still the visitor's 404, with the code
// that says which, and a path that matches no route at all is told apart from it.
func TestMissingUserIs404WithItsCode(t *testing.T) {
	fe := newTestFrontend(t, startRealBackend(t), Config{})
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/user/999999", http.StatusNotFound, "user_not_found"},
		{"/product/1001", http.StatusNotFound, "product_not_found"},
		{"/no/such/page", http.StatusNotFound, "no_route"},
		{"/user/abc", http.StatusBadRequest, "invalid_id"},
	} {
		resp, body := get(t, http.DefaultClient, fe.URL+c.path, "")
		var e errorAnswer
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: body %s: %v", c.path, body, err)
		}
		if resp.StatusCode != c.status || e.Status != c.status || e.Code != c.code {
			t.Errorf("%s: %d %s, want %d with code %q", c.path, resp.StatusCode, body, c.status, c.code)
		}
	}
	if v := fe.tel.CounterValue(t, "frontend_errors_total", prometheus.Labels{"type": string(errNotFound)}); v != 2 {
		t.Errorf("frontend_errors_total{type=not_found} = %v, want 2", v)
	}
}
