package scenarios

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The admin API answers each request in the caller's terms, behind the admin token.
func TestAdminAPI(t *testing.T) {
	f := newRunnerFixture(t)
	tel := telemetrytest.New(t, "frontend")
	mux := http.NewServeMux()
	f.runner.Routes(mux, tel.Telemetry, tel.Guard(telemetry.AdminConfig{Token: "tok"}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer f.runner.Close()
	call := func(method, path, body, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		method, path, body, token string
		status                    int
		want                      string
	}{
		{"PUT", "/admin/scenario", `{"name":"slow"}`, "", 401, "admin token"},
		{"GET", "/admin/scenarios", "", "tok", 200, `"name":"slow"`},
		{"GET", "/admin/scenario", "", "tok", 200, `"active":false`},
		{"GET", "/admin/scenario/reveal", "", "tok", 404, "no blind scenario has run yet"},
		{"PUT", "/admin/scenario", `{"name":"nope"}`, "tok", 404, `unknown scenario \"nope\": the scenarios are slow, spike`},
		{"PUT", "/admin/scenario", `{"scenario":"slow"}`, "tok", 400, `want {\"name\"`},
		{"PUT", "/admin/scenario", `{"name":"slow","timescale":1000}`, "tok", 400, "timescale 1000"},
		{"PUT", "/admin/scenario", `{"name":"slow"}`, "tok", 200, `"scenario":"slow"`},
		{"PUT", "/admin/scenario", `{"name":"spike"}`, "tok", 409, "a scenario is running (slow): stop it first"},
		{"DELETE", "/admin/scenario", "", "tok", 200, `"outcome":"stopped"`},
		{"PUT", "/admin/scenario", `{"blind":true}`, "tok", 200, `"scenario":"hidden"`},
		{"GET", "/admin/scenario/reveal", "", "tok", 200, `"active":true`},
	} {
		status, body := call(c.method, c.path, c.body, c.token)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %s\nwant %d with %s", c.method, c.path, c.body, status, body, c.status, c.want)
		}
	}
	_, body := call("GET", "/admin/scenarios", "", "tok")
	var list []Scenario
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 2 || list[0].Signature.Items() != 4 {
		t.Errorf("library: %v, %s", err, body)
	}
}
