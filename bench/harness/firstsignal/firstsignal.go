// Package firstsignal measures how soon the local stack shows a request's signals: it runs
// `make up`'s script, waits until the services are ready, sends one request and polls the
// backends' query APIs until its trace, a log line with its trace id, and a sample of the
// frontend's request counter can be read.
package firstsignal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/results"
)

// Options say where the stack is. The addresses are `make up`'s (scripts/up.sh).
type Options struct {
	Repo          string // the repository, whose scripts/up.sh is run
	Tools         string // PILLARS_TOOLS: where the pinned backends are built
	LogDir        string
	FrontendURL   string
	PrometheusURL string
	JaegerURL     string
	LogsURL       string
	Timeout       time.Duration // per signal, after ready
	Progress      io.Writer
	// Ports up.sh binds; any taken means another stack runs, and up.sh would refuse.
	Ports []string
}

// Defaults are `make up`'s addresses.
func Defaults() Options {
	return Options{
		FrontendURL: "http://127.0.0.1:8001", PrometheusURL: "http://127.0.0.1:19090",
		JaegerURL: "http://127.0.0.1:16686", LogsURL: "http://127.0.0.1:19428", Timeout: 60 * time.Second,
		Ports: []string{"127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003", "127.0.0.1:19090", "127.0.0.1:19428", "127.0.0.1:14318", "127.0.0.1:16686"},
	}
}

// Measure runs the stack, measures, and stops it. A stack that cannot run here is reported
// as not measured, with the reason.
func Measure(ctx context.Context, o Options) results.FirstSignal {
	for _, b := range []string{"prometheus", "victoria-logs", "jaeger"} {
		if _, err := os.Stat(filepath.Join(o.Tools, "bin", b)); err != nil {
			return results.FirstSignal{Why: fmt.Sprintf("the local backends are not built (%s missing: `make tools`)", b)}
		}
	}
	for _, addr := range o.Ports {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return results.FirstSignal{Why: addr + " is in use: another local stack is running"}
		}
	}
	logPath := filepath.Join(o.LogDir, "up.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return results.FirstSignal{Why: err.Error()}
	}
	defer logFile.Close()
	up := exec.Command(filepath.Join(o.Repo, "scripts", "up.sh"))
	up.Dir, up.Stdout, up.Stderr = o.Repo, logFile, logFile
	up.Env = append(os.Environ(), "PILLARS_TOOLS="+o.Tools)
	up.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := up.Start(); err != nil {
		return results.FirstSignal{Why: "scripts/up.sh: " + err.Error()}
	}
	exited := make(chan error, 1)
	go func() { exited <- up.Wait() }()
	defer func() {
		// up.sh stops what it started on SIGTERM.
		_ = up.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = up.Process.Kill()
			<-exited
		}
	}()
	if o.Progress != nil {
		fmt.Fprintln(o.Progress, "first signal: starting the local stack (scripts/up.sh)")
	}
	if err := waitReady(ctx, o.FrontendURL+"/ready", 5*time.Minute, exited); err != nil {
		return results.FirstSignal{Why: fmt.Sprintf("the stack did not come up: %v: %s", err, tail(logPath))}
	}
	ready := time.Now()
	id, err := request(ctx, o.FrontendURL+"/user/42")
	if err != nil {
		return results.FirstSignal{Why: err.Error()}
	}
	f := results.FirstSignal{Measured: true, TraceID: id, At: ready}
	checks := []struct {
		into *time.Duration
		ok   func(context.Context) bool
	}{
		{&f.Trace, func(ctx context.Context) bool { return HasTrace(ctx, o.JaegerURL, id) }},
		{&f.Log, func(ctx context.Context) bool { return HasLog(ctx, o.LogsURL, id) }},
		{&f.Sample, func(ctx context.Context) bool { return HasSample(ctx, o.PrometheusURL, "frontend_requests_total") }},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var missing []string
	for i, c := range checks {
		wg.Go(func() {
			deadline := ready.Add(o.Timeout)
			for !c.ok(ctx) {
				if time.Now().After(deadline) || ctx.Err() != nil {
					mu.Lock()
					missing = append(missing, []string{"trace", "log line", "sample"}[i])
					mu.Unlock()
					*c.into = o.Timeout
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			*c.into = time.Since(ready)
		})
	}
	wg.Wait()
	if len(missing) > 0 {
		f.Why = fmt.Sprintf("not found within %s: %s", o.Timeout, strings.Join(missing, ", "))
	}
	return f
}

func waitReady(ctx context.Context, u string, timeout time.Duration, exited <-chan error) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("scripts/up.sh exited (%v)", err)
		default:
		}
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %s", u, timeout)
}

// request sends one GET and returns its trace id, from the W3C traceresponse header.
func request(ctx context.Context, u string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return TraceID(resp.Header.Get("Traceresponse"))
}

// TraceID reads the trace id of a traceresponse (or traceparent) header: 00-<32 hex>-<16 hex>-<2 hex>.
func TraceID(header string) (string, error) {
	parts := strings.Split(header, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return "", fmt.Errorf("no trace id in traceresponse %q", header)
	}
	return parts[1], nil
}

// HasTrace asks Jaeger's query API for the trace.
func HasTrace(ctx context.Context, jaeger, id string) bool {
	var body struct {
		Data []struct {
			Spans []json.RawMessage `json:"spans"`
		} `json:"data"`
	}
	return getJSON(ctx, jaeger+"/api/traces/"+id, &body) == nil && len(body.Data) > 0 && len(body.Data[0].Spans) > 0
}

// HasLog asks VictoriaLogs for a line with the trace id.
func HasLog(ctx context.Context, logs, id string) bool {
	b, err := get(ctx, logs+"/select/logsql/query?query="+url.QueryEscape("trace_id:="+id))
	return err == nil && strings.Contains(string(b), id)
}

// HasSample asks Prometheus for any sample of metric.
func HasSample(ctx context.Context, prometheus, metric string) bool {
	var body struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	return getJSON(ctx, prometheus+"/api/v1/query?query="+url.QueryEscape(metric), &body) == nil && len(body.Data.Result) > 0
}

func getJSON(ctx context.Context, u string, v any) error {
	b, err := get(ctx, u)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func get(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", u, resp.Status)
	}
	return b, err
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(b))
	if len(s) > 1000 {
		s = "…" + s[len(s)-1000:]
	}
	return s
}
