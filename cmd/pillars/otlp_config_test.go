package main

import (
	"strings"
	"testing"
	"time"
)

// OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER are comma-separated lists as the specification
// writes them; this program's default for logs is no OTLP.
func TestSignalExportsFromTheStandardVariables(t *testing.T) {
	cases := []struct {
		name           string
		env            map[string]string
		pull, otlpM    bool
		otlpL          bool
		metricsProto   string
		interval       time.Duration
		wantErrContain string
	}{
		{name: "nothing set: scraped, no OTLP", pull: true},
		{name: "otlp only", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp"}, otlpM: true},
		{name: "both, spaced and upper case", env: map[string]string{"OTEL_METRICS_EXPORTER": " OTLP , prometheus"}, pull: true, otlpM: true},
		{name: "none", env: map[string]string{"OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}},
		{name: "logs over otlp", env: map[string]string{"OTEL_LOGS_EXPORTER": "otlp"}, pull: true, otlpL: true},
		{name: "per-signal protocol wins", env: map[string]string{
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc",
			"OTEL_METRIC_EXPORT_INTERVAL": "1500"}, pull: true, metricsProto: "grpc", interval: 1500 * time.Millisecond},
		{name: "unknown exporter", env: map[string]string{"OTEL_METRICS_EXPORTER": "console"}, wantErrContain: `"console" is not supported`},
		{name: "none with another", env: map[string]string{"OTEL_LOGS_EXPORTER": "none,otlp"}, wantErrContain: "none cannot be combined"},
		{name: "bad interval", env: map[string]string{"OTEL_METRIC_EXPORT_INTERVAL": "5s"}, wantErrContain: "OTEL_METRIC_EXPORT_INTERVAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, l, err := signalExports(func(k string) string { return c.env[k] })
			if c.wantErrContain != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrContain) {
					t.Fatalf("err %v, want one saying %q", err, c.wantErrContain)
				}
				if exitCode(err) != 2 {
					t.Errorf("exit code %d, want 2 (a usage error)", exitCode(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !m.NoPull != c.pull || m.OTLP != c.otlpM || l.OTLP != c.otlpL {
				t.Errorf("pull %v, metrics otlp %v, logs otlp %v; want %v, %v, %v", !m.NoPull, m.OTLP, l.OTLP, c.pull, c.otlpM, c.otlpL)
			}
			if c.metricsProto != "" && m.Protocol != c.metricsProto {
				t.Errorf("metrics protocol %q, want %q", m.Protocol, c.metricsProto)
			}
			if m.Interval != c.interval {
				t.Errorf("interval %v, want %v", m.Interval, c.interval)
			}
		})
	}
}
