package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/scenarios"
)

// hostileText retitles a terminal (OSC 0 ... BEL), clears it (CSI 2J), sends an 8-bit CSI
// and reverses what follows (U+202E).
const hostileText = "\x1b]0;owned\a\x1b[2J\u009b2J\u202eabc"

// A trace whose span name, service and status message hold escape sequences is printed by
// `pillars trace` with the sequences shown as escapes: no ESC, BEL, C1 or bidirectional
// override byte reaches stdout, stderr or the error the command returns.
func TestTraceCommandPrintsNoControlCharacters(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	start := time.Now().Add(-time.Hour).UnixMicro() // an old trace is read once, not waited on
	span := map[string]any{
		"traceID": id, "spanID": "00f067aa0ba902b7", "operationName": hostileText,
		"startTime": start, "duration": 1500, "processID": "p1",
		"tags": []map[string]any{
			{"key": "otel.status_code", "type": "string", "value": "ERROR"},
			{"key": "otel.status_description", "type": "string", "value": "failed: " + hostileText},
		},
	}
	jaeger := http.NewServeMux()
	jaeger.HandleFunc("GET /api/services", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":["frontend"],"total":1}`)
	})
	jaeger.HandleFunc("GET /api/traces/{id}", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"data": []any{map[string]any{
			"traceID": id, "spans": []any{span},
			"processes": map[string]any{"p1": map[string]any{"serviceName": "svc" + hostileText}},
		}}})
	})
	srv := httptest.NewServer(jaeger)
	defer srv.Close()
	dead := deadURL(t)

	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"trace", id, "--traces-url", srv.URL, "--traces-kind", "jaeger",
		"--logs-url", dead, "--prometheus-url", dead, "--wait", "2s"}, func(string) string { return "" }, &stdout, &stderr)
	if !strings.Contains(stdout.String(), `\x1b]0;owned\a\x1b[2J\u009b2J\u202eabc`) {
		t.Errorf("the span name is not shown escaped:\n%s", stdout.String())
	}
	printed := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}
	if err != nil {
		printed["error"] = err.Error()
	}
	for what, s := range printed {
		if strings.ContainsAny(s, "\x1b\a\u009b\u202e") {
			t.Errorf("%s holds a control character: %q", what, s)
		}
	}
}

// `pillars scenario status` and `check` print what the frontend and the stores answered:
// a step's words, its error, a signature item's detail and query. None reaches the terminal
// with its control characters.
func TestScenarioPrintsNoControlCharacters(t *testing.T) {
	var out strings.Builder
	st := scenarios.Status{Scenario: "slow" + hostileText, Title: "title" + hostileText, Outcome: "stopped" + hostileText, Steps: 1,
		Events: []scenarios.Event{{Step: 1, Say: hostileText, Did: hostileText, Error: hostileText}}}
	printStatus(&out, st)
	printResults(&out, &scenarios.Scenario{Name: "n" + hostileText, Title: hostileText}, []scenarios.Result{
		{Signal: "logs", Item: hostileText, Detail: hostileText, Query: hostileText},
		{Signal: "traces", Item: "x", Error: hostileText, Query: "q"},
	})
	if strings.ContainsAny(out.String(), "\x1b\a\u009b\u202e") {
		t.Errorf("scenario output holds a control character: %q", out.String())
	}
	if n := strings.Count(out.String(), `\x1b]0;owned\a\x1b[2J\u009b2J\u202eabc`); n < 9 {
		t.Errorf("%d values shown escaped, want every one of them:\n%s", n, out.String())
	}
}

// deadURL is an http URL on which nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}
