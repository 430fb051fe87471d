package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// hostilePath retitles a terminal (OSC 0 ... BEL), clears it (CSI 2J), sends an 8-bit CSI
// and reverses the text that follows (U+202E).
const hostilePath = "/user/%1b%5d0%3bowned%07%1b%5b2J%c2%9b2J%e2%80%aeabc"

// A request whose path holds escape sequences leaves log lines that hold none, on stdout and
// in Loki, also once a reader decodes the JSON (as LogQL's json stage, Grafana and pillars
// trace do): its values show as escapes (\x1b), whether the handler passed the path through
// Excerpt or logged it raw.
func TestHostileRequestLogsNoControlCharacters(t *testing.T) {
	loki := telemetrytest.NewLokiReceiver(t)
	stdout := &telemetrytest.SyncBuffer{}
	tel, err := telemetry.New(context.Background(), telemetry.Config{
		Service: "frontend", Version: "test", Environment: "test",
		Trace: telemetry.TraceConfig{Disabled: true}, Stdout: stdout, LogLevel: slog.LevelInfo,
		Loki: telemetry.LokiConfig{URL: loki.URL, BatchWait: 10 * time.Millisecond, Buffer: 100, BatchSize: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user/{id}", func(w http.ResponseWriter, r *http.Request) {
		raw := r.PathValue("id")
		tel.Logger.InfoContext(r.Context(), "Fetching user "+telemetry.Excerpt(raw), "user_id_input", raw)
		tel.WriteError(w, r, http.StatusBadRequest, errors.New("user id "+telemetry.Quote(raw)+" is not a number"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + hostilePath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	telemetrytest.Eventually(t, 10*time.Second, "both log lines in Loki", func() bool { return len(loki.Entries()) >= 2 })
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for _, e := range loki.Entries() {
		lines = append(lines, e.Line)
	}
	sawInput := false
	for _, line := range lines {
		checkNoControl(t, "raw line", line)
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		for k, v := range fields {
			if s, ok := v.(string); ok {
				checkNoControl(t, "decoded "+k, s)
			}
		}
		if in, ok := fields["user_id_input"].(string); ok {
			sawInput = true
			if !strings.Contains(in, `\x1b]0;owned\a\x1b[2J`) || !strings.Contains(in, `\u202e`) {
				t.Errorf("user_id_input %q: want the escapes visible", in)
			}
		}
	}
	if !sawInput {
		t.Errorf("no line carries user_id_input: %q", lines)
	}
}

func checkNoControl(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\x1b\a\u009b\u202e") {
		t.Errorf("%s holds a control character: %q", what, s)
	}
}
