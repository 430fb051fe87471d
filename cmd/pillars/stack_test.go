package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// stack is `pillars all` (or one of its services) started through run, exactly as main does,
// on free loopback ports, with its spans going to a real OTLP/HTTP receiver and its logs to a
// real Loki push receiver.
type stack struct {
	t        *testing.T
	frontend string
	backend  string
	database string
	otlp     *telemetrytest.OTLPReceiver
	loki     *telemetrytest.LokiReceiver
	stdout   *telemetrytest.SyncBuffer
	done     chan error
	cancel   context.CancelFunc
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRun runs `pillars <args>` with env in the background and returns a function that
// stops it (as SIGTERM would) and returns run's error.
func startRun(t *testing.T, args []string, env map[string]string, stdout io.Writer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, stdout, io.Discard) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Error("run did not return within 30s of cancellation")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func startAll(t *testing.T, extraEnv map[string]string) (*stack, func() error) {
	t.Helper()
	s := &stack{
		t:        t,
		frontend: freeAddr(t),
		backend:  freeAddr(t),
		database: freeAddr(t),
		otlp:     telemetrytest.NewOTLPReceiver(t),
		loki:     telemetrytest.NewLokiReceiver(t),
		stdout:   &telemetrytest.SyncBuffer{},
	}
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": s.otlp.URL,
		"PILLARS_LOKI_URL":            s.loki.URL,
		"PILLARS_LOKI_BATCH_WAIT":     "50ms",
		"PILLARS_FRONTEND_ADDR":       s.frontend,
		"PILLARS_BACKEND_ADDR":        s.backend,
		"PILLARS_DATABASE_ADDR":       s.database,
		"PILLARS_DB_PATH":             seededCopy(t),
		"PILLARS_TRAFFIC_RATE":        "0",
		"PILLARS_ENVIRONMENT":         "test",
		"PILLARS_DRAIN_DELAY":         "0s",
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	stop := startRun(t, []string{"all"}, env, s.stdout)
	for _, addr := range []string{s.database, s.backend, s.frontend} {
		waitReady(t, "http://"+addr)
	}
	return s, stop
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	telemetrytest.Eventually(t, 30*time.Second, base+"/ready", func() bool {
		resp, err := http.Get(base + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// response is what a test keeps of one answer.
type response struct {
	status  int
	traceID string
	body    map[string]any
	header  http.Header
}

func (s *stack) get(path string) response {
	return getURL(s.t, "http://"+s.frontend+path)
}

func getURL(t *testing.T, url string) response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	// traceresponse: 00-<trace id>-<span id>-<flags>
	if parts := strings.Split(resp.Header.Get("traceresponse"), "-"); len(parts) == 4 {
		r.traceID = parts[1]
	}
	_ = json.NewDecoder(resp.Body).Decode(&r.body)
	return r
}

// trace waits until the receiver holds spans of traceID with every one of names, and
// returns the trace's spans grouped by name.
func (s *stack) trace(traceID string, names ...string) map[string][]telemetrytest.ExportedSpan {
	s.t.Helper()
	byName := map[string][]telemetrytest.ExportedSpan{}
	telemetrytest.Eventually(s.t, 15*time.Second, "spans "+strings.Join(names, ", ")+" of trace "+traceID, func() bool {
		clear(byName)
		for _, sp := range s.otlp.Spans() {
			if hexID(sp.TraceId) == traceID {
				byName[sp.Name] = append(byName[sp.Name], sp)
			}
		}
		for _, n := range names {
			if len(byName[n]) == 0 {
				return false
			}
		}
		return true
	})
	return byName
}

// logs waits until Loki received a line with each of msgs for traceID, and returns the lines.
func (s *stack) logs(traceID string, msgs ...string) []telemetrytest.LokiEntry {
	s.t.Helper()
	var lines []telemetrytest.LokiEntry
	telemetrytest.Eventually(s.t, 15*time.Second, "log lines "+strings.Join(msgs, ", "), func() bool {
		lines = lines[:0]
		for _, e := range s.loki.Entries() {
			if e.Metadata["trace_id"] == traceID {
				lines = append(lines, e)
			}
		}
		for _, m := range msgs {
			if !anyLine(lines, `"msg":"`+m+`"`) {
				return false
			}
		}
		return true
	})
	return lines
}

func anyLine(lines []telemetrytest.LokiEntry, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l.Line, sub) {
			return true
		}
	}
	return false
}

// metrics scrapes a service's /metrics as Prometheus does (OpenMetrics, with exemplars).
func metrics(t *testing.T, addr string) string {
	t.Helper()
	return telemetrytest.Scrape(t, "http://"+addr+"/metrics")
}

// sample returns the value of the series written exactly as `name{labels}` (0 if absent).
func sample(exposition, series string) float64 {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return v
		}
	}
	return 0
}

func hexID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}
