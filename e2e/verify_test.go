//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/verify"
)

// verifyRun is one run of the built `pillars verify`.
type verifyRun struct {
	exit           int
	stdout, stderr string
	report         verify.Report // with --json
}

// runVerify runs `pillars verify` against the stack with these flags replacing the defaults,
// and fails the test if it does not end by itself: a stopped or wrong backend must never make
// it hang.
func runVerify(t *testing.T, jsonReport bool, flags ...string) verifyRun {
	t.Helper()
	args := []string{"verify",
		"--frontend-url=http://" + stk.frontend,
		"--prometheus-url=http://" + stk.prometheus,
		"--traces-url=http://" + stk.jaegerQuery,
		"--logs-url=http://" + stk.victoriaLogs,
		"--datasources=" + filepath.Join(stk.repo, "deploy", "grafana", "provisioning", "datasources", "datasources.yaml"),
		"--timeout=30s",
	}
	if jsonReport {
		args = append(args, "--json")
	}
	args = append(args, flags...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, stk.pillars, args...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pillars verify did not end within 3 minutes; stderr:\n%s", stderr.String())
	}
	r := verifyRun{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if jsonReport {
		if err := json.Unmarshal(stdout.Bytes(), &r.report); err != nil {
			t.Fatalf("pillars verify --json: %v\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	}
	return r
}

func (r verifyRun) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.exit, r.stdout, r.stderr)
}

// check returns the check of that name.
func (r verifyRun) check(t *testing.T, name string) verify.Check {
	t.Helper()
	for _, c := range r.report.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in the report:\n%s", name, r)
	return verify.Check{}
}

// `pillars verify` against the stack passes every check, prints a checklist with each one, and
// exits 0. The cache miss is sent with a trace id that starts with zeros, which Jaeger prints
// without them: its trace, logs and links must pass all the same.
func TestVerifyPassesOnTheStack(t *testing.T) {
	t.Run("checklist", func(t *testing.T) {
		r := runVerify(t, false)
		if r.exit != 0 {
			t.Fatalf("pillars verify failed on a healthy stack:\n%s", r)
		}
		for _, want := range []string{"PASS  requests", "PASS  traces", "PASS  logs", "PASS  metrics", "PASS  links", "all checks passed"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("checklist has no %q:\n%s", want, r)
			}
		}
		if strings.Contains(r.stdout, "FAIL") {
			t.Errorf("checklist has a failed check:\n%s", r)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := runVerify(t, true)
		if r.exit != 0 || !r.report.Passed {
			t.Fatalf("pillars verify --json failed on a healthy stack:\n%s", r)
		}
		for _, name := range []string{
			"cache miss", "cache hit", "product", "failing request",
			"trace of cache miss", "trace of cache hit", "trace of product", "trace of failing request",
			"logs of cache miss", "logs of cache hit", "logs of product", "logs of failing request",
			"frontend requests counted", "backend cache counted", "database queries counted",
			"exemplar names a stored trace",
			"exemplar → trace (Prometheus: trace_id)",
			"log → trace (Loki: trace_id) of cache miss",
			"trace → logs (Tempo) of cache miss",
		} {
			if c := r.check(t, name); c.Status != verify.Pass {
				t.Errorf("%s: %s: %s", name, c.Status, c.Detail)
			}
		}
		// Jaeger has no metrics generator: the service graph is not checked, and says why.
		if c := r.check(t, "service graph edges"); c.Status != verify.Skip || !strings.Contains(c.Detail, "Tempo") {
			t.Errorf("service graph with Jaeger: %s %q, want skipped because only Tempo makes one", c.Status, c.Detail)
		}
		miss := r.check(t, "trace of cache miss")
		if !strings.HasPrefix(miss.TraceID, "0000") || len(miss.TraceID) != 32 {
			t.Errorf("the cache miss's trace id %q should be 32 hex digits starting with zeros", miss.TraceID)
		}
		if c := r.check(t, "trace → logs (Tempo) of cache miss"); c.TraceID != miss.TraceID {
			t.Errorf("trace → logs followed trace %s, want the cache miss's %s", c.TraceID, miss.TraceID)
		}
	})
}

// With the log store stopped, verify fails on the log checks alone, says the log store does
// not answer, and skips what needs the log lines; everything else still passes.
func TestVerifyLogStoreStopped(t *testing.T) {
	logs := stk.proc("victoria-logs")
	t.Cleanup(func() { restart(t, logs) })
	if err := logs.stop(); err != nil {
		t.Fatal(err)
	}
	r := runVerify(t, true, "--timeout=20s")
	if r.exit != 1 || r.report.Passed {
		t.Fatalf("verify with the log store stopped: want exit 1 and a failed report:\n%s", r)
	}
	store := r.check(t, "log store answers")
	if store.Status != verify.Fail || !strings.Contains(store.Detail, stk.victoriaLogs) || !strings.Contains(store.Detail, "connection refused") {
		t.Errorf("log store check: %s %q, want a failure naming %s and what happened", store.Status, store.Detail, stk.victoriaLogs)
	}
	for _, c := range r.report.Checks {
		needsLogs := c.Signal == verify.SignalLogs || strings.HasPrefix(c.Name, "log → trace") || strings.HasPrefix(c.Name, "trace → logs")
		switch {
		case c.Status == verify.Fail && c.Signal != verify.SignalLogs:
			t.Errorf("%s (%s) failed with only the log store stopped: %s", c.Name, c.Signal, c.Detail)
		case needsLogs && c.Name != store.Name && (c.Status != verify.Skip || !strings.Contains(c.Detail, "log store")):
			t.Errorf("%s: %s %q, want skipped because of the log store", c.Name, c.Status, c.Detail)
		case !needsLogs && c.Name != "service graph edges" && c.Status != verify.Pass:
			t.Errorf("%s: %s %q, want it to pass without the log store", c.Name, c.Status, c.Detail)
		}
	}
}

// A provisioning file whose exemplar link names a label the exemplars do not have fails that
// link, and only that one, naming the label it looked for and the ones that exist.
func TestVerifyWrongExemplarLabel(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(stk.repo, "deploy", "grafana", "provisioning", "datasources", "datasources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const right = "exemplarTraceIdDestinations:\n        - name: trace_id\n"
	if !bytes.Contains(src, []byte(right)) {
		t.Fatalf("datasources.yaml no longer has %q; update this test", right)
	}
	wrong := filepath.Join(t.TempDir(), "datasources.yaml")
	if err := os.WriteFile(wrong, bytes.Replace(src, []byte(right), []byte("exemplarTraceIdDestinations:\n        - name: traceID\n"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runVerify(t, true, "--datasources="+wrong, "--timeout=20s")
	if r.exit != 1 {
		t.Fatalf("verify with a wrong exemplar label: want exit 1:\n%s", r)
	}
	var failed []string
	for _, c := range r.report.Failed() {
		failed = append(failed, c.Name)
	}
	if !slices.Equal(failed, []string{"exemplar → trace (Prometheus: traceID)"}) {
		t.Fatalf("failed checks %q, want only the exemplar link:\n%s", failed, r)
	}
	c := r.check(t, "exemplar → trace (Prometheus: traceID)")
	if !strings.Contains(c.Detail, `"traceID"`) || !strings.Contains(c.Detail, "trace_id") || c.Query == "" {
		t.Errorf("exemplar link failure %q (query %q): want the label looked for, the labels found and the query", c.Detail, c.Query)
	}
}

// Unreachable URLs, wrong ports and backends of the wrong kind each fail their own check fast
// with a message that names the URL and what it answered.
func TestVerifyBadBackends(t *testing.T) {
	closed, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	nothing := fmt.Sprintf("127.0.0.1:%d", closed[0])
	for _, tc := range []struct {
		name  string
		flags []string
		check string
		want  []string // in the failed check's detail
	}{
		{"unreachable Prometheus", []string{"--prometheus-url=http://" + nothing},
			"Prometheus answers", []string{nothing, "connection refused"}},
		{"the frontend's port as Prometheus", []string{"--prometheus-url=http://" + stk.frontend},
			"Prometheus answers", []string{stk.frontend, "does not answer like Prometheus", "404"}},
		{"Prometheus as the trace store", []string{"--traces-url=http://" + stk.prometheus},
			"trace store answers", []string{stk.prometheus, "is not a trace store (Jaeger or Tempo)", "/api/echo", "/api/services"}},
		{"Jaeger told to be Tempo", []string{"--traces-url=http://" + stk.jaegerQuery, "--traces-kind=tempo"},
			"trace store answers", []string{stk.jaegerQuery, "does not answer like Tempo", "/api/echo"}},
		{"Jaeger as the log store", []string{"--logs-url=http://" + stk.jaegerQuery},
			"log store answers", []string{stk.jaegerQuery, "is not a log store (VictoriaLogs or Loki)", "/loki/api/v1/status/buildinfo", "/select/logsql/field_names"}},
		{"VictoriaLogs told to be Loki", []string{"--logs-kind=loki"},
			"log store answers", []string{stk.victoriaLogs, "does not answer like Loki", "400"}},
		{"unreachable frontend", []string{"--frontend-url=http://" + nothing},
			"cache miss", []string{nothing, "connection refused"}},
		{"Jaeger's OTLP port as the trace store", []string{"--traces-url=http://" + stk.jaegerOTLP},
			"trace store answers", []string{stk.jaegerOTLP, "is not a trace store", "404"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runVerify(t, true, append(tc.flags, "--timeout=10s")...)
			if r.exit != 1 {
				t.Fatalf("want exit 1:\n%s", r)
			}
			c := r.check(t, tc.check)
			if c.Status != verify.Fail {
				t.Fatalf("%s: %s %q, want a failure", tc.check, c.Status, c.Detail)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Detail, w) {
					t.Errorf("%s: %q does not say %q", tc.check, c.Detail, w)
				}
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("stack trace on stderr:\n%s", r.stderr)
			}
		})
	}
}

// An empty log store (a fresh VictoriaLogs) is reachable but has none of the lines: the log
// checks fail after their timeout with the query and its empty answer, nothing else does.
func TestVerifyEmptyLogStore(t *testing.T) {
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	empty := &proc{name: "empty-victoria-logs", path: stk.tool("victoria-logs"), env: cleanEnv(),
		args:    []string{"-httpListenAddr=" + addr, "-storageDataPath=" + t.TempDir()},
		logPath: filepath.Join(stk.logDir, "empty-victoria-logs.log"), ready: "http://" + addr + "/health"}
	restart(t, empty)
	t.Cleanup(func() { empty.kill() })

	r := runVerify(t, true, "--logs-url=http://"+addr, "--timeout=5s")
	if r.exit != 1 {
		t.Fatalf("want exit 1:\n%s", r)
	}
	c := r.check(t, "logs of cache miss")
	if c.Status != verify.Fail || !strings.Contains(c.Detail, "no line") || !strings.Contains(c.Query, "trace_id:=") || c.Answer != "no lines" {
		t.Errorf("logs of cache miss in an empty store: %s %q, query %q, answer %q", c.Status, c.Detail, c.Query, c.Answer)
	}
	for _, f := range r.report.Failed() {
		if f.Signal != verify.SignalLogs && !strings.HasPrefix(f.Name, "log → trace") && !strings.HasPrefix(f.Name, "trace → logs") {
			t.Errorf("%s failed with an empty log store: %s", f.Name, f.Detail)
		}
	}
}
