package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The faults of the drill-mode test: one of each kind of labelling place (span attributes of
// the database, the backend's pricing, cache and leak, the route faults, the call faults; the
// index and cache log lines; the on-purpose error texts; pillars_faults_active).
var drillFaults = map[string]map[string]any{
	"database": {"error_rate": 0.3, "missing_index": true, "jitter": "2ms"},
	"backend": {"cpu_burn": "2ms", "cache_off": true, "memory_leak": "16KiB", "call_latency": "1ms",
		"route": "/api/product/{id}", "route_error_rate": 0.3},
}

// The key's words: the knobs, the label prefix, the on-purpose texts, the scenario names.
var drillKeyWords = []string{"error_rate", "missing_index", "cpu_burn", "cache_off", "memory_leak",
	"call_latency", "route_error_rate", "pillars.fault", "fault injection", "on purpose",
	"missing-index", "failing-database", "cache-stampede", "memory-leak"}

// In drill mode nothing the services export or answer without the token names the faults:
// spans, log lines (Loki and stdout), metrics, admin answers without the token, the console
// page and the error answers. In labelled mode the same search finds them, so the search
// itself works.
func TestDrillModeNamesNoFault(t *testing.T) {
	for _, mode := range []struct {
		name  string
		drill bool
	}{{"labelled", false}, {"drill", true}} {
		t.Run(mode.name, func(t *testing.T) {
			s, _ := startAll(t, map[string]string{"PILLARS_ADMIN_TOKEN": "drill-token"})
			ctx := context.Background()
			admins := map[string]*faults.AdminClient{}
			for svc, addr := range map[string]string{"frontend": s.frontend, "backend": s.backend, "database": s.database} {
				admins[svc] = faults.NewAdminClient("http://"+addr, "drill-token", nil)
			}
			if mode.drill {
				for svc, c := range admins {
					if err := c.Do(ctx, http.MethodPut, "/admin/labels", faults.LabelsState{Labels: false}, nil); err != nil {
						t.Fatalf("%s: labels off: %v", svc, err)
					}
				}
			}
			for svc, knobs := range drillFaults {
				if err := admins[svc].Patch(ctx, knobs); err != nil {
					t.Fatalf("%s: %v", svc, err)
				}
			}
			var answers strings.Builder
			var failed int
			for i := 1; i <= 30; i++ {
				for _, path := range []string{fmt.Sprintf("/user/%d", i), fmt.Sprintf("/product/%d", i)} {
					status, body := rawGet(t, "http://"+s.frontend+path, "")
					answers.WriteString(body)
					if status >= 500 {
						failed++
					}
				}
			}
			if failed == 0 {
				t.Fatal("no request failed: the faults did not take effect, so the search proves nothing")
			}
			// Everything exported, once the last request's spans and lines are in.
			telemetrytest.Eventually(t, 15*time.Second, "spans of the database", func() bool {
				for _, sp := range s.otlp.Spans() {
					if sp.Service == "database" && sp.Name == "query_execution" {
						return true
					}
				}
				return false
			})
			found := map[string][]string{}
			search := func(where, text string) {
				for _, w := range drillKeyWords {
					if strings.Contains(text, w) {
						found[w] = append(found[w], where)
					}
				}
			}
			for _, sp := range s.otlp.Spans() {
				b, _ := protojson.Marshal(sp.Span)
				search("span "+sp.Service+"/"+sp.Name, string(b))
			}
			for _, e := range s.loki.Entries() {
				search("loki line", e.Labels+" "+e.Line)
			}
			search("stdout", s.stdout.String())
			search("answers", answers.String())
			for svc, addr := range map[string]string{"frontend": s.frontend, "backend": s.backend, "database": s.database} {
				search(svc+" /metrics", metrics(t, addr))
				for _, p := range []string{"/admin/faults", "/admin/faults/knobs", "/admin/labels", "/admin/console/state", "/admin/scenario"} {
					_, body := rawGet(t, "http://"+addr+p, "")
					search(svc+" "+p+" without token", body)
				}
			}
			_, page := rawGet(t, "http://"+s.frontend+"/console", "")
			search("console page", page)
			if mode.drill {
				for w, where := range found {
					t.Errorf("drill mode: %q found in %s", w, strings.Join(dedupe(where), ", "))
				}
				// The console, even with the token, hides the fault list during a drill.
				_, state := rawGet(t, "http://"+s.frontend+"/admin/console/state", "drill-token")
				if !strings.Contains(state, `"drill":true`) || strings.Contains(state, "missing_index") || strings.Contains(state, "cpu_burn") {
					t.Errorf("console state during a drill: %.300s", state)
				}
				// The token still reads them: the drill itself must be able to clean up.
				if _, body := rawGet(t, "http://"+s.database+"/admin/faults", "drill-token"); !strings.Contains(body, `"missing_index":true`) {
					t.Errorf("with the token, the faults are not read: %s", body)
				}
				return
			}
			for _, w := range []string{"pillars.fault", "cpu_burn", "missing_index", "cache_off", "fault injection", "missing-index"} {
				if len(found[w]) == 0 {
					t.Errorf("labelled mode: %q not found anywhere: the search cannot fail", w)
				}
			}
		})
	}
}

// Drill mode needs a token: without one, anyone on the machine could read the faults.
func TestDrillModeNeedsAdminToken(t *testing.T) {
	s, _ := startAll(t, nil)
	req, _ := http.NewRequest(http.MethodPut, "http://"+s.backend+"/admin/labels", strings.NewReader(`{"labels": false}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "token") {
		t.Errorf("labels off without a token: %s %s, want 409 naming the token", resp.Status, body)
	}
}

func rawGet(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String()
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
