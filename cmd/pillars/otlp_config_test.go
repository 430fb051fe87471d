package main

import (
	"io"

	"github.com/pillars-o11y/pillars/internal/telemetry"
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

// Every OTEL_* variable the README names reaches the telemetry settings it governs (the
// telemetry package's own tests show each setting's effect). A variable read by hand and then
// dropped on the way, as OTEL_TRACES_EXPORTER and OTEL_PROPAGATORS once were, fails here.
func TestEveryDocumentedOTELVariableReachesTheTelemetry(t *testing.T) {
	cases := []struct {
		variable, value string
		got             func(telemetry.Config) any
		want            any
	}{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", func(c telemetry.Config) any {
			return c.Trace.Endpoint + " " + c.Metrics.Endpoint + " " + c.Logs.Endpoint
		}, "http://c:4318 http://c:4318 http://c:4318"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t/v1/traces", func(c telemetry.Config) any { return c.Trace.TracesEndpoint }, "http://t/v1/traces"},
		{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m/v1/metrics", func(c telemetry.Config) any { return c.Metrics.MetricsEndpoint }, "http://m/v1/metrics"},
		{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://l/v1/logs", func(c telemetry.Config) any { return c.Logs.LogsEndpoint }, "http://l/v1/logs"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", func(c telemetry.Config) any {
			return c.Trace.Protocol + " " + c.Metrics.Protocol + " " + c.Logs.Protocol
		}, "grpc grpc grpc"},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc", func(c telemetry.Config) any { return c.Trace.Protocol }, "grpc"},
		{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc", func(c telemetry.Config) any { return c.Metrics.Protocol }, "grpc"},
		{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc", func(c telemetry.Config) any { return c.Logs.Protocol }, "grpc"},
		{"OTEL_TRACES_EXPORTER", "console", func(c telemetry.Config) any { return strings.Join(c.Trace.Exporters, ",") }, "console"},
		{"OTEL_TRACES_EXPORTER", "none", func(c telemetry.Config) any { return strings.Join(c.Trace.Exporters, ",") }, "none"},
		{"OTEL_TRACES_EXPORTER", "otlp,console", func(c telemetry.Config) any { return strings.Join(c.Trace.Exporters, ",") }, "otlp,console"},
		{"OTEL_PROPAGATORS", "tracecontext, B3", func(c telemetry.Config) any { return strings.Join(c.Propagators, ",") }, "tracecontext,b3"},
		{"OTEL_TRACES_SAMPLER", "traceidratio", func(c telemetry.Config) any { return c.Trace.Sampler }, "traceidratio"},
		{"OTEL_TRACES_SAMPLER_ARG", "0.25", func(c telemetry.Config) any { return c.Trace.SamplerArg }, "0.25"},
		{"OTEL_SDK_DISABLED", "TRUE", func(c telemetry.Config) any { return c.Trace.Disabled }, true},
		{"OTEL_BSP_SCHEDULE_DELAY", "250", func(c telemetry.Config) any { return c.Trace.Batch.ScheduleDelay }, 250 * time.Millisecond},
		{"OTEL_BSP_EXPORT_TIMEOUT", "3000", func(c telemetry.Config) any { return c.Trace.Batch.ExportTimeout }, 3 * time.Second},
		{"OTEL_BSP_MAX_QUEUE_SIZE", "100", func(c telemetry.Config) any { return c.Trace.Batch.MaxQueueSize }, 100},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50", func(c telemetry.Config) any { return c.Trace.Batch.MaxExportBatchSize }, 50},
		{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "77", func(c telemetry.Config) any { return c.Trace.Limits.AttributeValueLength }, 77},
		{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "78", func(c telemetry.Config) any { return c.Trace.Limits.AttributeValueLength }, 78},
		{"OTEL_ATTRIBUTE_COUNT_LIMIT", "9", func(c telemetry.Config) any { return c.Trace.Limits.AttributeCount }, 9},
		{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "8", func(c telemetry.Config) any { return c.Trace.Limits.AttributeCount }, 8},
		{"OTEL_METRICS_EXPORTER", "otlp", func(c telemetry.Config) any { return c.Metrics.OTLP && c.Metrics.NoPull }, true},
		{"OTEL_LOGS_EXPORTER", "otlp", func(c telemetry.Config) any { return c.Logs.OTLP }, true},
		{"OTEL_METRIC_EXPORT_INTERVAL", "1500", func(c telemetry.Config) any { return c.Metrics.Interval }, 1500 * time.Millisecond},
		{"OTEL_METRIC_EXPORT_TIMEOUT", "2500", func(c telemetry.Config) any { return c.Metrics.Timeout }, 2500 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.variable+"="+c.value, func(t *testing.T) {
			o := commonOptions{logLevel: "info", metrics: true}
			cfg, err := o.telemetryConfig("backend", func(k string) string {
				if k == c.variable {
					return c.value
				}
				return ""
			}, io.Discard, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.got(cfg); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("OTEL_TRACES_EXPORTER=zipkin is a usage error", func(t *testing.T) {
		o := commonOptions{logLevel: "info"}
		_, err := o.telemetryConfig("backend", func(k string) string {
			if k == "OTEL_TRACES_EXPORTER" {
				return "zipkin"
			}
			return ""
		}, io.Discard, true)
		if exitCode(err) != 2 {
			t.Errorf("err %v (exit %d), want a usage error", err, exitCode(err))
		}
	})
}
