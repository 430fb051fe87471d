package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// signalExports reads the standard variables that choose how metrics and logs leave a
// service: OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER, each a comma-separated list, and the
// OTLP exporters' endpoint, protocol and interval variables.
//
// OTEL_METRICS_EXPORTER: "prometheus" (the default) serves /metrics to be scraped, "otlp"
// pushes the same registry over OTLP, "none" alone does neither.
// OTEL_LOGS_EXPORTER: "otlp" exports every log record over OTLP as well as writing it to
// stdout (and to Loki when --loki-url is set). Unset means no OTLP logs, which differs from
// the specification's default of otlp: a service that never asked for OTLP logs keeps the
// log path it had.
func signalExports(getenv func(string) string) (telemetry.MetricsConfig, telemetry.LogsConfig, error) {
	var errs []error
	metricExporters := exporterList(getenv, "OTEL_METRICS_EXPORTER", "prometheus", []string{"prometheus", "otlp"}, &errs)
	logExporters := exporterList(getenv, "OTEL_LOGS_EXPORTER", "none", []string{"otlp"}, &errs)
	millis := func(name string) time.Duration {
		return time.Duration(positiveInt(getenv, name, &errs)) * time.Millisecond
	}
	metrics := telemetry.MetricsConfig{
		NoPull:          !slices.Contains(metricExporters, "prometheus"),
		OTLP:            slices.Contains(metricExporters, "otlp"),
		Endpoint:        getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		MetricsEndpoint: getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
		Protocol:        firstNonEmpty(getenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL")),
		Interval:        millis("OTEL_METRIC_EXPORT_INTERVAL"),
		Timeout:         millis("OTEL_METRIC_EXPORT_TIMEOUT"),
	}
	logs := telemetry.LogsConfig{
		OTLP:         slices.Contains(logExporters, "otlp"),
		Endpoint:     getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		LogsEndpoint: getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
		Protocol:     firstNonEmpty(getenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL")),
	}
	if err := errors.Join(errs...); err != nil {
		return metrics, logs, usageError{err}
	}
	return metrics, logs, nil
}

// traceExports reads OTEL_TRACES_EXPORTER (otlp, the default; console; none) and
// OTEL_PROPAGATORS (a comma-separated list of names, checked when the telemetry is built).
func traceExports(getenv func(string) string) ([]string, []string, error) {
	var errs []error
	exporters := exporterList(getenv, "OTEL_TRACES_EXPORTER", "otlp", []string{"otlp", "console"}, &errs)
	if len(exporters) == 0 {
		exporters = []string{"none"} // not empty: empty means the default, otlp
	}
	var propagators []string
	for p := range strings.SplitSeq(getenv("OTEL_PROPAGATORS"), ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			propagators = append(propagators, p)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, usageError{err}
	}
	return exporters, propagators, nil
}

// exporterList reads a comma-separated OTEL_*_EXPORTER variable: def when unset, nothing
// for "none" (which the specification allows only alone), and an error for a value this
// program cannot export to.
func exporterList(getenv func(string) string, name, def string, known []string, errs *[]error) []string {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		v = def
	}
	var out []string
	for _, e := range strings.Split(v, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "none":
			if strings.Contains(v, ",") {
				*errs = append(*errs, fmt.Errorf("%s=%q: none cannot be combined with other exporters", name, v))
			}
		case slices.Contains(known, e):
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		default:
			*errs = append(*errs, fmt.Errorf("%s=%q: %q is not supported; want a comma-separated list of %s, or none",
				name, v, e, strings.Join(known, ", ")))
		}
	}
	return out
}
