package telemetry_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// guarded serves PATCH and GET /admin/thing behind a guard with token (loopback only).
func guarded(t *testing.T, token string) http.Handler {
	t.Helper()
	rec := telemetrytest.New(t, "backend")
	g := rec.NewAdminGuard(token, true)
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("PATCH /admin/thing", g.Wrap(ok))
	mux.Handle("GET /admin/thing", g.Wrap(ok))
	return mux
}

// A page in a browser on the same machine reaches an open loopback admin API by rebinding its
// own name to 127.0.0.1: without a token, only loopback Host names are answered.
func TestAdminGuardAnswersOnlyLoopbackHostsWithoutAToken(t *testing.T) {
	h := guarded(t, "")
	for _, c := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:8002", 200},
		{"127.0.0.1", 200},
		{"127.8.9.10:8002", 200},
		{"localhost:8002", 200},
		{"LOCALHOST", 200},
		{"localhost.:8002", 200},
		{"[::1]:8002", 200},
		{"[::1]", 200},
		{"rebind.attacker.example", 403},
		{"rebind.attacker.example:8002", 403},
		{"localhost.attacker.example:8002", 403},
		{"127.0.0.1.nip.io:8002", 403},
		{"10.0.0.5:8002", 403},
		{"[::2]:8002", 403},
		{"", 403},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPatch} {
			req := httptest.NewRequest(method, "/admin/thing", strings.NewReader("{}"))
			req.Host = c.host
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != c.want {
				t.Errorf("%s with Host %q: %d, want %d", method, c.host, w.Code, c.want)
			}
			if c.want == 403 {
				var e telemetry.ErrorBody
				if json.Unmarshal(w.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, "loopback host names") ||
					!strings.Contains(e.Error, "PILLARS_ADMIN_TOKEN") {
					t.Errorf("Host %q refused with %q: want a JSON error saying what to do", c.host, w.Body.String())
				}
			}
		}
	}
	// With a token the token decides: a deployment behind an ingress is called by its name.
	withToken := guarded(t, "s3cret")
	req := httptest.NewRequest(http.MethodPatch, "/admin/thing", strings.NewReader("{}"))
	req.Host = "pillars.example.com"
	req.Header.Set("Authorization", "Bearer s3cret")
	w := httptest.NewRecorder()
	withToken.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Errorf("PATCH with the token through Host pillars.example.com: %d, want 200", w.Code)
	}
}

// A write from another site's page is refused, token or not; reads and callers that are not
// browsers (no Origin, no Sec-Fetch-Site) pass.
func TestAdminGuardRefusesCrossOriginWrites(t *testing.T) {
	for _, token := range []string{"", "s3cret"} {
		h := guarded(t, token)
		for _, c := range []struct {
			name, method string
			headers      map[string]string
			want         int
		}{
			{"command line", http.MethodPatch, nil, 200},
			{"same origin", http.MethodPatch, map[string]string{"Origin": "http://127.0.0.1:8002"}, 200},
			{"same origin, fetch metadata", http.MethodPatch, map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
			{"typed in the address bar", http.MethodPatch, map[string]string{"Sec-Fetch-Site": "none"}, 200},
			{"another site's page", http.MethodPatch, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"another port of localhost", http.MethodPatch, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
			{"another origin", http.MethodPatch, map[string]string{"Origin": "http://evil.example"}, 403},
			{"another loopback origin", http.MethodPatch, map[string]string{"Origin": "http://127.0.0.1:3000"}, 403},
			{"a read from another site", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site"}, 200},
		} {
			req := httptest.NewRequest(c.method, "/admin/thing", strings.NewReader("{}"))
			req.Host = "127.0.0.1:8002"
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != c.want {
				t.Errorf("token %q, %s: %d, want %d", token, c.name, w.Code, c.want)
			}
			if c.want == 403 && !strings.Contains(w.Body.String(), "another site") {
				t.Errorf("token %q, %s: refused with %q: want a JSON error in the caller's terms", token, c.name, w.Body.String())
			}
		}
	}
}
