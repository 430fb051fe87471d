// Package telemetry is what every pillars service shares: the tracer provider, the Prometheus
// registry, the slog logger that ships to Loki, the HTTP middleware that ties the three signals
// together for each request, the instrumented HTTP client, health endpoints and the server loop.
//
// Nothing here reads the environment or uses package globals: a service gets its own Telemetry,
// so `pillars all` runs three services in one process whose signals are as separate as three
// processes' would be.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config describes one service's telemetry.
type Config struct {
	Service     string // service.name and the `service` log label: frontend, backend, database
	Version     string // service.version
	Environment string // deployment.environment and the `environment` log label

	Trace   TraceConfig
	Metrics MetricsConfig
	Logs    LogsConfig
	Loki    LokiConfig

	// Propagators are OTEL_PROPAGATORS' names (tracecontext, baggage, b3, b3multi, jaeger,
	// xray, ottrace, none); empty means the specification's default, tracecontext,baggage.
	Propagators []string

	LogLevel slog.Level
	Stdout   io.Writer // where JSON log lines go; nil means io.Discard

	instanceID string // service.instance.id, made by New for all the service's signals
}

// Telemetry is one service's set of signal producers.
type Telemetry struct {
	Service     string
	Version     string
	Environment string

	Logger     *slog.Logger
	Registry   *prometheus.Registry
	Tracer     trace.Tracer
	Propagator propagation.TextMapPropagator

	tracing  *tracing
	meters   *metric.MeterProvider  // nil unless metrics are pushed over OTLP
	logs     *sdklog.LoggerProvider // nil unless logs are exported over OTLP
	shipper  *lokiShipper
	versions *versions
	pull     bool // /metrics is served
	// unmeasured: no request is counted or timed (--metrics=false).
	unmeasured bool
}

// New builds the telemetry of one service. It never dials anything: exporters connect lazily
// and in the background, so a service starts even when no backend is up.
func New(ctx context.Context, cfg Config) (*Telemetry, error) {
	if cfg.Service == "" {
		return nil, errors.New("telemetry: service name is required")
	}
	propagator, err := newPropagator(cfg.Propagators)
	if err != nil {
		return nil, err
	}
	reg := NewRegistry()
	cfg.instanceID = uuid.NewString()
	tr, err := newTracing(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// OTEL_SDK_DISABLED turns off every signal of the SDK; the registry and /metrics are
	// Prometheus's, not the SDK's, and stay.
	if cfg.Trace.Disabled {
		cfg.Metrics.OTLP, cfg.Logs.OTLP = false, false
	}
	var meters *metric.MeterProvider
	var logs *sdklog.LoggerProvider
	if cfg.Metrics.OTLP || cfg.Logs.OTLP {
		res, err := newResource(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if meters, err = newMetricPush(ctx, cfg.Metrics, reg, res); err != nil {
			return nil, err
		}
		if logs, err = newLogPush(ctx, cfg.Logs, res); err != nil {
			return nil, err
		}
	}
	stdout := cfg.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	var shipper *lokiShipper
	if cfg.Loki.URL != "" {
		shipper, err = newLokiShipper(cfg.Loki, map[string]string{
			"service":     cfg.Service,
			"environment": cfg.Environment,
		}, reg)
		if err != nil {
			return nil, err
		}
	}
	logger := newLogger(stdout, shipper, otlpHandler(logs, cfg.Service), cfg.LogLevel).With("service", cfg.Service)
	return &Telemetry{
		Service:     cfg.Service,
		Version:     cfg.Version,
		Environment: cfg.Environment,
		Logger:      logger,
		Registry:    reg,
		Tracer:      liveTracer{current: &tr.tracer},
		Propagator:  propagator,
		tracing:     tr,
		meters:      meters,
		logs:        logs,
		shipper:     shipper,
		versions:    newVersions(reg, cfg.Version),
		pull:        !cfg.Metrics.NoPull,
		unmeasured:  cfg.Metrics.Unmeasured,
	}, nil
}

// newPropagator builds the propagators OTEL_PROPAGATORS names, through the contrib registry
// that knows every name the specification lists.
func newPropagator(names []string) (propagation.TextMapPropagator, error) {
	if len(names) == 0 {
		names = []string{"tracecontext", "baggage"}
	}
	p, err := autoprop.TextMapPropagator(names...)
	if err != nil {
		return nil, fmt.Errorf("OTEL_PROPAGATORS: %w", err)
	}
	return p, nil
}

// Flush exports buffered spans, log records and (when pushed) metrics, and pushes buffered
// log lines now.
func (t *Telemetry) Flush(ctx context.Context) error {
	var err error
	for _, p := range t.tracing.providers() {
		err = errors.Join(err, p.ForceFlush(ctx))
	}
	if t.logs != nil {
		err = errors.Join(err, t.logs.ForceFlush(ctx))
	}
	if t.meters != nil {
		err = errors.Join(err, t.meters.ForceFlush(ctx))
	}
	if t.shipper != nil {
		err = errors.Join(err, t.shipper.Flush(ctx))
	}
	return err
}

// Shutdown flushes spans and logs, waiting at most until ctx is done.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var errs []error
	for _, p := range t.tracing.providers() {
		errs = append(errs, p.Shutdown(ctx))
	}
	t.tracing.retiring.Wait() // bounded: each retired provider's shutdown has its own timeout
	if t.logs != nil {
		errs = append(errs, t.logs.Shutdown(ctx))
	}
	// After the spans and logs: the last push then holds the final counts.
	if t.meters != nil {
		errs = append(errs, t.meters.Shutdown(ctx))
	}
	if t.shipper != nil {
		errs = append(errs, t.shipper.Close(ctx))
	}
	return errors.Join(errs...)
}
