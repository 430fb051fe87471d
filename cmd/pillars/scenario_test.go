package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

const testToken = "test-admin-token"

// adminCall calls an admin endpoint with the token and returns the status and body.
func adminCall(t *testing.T, method, url, body, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
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

// Every step of every scenario of the library is accepted by the real service it names: the
// route knob's values included, which only the services know.
func TestEveryScenarioStepAppliesToTheRealServices(t *testing.T) {
	s, _ := startAll(t, nil)
	lib, err := loadScenarios("")
	if err != nil {
		t.Fatal(err)
	}
	addr := map[string]string{"frontend": s.frontend, "backend": s.backend, "database": s.database}
	for _, sc := range lib.List() {
		for i, st := range sc.Steps {
			var method string
			var doc map[string]any
			switch {
			case st.Patch != nil:
				method, doc = http.MethodPatch, st.Patch
			case st.Put != nil:
				method, doc = http.MethodPut, st.Put
			case st.Traffic != nil:
				b, _ := json.Marshal(st.Traffic)
				if code, body := adminCall(t, http.MethodPatch, "http://"+s.frontend+"/admin/traffic", string(b), ""); code != http.StatusOK {
					t.Errorf("%s step %d: PATCH /admin/traffic %s: %d %s", sc.Name, i+1, b, code, body)
				}
				continue
			default:
				continue
			}
			b, _ := json.Marshal(doc)
			if code, body := adminCall(t, method, "http://"+addr[st.Service]+"/admin/faults", string(b), ""); code != http.StatusOK {
				t.Errorf("%s step %d: %s %s /admin/faults %s: %d %s", sc.Name, i+1, method, st.Service, b, code, body)
			}
			adminCall(t, http.MethodPut, "http://"+addr[st.Service]+"/admin/faults", "{}", "")
		}
	}
	adminCall(t, http.MethodPut, "http://"+s.frontend+"/admin/traffic", `{"rate": 0}`, "")
}

// A scenario started through the frontend changes the faults of the service it names, with
// the deployment's admin token; pillars_scenario_active shows it; a stop clears everything.
// The command line drives the same API.
func TestScenarioThroughTheFrontend(t *testing.T) {
	s, _ := startAll(t, map[string]string{"PILLARS_ADMIN_TOKEN": testToken})
	fe := "http://" + s.frontend
	if code, body := adminCall(t, http.MethodPut, fe+"/admin/scenario", `{"name":"slow-database"}`, ""); code != http.StatusUnauthorized {
		t.Fatalf("start without the token: %d %s", code, body)
	}
	env := map[string]string{"PILLARS_FRONTEND_URL": fe, "PILLARS_ADMIN_TOKEN": testToken}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer

	// A frontend that was killed during a scenario left its faults on the database, leased;
	// this one has no record of it, and a stop still ends them.
	left, _ := http.NewRequest(http.MethodPatch, "http://"+s.database+"/admin/faults", strings.NewReader(`{"latency": "500ms"}`))
	left.Header.Set("Authorization", "Bearer "+testToken)
	left.Header.Set(faults.LeaseHeader, "10m")
	if resp, err := http.DefaultClient.Do(left); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("leased PATCH of the database: %v %v", resp, err)
	}
	if err := run(t.Context(), []string{"scenario", "stop"}, getenv, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "No scenario has run since the frontend started.") ||
		!strings.Contains(out.String(), "Scenario faults ended on database") {
		t.Errorf("stop with scenario faults left behind: %v\n%s", err, out.String())
	}
	if _, body := adminCall(t, http.MethodGet, "http://"+s.database+"/admin/faults", "", testToken); !strings.Contains(body, `"latency":"0s"`) {
		t.Errorf("database faults after the stop: %s", body)
	}
	out.Reset()

	if err := run(t.Context(), []string{"scenario", "run", "slow-database", "--detach"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("scenario run: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "slow-database (Slow database) started: 30m0s") {
		t.Errorf("run said %q", out.String())
	}
	telemetrytest.Eventually(t, 10*time.Second, "the database's latency set by the scenario", func() bool {
		_, body := adminCall(t, http.MethodGet, "http://"+s.database+"/admin/faults", "", testToken)
		return strings.Contains(body, `"latency":"500ms"`) && strings.Contains(body, `"jitter":"300ms"`)
	})
	if v := sample(metrics(t, s.frontend), `pillars_scenario_active{scenario="slow-database"}`); v != 1 {
		t.Errorf("pillars_scenario_active{scenario=slow-database} = %v while it runs", v)
	}
	if code, body := adminCall(t, http.MethodPut, fe+"/admin/scenario", `{"name":"missing-index"}`, testToken); code != http.StatusConflict {
		t.Errorf("a second scenario: %d %s, want 409", code, body)
	}

	out.Reset()
	if err := run(t.Context(), []string{"scenario", "status"}, getenv, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "slow-database (Slow database) is running") || !strings.Contains(out.String(), "step 1/1: The database's disk slows down") {
		t.Errorf("status: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"scenario", "stop"}, getenv, &out, &errOut); err != nil || !strings.Contains(out.String(), "stopped after") ||
		!strings.Contains(out.String(), "Scenario faults ended on frontend, backend, database") {
		t.Errorf("stop: %v\n%s", err, out.String())
	}
	if _, body := adminCall(t, http.MethodGet, "http://"+s.database+"/admin/faults", "", testToken); !strings.Contains(body, `"latency":"0s"`) {
		t.Errorf("database faults after the stop: %s", body)
	}
	if v := sample(metrics(t, s.frontend), `pillars_scenario_active{scenario="slow-database"}`); v != 0 {
		t.Errorf("pillars_scenario_active{scenario=slow-database} = %v after the stop", v)
	}
	line := s.stdout.String()
	for _, msg := range []string{`"msg":"Scenario started","service":"frontend","scenario":"slow-database"`, `"msg":"Scenario ended","service":"frontend","scenario":"slow-database","outcome":"stopped"`} {
		if !strings.Contains(line, msg) {
			t.Errorf("no log line %s", msg)
		}
	}

	// Ctrl-C during `run` stops the scenario.
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	out.Reset()
	go func() { done <- run(ctx, []string{"scenario", "run", "failing-database"}, getenv, &out, io.Discard) }()
	telemetrytest.Eventually(t, 10*time.Second, "failing-database running", func() bool {
		_, body := adminCall(t, http.MethodGet, "http://"+s.database+"/admin/faults", "", testToken)
		return strings.Contains(body, `"error_rate":0.3`)
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after Ctrl-C: %v", err)
	}
	if _, body := adminCall(t, http.MethodGet, "http://"+s.database+"/admin/faults", "", testToken); !strings.Contains(body, `"error_rate":0,`) {
		t.Errorf("database faults after Ctrl-C: %s", body)
	}
	if !strings.Contains(out.String(), "failing-database (Failing database) stopped after") {
		t.Errorf("run's output after Ctrl-C: %s", out.String())
	}

	err := run(t.Context(), []string{"scenario", "run", "no-such"}, getenv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `unknown scenario "no-such": the scenarios are bad-deploy, cache-stampede`) {
		t.Errorf("an unknown scenario: %v", err)
	}
}

// A scenario that does not exist, or a folder with a malformed file, stops the frontend at
// start with the name or the file and line.
func TestScenarioFlagsAreChecked(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"frontend", "--frontend-addr", "127.0.0.1:0", "--scenario", "slow-db"},
		func(string) string { return "" }, &out, &out)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), `--scenario: unknown scenario "slow-db": the scenarios are bad-deploy`) {
		t.Errorf("--scenario slow-db: %v (exit %d)", err, exitCode(err))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte("name: mine\ntitle: Mine\nstory: x\nduration: 1m\nsteps:\n  - at: 0s\n    service: databse\n    patch: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(t.Context(), []string{"frontend", "--frontend-addr", "127.0.0.1:0", "--scenarios", dir},
		func(string) string { return "" }, &out, &out)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), `mine.yaml:7: step 1: unknown service "databse"`) {
		t.Errorf("--scenarios with a bad file: %v (exit %d)", err, exitCode(err))
	}
}

// A frontend that stops while a scenario runs clears the faults it set on the services
// behind it, which are still up: a scenario never outlives the runner that started it. The
// services run as separate commands here, as in a deployment; --scenario starts one with the
// frontend.
func TestFrontendStopClearsTheScenario(t *testing.T) {
	database, backend, frontend := freeAddr(t), freeAddr(t), freeAddr(t)
	common := map[string]string{
		"PILLARS_DATABASE_ADDR": database, "PILLARS_BACKEND_ADDR": backend, "PILLARS_FRONTEND_ADDR": frontend,
		"PILLARS_DB_PATH": seededCopy(t), "PILLARS_DATABASE_URL": "http://" + database, "PILLARS_BACKEND_URL": "http://" + backend,
		"PILLARS_ADMIN_TOKEN": testToken, "OTEL_SDK_DISABLED": "true", "PILLARS_DRAIN_DELAY": "0s",
	}
	startRun(t, []string{"database"}, common, io.Discard)
	waitReady(t, "http://"+database)
	startRun(t, []string{"backend"}, common, io.Discard)
	waitReady(t, "http://"+backend)
	feEnv := map[string]string{"PILLARS_SCENARIO": "lock-contention"}
	for k, v := range common {
		feEnv[k] = v
	}
	stopFrontend := startRun(t, []string{"frontend"}, feEnv, io.Discard)
	waitReady(t, "http://"+frontend)
	telemetrytest.Eventually(t, 10*time.Second, "the lock held by the scenario started with the frontend", func() bool {
		_, body := adminCall(t, http.MethodGet, "http://"+database+"/admin/faults", "", testToken)
		return strings.Contains(body, `"lock_hold":"1.5s"`)
	})
	if err := stopFrontend(); err != nil {
		t.Fatalf("frontend stop: %v", err)
	}
	if _, body := adminCall(t, http.MethodGet, "http://"+database+"/admin/faults", "", testToken); !strings.Contains(body, `"lock_hold":"0s"`) {
		t.Errorf("database faults after the frontend stopped: %s", body)
	}
}
