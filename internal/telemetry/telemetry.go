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
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Config describes one service's telemetry.
type Config struct {
	Service     string // service.name and the `service` log label: frontend, backend, database
	Version     string // service.version
	Environment string // deployment.environment and the `environment` log label

	Trace TraceConfig
	Loki  LokiConfig

	LogLevel slog.Level
	Stdout   io.Writer // where JSON log lines go; nil means io.Discard
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
	shipper  *lokiShipper
	versions *versions
}

// New builds the telemetry of one service. It never dials anything: exporters connect lazily
// and in the background, so a service starts even when no backend is up.
func New(ctx context.Context, cfg Config) (*Telemetry, error) {
	if cfg.Service == "" {
		return nil, errors.New("telemetry: service name is required")
	}
	reg := NewRegistry()
	tr, err := newTracing(ctx, cfg)
	if err != nil {
		return nil, err
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
	logger := newLogger(stdout, shipper, cfg.LogLevel).With("service", cfg.Service)
	return &Telemetry{
		Service:     cfg.Service,
		Version:     cfg.Version,
		Environment: cfg.Environment,
		Logger:      logger,
		Registry:    reg,
		Tracer:      liveTracer{current: &tr.tracer},
		Propagator:  propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		tracing:     tr,
		shipper:     shipper,
		versions:    newVersions(reg, cfg.Version),
	}, nil
}

// Flush exports buffered spans and pushes buffered log lines now.
func (t *Telemetry) Flush(ctx context.Context) error {
	var err error
	for _, p := range t.tracing.providers() {
		err = errors.Join(err, p.ForceFlush(ctx))
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
	if t.shipper != nil {
		errs = append(errs, t.shipper.Close(ctx))
	}
	return errors.Join(errs...)
}
