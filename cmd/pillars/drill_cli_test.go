package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/drill"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// seedWhere returns the first seed whose episode satisfies ok.
func seedWhere(t *testing.T, ok func(drill.Episode) bool) int64 {
	t.Helper()
	for seed := int64(1); seed < 1000; seed++ {
		if ok(drill.Generate(seed)) {
			return seed
		}
	}
	t.Fatal("no seed below 1000 gives such an episode")
	return 0
}

// drillEnv is the environment of `pillars drill` against s, with a fast clock and no
// Prometheus (its address refuses).
func drillEnv(s *stack, dir string) map[string]string {
	return map[string]string{
		"PILLARS_STATE_DIR": dir, "PILLARS_ADMIN_TOKEN": "drill-token",
		"PILLARS_FRONTEND_URL": "http://" + s.frontend, "PILLARS_BACKEND_URL": "http://" + s.backend,
		"PILLARS_DATABASE_URL": "http://" + s.database, "PILLARS_PROMETHEUS_URL": "http://127.0.0.1:1",
		"PILLARS_TRACES_URL": "http://127.0.0.1:1", "PILLARS_LOGS_URL": "http://127.0.0.1:1",
		"PILLARS_DRILL_TIMESCALE": "1000", "PILLARS_POLL": "20ms",
	}
}

func drillCmd(env map[string]string, args ...string) (string, error) {
	var out strings.Builder
	err := run(context.Background(), append([]string{"drill"}, args...), func(k string) string { return env[k] }, &out, io.Discard)
	return out.String(), err
}

func labelsOf(t *testing.T, addr string) bool {
	t.Helper()
	var st faults.LabelsState
	if err := faults.NewAdminClient("http://"+addr, "drill-token", nil).Do(context.Background(), http.MethodGet, "/admin/labels", nil, &st); err != nil {
		t.Fatal(err)
	}
	return st.Labels
}

// A drill by hand on the command line: start (foreground), status without the key, labels
// off while it runs, no reveal before the answer, a graded answer with the reveal, labels
// back on, the score; the state files are the user's only.
func TestDrillByHand(t *testing.T) {
	s, _ := startAll(t, map[string]string{"PILLARS_ADMIN_TOKEN": "drill-token"})
	dir := filepath.Join(t.TempDir(), "drill")
	env := drillEnv(s, dir)
	seed := seedWhere(t, func(ep drill.Episode) bool { return !ep.Incident() })
	started := make(chan error, 1)
	go func() { _, err := drillCmd(env, "start", "--seed", strconv.FormatInt(seed, 10)); started <- err }()

	var st drill.Status
	telemetrytest.Eventually(t, 20*time.Second, "the episode ready", func() bool {
		out, err := drillCmd(env, "status")
		return err == nil && json.Unmarshal([]byte(out), &st) == nil && st.Ready
	})
	out, _ := drillCmd(env, "status")
	for _, secret := range []string{strconv.FormatInt(seed, 10), "none", "key", "family"} {
		if strings.Contains(out, `"`+secret+`"`) {
			t.Errorf("status shows %q: %s", secret, out)
		}
	}
	if labelsOf(t, s.backend) || labelsOf(t, s.database) || labelsOf(t, s.frontend) {
		t.Error("labels are on while the episode runs")
	}
	if _, err := drillCmd(env, "reveal"); err == nil {
		t.Error("reveal before the answer answered")
	}
	_, err := drillCmd(env, "answer", "--service", "cache", "--kind", "latency")
	if err == nil || !strings.Contains(err.Error(), "field service") || exitCode(err) != 2 {
		t.Errorf("a bad answer: %v (exit %d), want a usage error naming the field service", err, exitCode(err))
	}
	out, err = drillCmd(env, "answer", "--service", "none", "--kind", "none")
	if err != nil {
		t.Fatal(err)
	}
	var res drill.AnswerResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Grade.Points != 3 || res.Reveal.Family != "none" {
		t.Errorf("answer: %v %s", err, out)
	}
	select {
	case err := <-started:
		if err != nil {
			t.Errorf("drill start: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("drill start did not end after the answer")
	}
	if !labelsOf(t, s.backend) || !labelsOf(t, s.database) || !labelsOf(t, s.frontend) {
		t.Error("labels not back on after the answer")
	}
	if out, err := drillCmd(env, "reveal"); err != nil || !strings.Contains(out, `"family": "none"`) {
		t.Errorf("reveal after the answer: %v %s", err, out)
	}
	out, err = drillCmd(env, "score", "--json")
	var sb drill.Scoreboard
	if err != nil || json.Unmarshal([]byte(out), &sb) != nil || sb.Overall.Episodes != 1 || sb.Overall.Points != 3 {
		t.Errorf("score: %v %s", err, out)
	}
	for _, f := range []string{"episode.json", "results.jsonl"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", f, err, fi.Mode().Perm())
		}
	}
}

// An episode whose symptoms never show is void, with the reason, and never scored.
func TestDrillVoidWhenSymptomsNeverShow(t *testing.T) {
	s, _ := startAll(t, map[string]string{"PILLARS_ADMIN_TOKEN": "drill-token"})
	env := drillEnv(s, filepath.Join(t.TempDir(), "drill"))
	env["PILLARS_MANIFEST_WITHIN"] = "200ms"
	seed := seedWhere(t, func(ep drill.Episode) bool { return ep.Family == "cache-stampede" && len(ep.Distractors) == 0 })
	out, err := drillCmd(env, "start", "--seed", strconv.FormatInt(seed, 10))
	if err != nil || !strings.Contains(out, "void") {
		t.Fatalf("start: %v %s", err, out)
	}
	var st drill.Status
	out, _ = drillCmd(env, "status")
	if json.Unmarshal([]byte(out), &st) != nil || st.State != drill.StateVoid || !strings.Contains(st.VoidReason, "hit ratio") {
		t.Errorf("status of a void episode: %s", out)
	}
	if _, err := drillCmd(env, "answer", "--service", "backend", "--kind", "cache-off"); err == nil || !strings.Contains(err.Error(), "void") {
		t.Errorf("answering a void episode: %v", err)
	}
	out, _ = drillCmd(env, "score", "--json")
	var sb drill.Scoreboard
	if json.Unmarshal([]byte(out), &sb) != nil || sb.Overall.Episodes != 0 || len(sb.Void) != 1 {
		t.Errorf("score after a void episode: %s", out)
	}
	// The faults were cleared and the labels put back: the void episode left nothing behind.
	var doc map[string]any
	if err := faults.NewAdminClient("http://"+s.backend, "drill-token", nil).Do(context.Background(), http.MethodGet, "/admin/faults", nil, &doc); err != nil || doc["cache_off"] != false {
		t.Errorf("backend faults after a void episode: %v %v", err, doc)
	}
	if !labelsOf(t, s.backend) {
		t.Error("labels not back on after a void episode")
	}
}
