package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// Every verify flag has its PILLARS_ variable, the flag wins over it, and the defaults are the
// addresses of `make up`.
func TestVerifyFlags(t *testing.T) {
	env := map[string]string{"PILLARS_TRACES_URL": "http://tempo:3200", "PILLARS_LOGS_KIND": "loki", "PILLARS_JSON": "true", "PILLARS_TIMEOUT": "5s"}
	v, err := parseVerifyFlags([]string{"--logs-kind=victorialogs"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if v.cfg.TracesURL != "http://tempo:3200" || v.cfg.LogsKind != "victorialogs" || !v.json || v.cfg.Timeout != 5*time.Second {
		t.Errorf("config %+v json %v", v.cfg, v.json)
	}
	if v.cfg.FrontendURL != "http://127.0.0.1:8001" || v.cfg.PrometheusURL != "http://127.0.0.1:19090" || v.cfg.LogsURL != "http://127.0.0.1:19428" || v.cfg.TracesKind != "auto" {
		t.Errorf("defaults %+v: want make up's addresses", v.cfg)
	}
}

func TestVerifyUsage(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"verify", "--timeout=0s"}, func(string) string { return "" }, &bytes.Buffer{}, &stderr)
	if err == nil || exitCode(err) != 2 {
		t.Errorf("--timeout=0s: %v (exit %d), want a usage error", err, exitCode(err))
	}
	stderr.Reset()
	if err := run(context.Background(), []string{"verify", "--help"}, func(string) string { return "" }, &bytes.Buffer{}, &stderr); err != nil {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stderr.String(), "PILLARS_PROMETHEUS_URL") || strings.Contains(stderr.String(), "OTEL_EXPORTER") {
		t.Errorf("verify --help:\n%s", stderr.String())
	}
}

// With nothing to talk to, verify fails (exit 1) with a checklist, not a stack trace.
func TestVerifyAgainstNothing(t *testing.T) {
	var stdout bytes.Buffer
	nothing := "http://" + freeAddr(t)
	err := run(context.Background(), []string{"verify", "--timeout=1s", "--frontend-url=" + nothing, "--prometheus-url=" + nothing,
		"--traces-url=" + nothing, "--logs-url=" + nothing}, func(string) string { return "" }, &stdout, &bytes.Buffer{})
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("verify against nothing: %v, want exit 1", err)
	}
	for _, want := range []string{"FAIL  metrics", "FAIL  traces", "FAIL  logs", "FAIL  requests", "connection refused"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("checklist has no %q:\n%s", want, stdout.String())
		}
	}
}
