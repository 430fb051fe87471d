package frontend

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/scenarios"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
	library "github.com/pillars-o11y/pillars/scenarios"
)

// adminCall sends an admin request with the token (none when empty) and returns the status and
// body.
func adminCall(t *testing.T, method, url, token, contentType string, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func consoleState(t *testing.T, feURL, token string) ConsoleState {
	t.Helper()
	status, body := adminCall(t, http.MethodGet, feURL+"/admin/console/state", token, "", "")
	var st ConsoleState
	if status != http.StatusOK || json.Unmarshal(body, &st) != nil {
		t.Fatalf("GET /admin/console/state: %d %s", status, body)
	}
	return st
}

// The console's state is what runs, read from the real services: the traffic, the scenario,
// the knobs that are on in each service, and the traffic's last requests, each linked to its
// trace through the template.
func TestConsoleStateReadsEveryService(t *testing.T) {
	rs := startRealServices(t, "")
	lib, err := scenarios.Load(library.Files())
	if err != nil {
		t.Fatal(err)
	}
	fe := newTestFrontend(t, rs.backendURL, Config{DatabaseURL: rs.databaseURL, Scenarios: lib, TraceURLTemplate: exploreTemplate})
	for _, set := range []struct{ url, doc string }{
		{fe.URL, `{"retries":2}`},
		{rs.backendURL, `{"cache_off":true}`},
		{rs.databaseURL, `{"latency":"40ms","error_rate":0.1}`},
	} {
		if status, body := adminCall(t, http.MethodPut, set.url+"/admin/faults", "", "application/json", set.doc); status != http.StatusOK {
			t.Fatalf("PUT faults %s: %d %s", set.doc, status, body)
		}
	}
	if status, body := adminCall(t, http.MethodPut, fe.URL+"/admin/traffic", "", "application/json", `{"rate":20,"mix":{"home":0,"user":1,"product":0,"bad":0}}`); status != http.StatusOK {
		t.Fatalf("PUT traffic: %d %s", status, body)
	}
	fe.svc.StartTraffic()
	var st ConsoleState
	telemetrytest.Eventually(t, 10*time.Second, "five requests of the traffic", func() bool {
		st = consoleState(t, fe.URL, "")
		return len(st.Recent) >= 5
	})

	want := map[string][]faults.Setting{
		"frontend": {{Knob: "retries", Value: "2"}},
		"backend":  {{Knob: "cache_off", Value: "true"}},
		"database": {{Knob: "latency", Value: "40ms"}, {Knob: "error_rate", Value: "0.1"}},
	}
	if len(st.Faults) != 3 {
		t.Fatalf("faults of %d services: %+v", len(st.Faults), st.Faults)
	}
	for _, f := range st.Faults {
		if f.Error != "" || !slices.Equal(f.Active, want[f.Service]) {
			t.Errorf("%s: %+v, want %v", f.Service, f, want[f.Service])
		}
	}
	if st.Traffic.Rate != 20 || !st.Traffic.Running || st.Scenario == nil || st.Scenario.Active || !st.TraceLinks {
		t.Errorf("traffic %+v, scenario %+v, trace links %v: want 20 req/s running, no scenario, links", st.Traffic, st.Scenario, st.TraceLinks)
	}
	for _, r := range st.Recent {
		if !strings.HasPrefix(r.Path, "/user/") || r.TraceID == "" ||
			r.TraceURL != strings.ReplaceAll(exploreTemplate, TraceIDPlaceholder, r.TraceID) || r.TraceCommand != "pillars trace "+r.TraceID {
			t.Errorf("recent request %+v: want a user page with its trace linked", r)
		}
	}
	if got := len(st.Figures); got != 3 {
		t.Errorf("figures of %d services, want 3", got)
	}
}

// An open console reads the other services' faults through their admin APIs only when their
// metrics say a knob is on, and then once while the same knobs stay on: its polling must not
// fill their traces and request metrics.
func TestConsoleReadsOtherServicesFaultsOnlyWhenOn(t *testing.T) {
	rs := startRealServices(t, "")
	fe := newTestFrontend(t, rs.backendURL, Config{DatabaseURL: rs.databaseURL})
	reads := func() (int64, int64) { return rs.faultReads["backend"].Load(), rs.faultReads["database"].Load() }
	for range 3 {
		consoleState(t, fe.URL, "")
	}
	if b, d := reads(); b != 0 || d != 0 {
		t.Errorf("with no fault on, the console read the faults of the backend %d times, of the database %d times", b, d)
	}
	if status, body := adminCall(t, http.MethodPut, rs.databaseURL+"/admin/faults", "", "application/json", `{"latency":"40ms"}`); status != http.StatusOK {
		t.Fatalf("PUT faults: %d %s", status, body)
	}
	telemetrytest.Eventually(t, 10*time.Second, "the database's latency in the console", func() bool {
		for _, f := range consoleState(t, fe.URL, "").Faults {
			if f.Service == "database" && len(f.Active) == 1 && f.Active[0] == (faults.Setting{Knob: "latency", Value: "40ms"}) {
				return true
			}
		}
		return false
	})
	for range 3 {
		consoleState(t, fe.URL, "")
	}
	if b, d := reads(); b != 0 || d != 1 {
		t.Errorf("with the database's latency on, the console read the faults of the backend %d times, of the database %d times; want 0 and 1", b, d)
	}
}

// Clearing the faults turns off every service's, through the same admin APIs; a request that
// is not JSON (what a cross-site form sends) changes nothing.
func TestConsoleClearsEveryServicesFaults(t *testing.T) {
	rs := startRealServices(t, "")
	fe := newTestFrontend(t, rs.backendURL, Config{DatabaseURL: rs.databaseURL})
	urls := []string{fe.URL, rs.backendURL, rs.databaseURL}
	for i, doc := range []string{`{"retries":1}`, `{"pricing_error_rate":0.5}`, `{"missing_index":true}`} {
		if status, body := adminCall(t, http.MethodPut, urls[i]+"/admin/faults", "", "application/json", doc); status != http.StatusOK {
			t.Fatalf("PUT faults %s: %d %s", doc, status, body)
		}
	}
	status, body := adminCall(t, http.MethodPost, fe.URL+"/admin/console/clear-faults", "", "application/x-www-form-urlencoded", "")
	if status != http.StatusUnsupportedMediaType || !strings.Contains(string(body), "Content-Type: application/json") {
		t.Errorf("a form post: %d %s, want 415", status, body)
	}
	for _, f := range consoleState(t, fe.URL, "").Faults {
		if len(f.Active) != 1 {
			t.Errorf("%s after a refused clear: %+v, want its fault still on", f.Service, f.Active)
		}
	}

	status, body = adminCall(t, http.MethodPost, fe.URL+"/admin/console/clear-faults", "", "application/json", "{}")
	var done ClearedFaults
	if status != http.StatusOK || json.Unmarshal(body, &done) != nil || !slices.Equal(done.Cleared, []string{"frontend", "backend", "database"}) {
		t.Fatalf("clear: %d %s", status, body)
	}
	for _, u := range urls {
		_, body := adminCall(t, http.MethodGet, u+"/admin/faults", "", "", "")
		var knobs map[string]any
		if err := json.Unmarshal(body, &knobs); err != nil {
			t.Fatal(err)
		}
		for k, v := range knobs {
			if v != false && v != float64(0) && v != "" && v != "0s" && v != "0B" {
				t.Errorf("%s: knob %s still %v after clearing", u, k, v)
			}
		}
	}
	if line := fe.tel.LogWithMsg(t, "Faults cleared from the console"); line["cleared"] != "frontend,backend,database" {
		t.Errorf("log line %v", line)
	}
}

// A service that cannot be reached shows as such in the state, and clearing says which
// service kept its faults; the others are served and cleared all the same.
func TestConsoleWithTheDatabaseDown(t *testing.T) {
	rs := startRealServices(t, "")
	fe := newTestFrontend(t, rs.backendURL, Config{DatabaseURL: "http://127.0.0.1:1"})
	st := consoleState(t, fe.URL, "")
	for _, f := range st.Faults {
		if (f.Service == "database") != (f.Error != "") {
			t.Errorf("%s: %+v, want an error for the database only", f.Service, f)
		}
	}
	status, body := adminCall(t, http.MethodPost, fe.URL+"/admin/console/clear-faults", "", "application/json", "{}")
	if status != http.StatusBadGateway || !bytes.Contains(body, []byte("faults cleared on frontend, backend; not on database: ")) {
		t.Errorf("clear with the database down: %d %s", status, body)
	}
}

// The console page is open to anyone who reaches it and holds no admin data; its endpoints
// want the admin token, as every admin endpoint does, and pass it on to the other services.
func TestConsoleBehindTheAdminToken(t *testing.T) {
	const token = "s3cret-token"
	rs := startRealServices(t, token)
	lib, err := scenarios.Load(library.Files())
	if err != nil {
		t.Fatal(err)
	}
	fe := newTestFrontend(t, rs.backendURL, Config{DatabaseURL: rs.databaseURL, Scenarios: lib, Admin: telemetry.AdminConfig{Token: token}})
	if status, body := adminCall(t, http.MethodPut, rs.databaseURL+"/admin/faults", token, "application/json", `{"latency":"40ms"}`); status != http.StatusOK {
		t.Fatalf("PUT faults: %d %s", status, body)
	}

	resp, page := get(t, http.DefaultClient, fe.URL+"/console", browserAccept)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /console without the token: %d", resp.StatusCode)
	}
	for _, secret := range []string{"40ms", "slow-database", token} {
		if bytes.Contains(page, []byte(secret)) {
			t.Errorf("the console page holds admin data (%q):\n%s", secret, page)
		}
	}
	for _, call := range []struct{ method, path, contentType string }{
		{http.MethodGet, "/admin/console/state", ""},
		{http.MethodPost, "/admin/console/clear-faults", "application/json"},
	} {
		if status, body := adminCall(t, call.method, fe.URL+call.path, "", call.contentType, "{}"); status != http.StatusUnauthorized {
			t.Errorf("%s %s without the token: %d %s, want 401", call.method, call.path, status, body)
		}
		if status, body := adminCall(t, call.method, fe.URL+call.path, "wrong", call.contentType, "{}"); status != http.StatusUnauthorized {
			t.Errorf("%s %s with a wrong token: %d %s, want 401", call.method, call.path, status, body)
		}
	}
	st := consoleState(t, fe.URL, token)
	for _, f := range st.Faults {
		if f.Error != "" {
			t.Errorf("%s: %s (the token was not passed on?)", f.Service, f.Error)
		}
		if f.Service == "database" && (len(f.Active) != 1 || f.Active[0].Knob != "latency") {
			t.Errorf("database faults %+v, want latency", f.Active)
		}
	}
}
