//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

type traceRun struct {
	exit           int
	stdout, stderr string
}

// runTraceCmd runs `pillars trace` against the stack with extra flags after the defaults.
func runTraceCmd(t *testing.T, args ...string) traceRun {
	t.Helper()
	all := append([]string{"trace",
		"--prometheus-url=http://" + stk.prometheus,
		"--traces-url=http://" + stk.jaegerQuery,
		"--logs-url=http://" + stk.victoriaLogs,
	}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, stk.pillars, all...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pillars trace did not end within a minute; stderr:\n%s", stderr.String())
	}
	r := traceRun{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		r.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// The id as a person may have it: Jaeger's search prints it without its leading zeros.
func shortID(id string) string { return strings.TrimLeft(id, "0") }

// `pillars trace <id>` draws the request's trace from Jaeger as a tree with every service's
// spans, then its log lines from VictoriaLogs, then the exemplars in Prometheus naming it.
func TestTraceCommand(t *testing.T) {
	r := getUncached(t, "/user/2718")
	waitTrace(t, r.traceID, "frontend_get_user", "database_get_user")
	waitScraped(t)
	out := runTraceCmd(t, shortID(r.traceID))
	if out.exit != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", out.exit, out.stdout, out.stderr)
	}
	t.Logf("\n%s", out.stdout)
	// Rows in tree order: service, then the tree and the span name, a duration, a bar.
	rows := []string{
		`frontend\s+frontend_get_user\s`,
		`frontend\s+└─ GET /api/user/\{id\}\s`,
		`backend\s+└─ backend_get_user\s`,
		`backend\s+├─ validate_user_id\s`,
		`backend\s+└─ GET /db/user/\{id\}\s`,
		`database\s+└─ database_get_user\s`,
		`database\s+├─ transaction_begin\s`,
		`database\s+├─ query_planning\s`,
		`database\s+├─ query_execution\s`,
		`database\s+└─ transaction_commit\s`,
	}
	pos := 0
	for _, pat := range rows {
		re := regexp.MustCompile(`(?m)^  ` + pat + `.*[0-9.]+(ns|µs|ms|s)  +█`)
		loc := re.FindStringIndex(out.stdout[pos:])
		if loc == nil {
			t.Fatalf("no row %q after the previous one in:\n%s", pat, out.stdout)
		}
		pos += loc[1]
	}
	if !strings.HasPrefix(out.stdout, "trace "+r.traceID+": 10 spans from 3 services") {
		t.Errorf("header: %.120q, want the full id with 10 spans from 3 services", out.stdout)
	}
	if strings.Contains(out.stdout, "✗") {
		t.Errorf("a successful request is marked failed:\n%s", out.stdout)
	}
	for _, line := range []string{
		`frontend\s+info\s+Fetching user 2718`,
		`backend\s+info\s+Processing user request for ID: 2718`,
		`database\s+info\s+Querying user 2718 from database`,
		`exemplars naming this trace`,
		`frontend_requests_total\{endpoint="/user/\{id\}",instance="[^"]+",job="frontend",method="GET",status="200"\}  1`,
	} {
		if !regexp.MustCompile(line).MatchString(out.stdout) {
			t.Errorf("output lacks %s", line)
		}
	}
}

// A failed request's spans are marked, with their status message.
func TestTraceCommandMarksErrors(t *testing.T) {
	setFaults(t, map[string]any{"error_rate": 1})
	r := get(t, "/user/3141")
	if r.status/100 != 5 {
		t.Fatalf("GET /user/3141 with every query failing: %d", r.status)
	}
	waitErrorSpans(t, r.traceID, "database", "backend", "frontend")
	out := runTraceCmd(t, r.traceID)
	if out.exit != 0 {
		t.Fatalf("exit %d\n%s\n%s", out.exit, out.stdout, out.stderr)
	}
	if !regexp.MustCompile(`(?m)^  database\s+.*database_get_user\s.*█[█ ]* ✗$`).MatchString(out.stdout) ||
		!regexp.MustCompile(`(?m)^\s+✗ \S`).MatchString(out.stdout) {
		t.Errorf("the failed database span is not marked with its message:\n%s", out.stdout)
	}
	// The log lines of the failure are there too, once they arrived.
	if !regexp.MustCompile(`(?m)^  [0-9:.]+  frontend\s+error\s+request failed`).MatchString(out.stdout) {
		t.Errorf("the frontend's error line is missing:\n%s", out.stdout)
	}
	if !regexp.MustCompile(`, [0-9]+ failed ✗`).MatchString(out.stdout) {
		t.Errorf("the header does not count the failed spans:\n%.200s", out.stdout)
	}
}

// An id the store does not have is waited for, with progress, then named in a clear error.
func TestTraceCommandNotFound(t *testing.T) {
	id := randomHex(16)
	out := runTraceCmd(t, id, "--wait=3s")
	if out.exit != 1 || out.stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing printed", out.exit, out.stdout)
	}
	for _, s := range []string{"waiting for trace " + id, "has no trace " + id + " (waited 3s"} {
		if !strings.Contains(out.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, out.stderr)
		}
	}
}

// A log store that is down loses only the log lines: the trace is still drawn, the log part
// says what failed and the exit status is 1.
func TestTraceCommandLogStoreUnreachable(t *testing.T) {
	r := getOK(t, "/product/7")
	waitTrace(t, r.traceID, "frontend_get_product")
	dead := fmt.Sprintf("http://127.0.0.1:%d", closedPort(t))
	out := runTraceCmd(t, r.traceID, "--logs-url="+dead)
	if out.exit != 1 {
		t.Errorf("exit %d, want 1", out.exit)
	}
	if !strings.Contains(out.stdout, "frontend_get_product") {
		t.Errorf("the trace is not drawn:\n%s", out.stdout)
	}
	if !strings.Contains(out.stdout, "log lines: not read:") || !strings.Contains(out.stdout, "nothing listens there") {
		t.Errorf("the log part does not say the store is unreachable:\n%s", out.stdout)
	}
	if !strings.Contains(out.stderr, "log store unusable") {
		t.Errorf("stderr does not name the log store:\n%s", out.stderr)
	}
}

// closedPort is a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}
