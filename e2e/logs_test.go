//go:build e2e

package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// The log lines of one request, found in the log store by its trace id, come from all three
// services with the contract's messages, stream labels and structured metadata.
func TestLogsOfTrace(t *testing.T) {
	const id = 321
	r := getOK(t, fmt.Sprintf("/user/%d", id))
	lines := waitLogMessages(t, r.traceID, all,
		fmt.Sprintf("Fetching user %d", id),
		fmt.Sprintf("Processing user request for ID: %d", id),
		fmt.Sprintf("Querying user %d from database", id),
		fmt.Sprintf("User %d request completed", id),
		fmt.Sprintf("User %d fetch completed", id),
	)
	spanID := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, l := range lines {
		// Stream labels: service, level (lower case), environment.
		if !slices.Contains(all, l.Service()) {
			t.Errorf("%v: service label %q", l, l.Service())
		}
		if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level()) {
			t.Errorf("%v: level label %q, want debug|info|warn|error", l, l.Level())
		}
		if field(l, "environment") != environment {
			t.Errorf("%v: environment label %q, want %q", l, field(l, "environment"), environment)
		}
		for _, label := range []string{"service", "level", "environment"} {
			if _, ok := l.Stream[label]; !ok {
				t.Errorf("%v: stream %v has no %s label", l, l.Stream, label)
			}
		}
		// Structured metadata: trace_id and span_id.
		if field(l, "trace_id") != r.traceID || !spanID.MatchString(field(l, "span_id")) {
			t.Errorf("%v: structured metadata trace_id %q span_id %q", l, field(l, "trace_id"), field(l, "span_id"))
		}
		// The line is the slog JSON record (its fields stored with the "line." prefix).
		if field(l, "line.trace_id") != r.traceID || field(l, "line.span_id") != field(l, "span_id") {
			t.Errorf("%v: JSON line has trace_id %q span_id %q", l, field(l, "line.trace_id"), field(l, "line.span_id"))
		}
		if !strings.EqualFold(field(l, "line.level"), l.Level()) || field(l, "line.time") == "" {
			t.Errorf("%v: JSON line has level %q time %q", l, field(l, "line.level"), field(l, "line.time"))
		}
	}
	// The same lines are found through the stream labels alone.
	q := fmt.Sprintf(`{service="backend", environment=%q} trace_id:=%q`, environment, r.traceID)
	eventually(t, 10*time.Second, "backend lines by stream selector", func() error {
		got, err := queryLogs(q)
		if err == nil && len(got) == 0 {
			err = fmt.Errorf("%s: no lines", q)
		}
		return err
	})
}

// waitLogMessages polls the log store until the trace's lines include every message, from
// every one of the services, and returns them.
func waitLogMessages(t testing.TB, traceID string, services []string, msgs ...string) []readback.LogLine {
	t.Helper()
	var lines []readback.LogLine
	eventually(t, 20*time.Second, "log lines of trace "+traceID, func() error {
		var err error
		if lines, err = queryLogs(logsOfTrace(traceID)); err != nil {
			return err
		}
		have := map[string]bool{}
		from := map[string]bool{}
		for _, l := range lines {
			have[l.Line] = true
			from[l.Service()] = true
		}
		for _, m := range msgs {
			if !have[m] {
				return fmt.Errorf("no line %q yet; have %v", m, lines)
			}
		}
		for _, s := range services {
			if !from[s] {
				return fmt.Errorf("no line from %s yet; have %v", s, lines)
			}
		}
		return nil
	})
	return lines
}

// waitErrorLogs polls until the trace has a line at level error from each of the services.
func waitErrorLogs(t testing.TB, traceID string, services ...string) {
	t.Helper()
	eventually(t, 20*time.Second, "error lines of trace "+traceID, func() error {
		lines, err := queryLogs(logsOfTrace(traceID))
		if err != nil {
			return err
		}
		from := map[string]bool{}
		for _, l := range lines {
			if l.Level() == "error" {
				from[l.Service()] = true
			}
		}
		for _, s := range services {
			if !from[s] {
				return fmt.Errorf("no error line from %s yet; have %v", s, lines)
			}
		}
		return nil
	})
}

// field is a field or stream label of a stored line, "" when it has none.
func field(l readback.LogLine, name string) string {
	v, _ := l.Get(name)
	return v
}
