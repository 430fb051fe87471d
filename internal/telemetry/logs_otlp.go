package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// LogsConfig is OTEL_LOGS_EXPORTER and the OTLP log exporter's settings, read from the
// environment by main. Unlike the specification, whose default is otlp, logs go over OTLP
// only when asked: the services' default is the line on stdout and the Loki push.
type LogsConfig struct {
	OTLP         bool   // OTEL_LOGS_EXPORTER=otlp
	Endpoint     string // OTEL_EXPORTER_OTLP_ENDPOINT
	LogsEndpoint string // OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, used as is
	Protocol     string // OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL

	// Exporter replaces the OTLP exporter; tests use an in-memory one.
	Exporter sdklog.Exporter
}

// logAttributeCount bounds the attributes of one OTLP log record, as the span limits do for
// spans; string values are already bounded by the logger (maxLogValue).
const logAttributeCount = 64

// newLogPush returns the provider that exports log records over OTLP through a batch
// processor (a bounded queue that drops when full, off the request path), or nil when
// OTLP export of logs is off.
func newLogPush(ctx context.Context, cfg LogsConfig, res *resource.Resource) (*sdklog.LoggerProvider, error) {
	if !cfg.OTLP {
		return nil, nil
	}
	exp := cfg.Exporter
	if exp == nil {
		var err error
		if exp, err = newOTLPLogExporter(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return sdklog.NewLoggerProvider(
		sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)),
		sdklog.WithAttributeCountLimit(logAttributeCount),
		sdklog.WithAttributeValueLengthLimit(maxLogValue),
	), nil
}

func newOTLPLogExporter(ctx context.Context, cfg LogsConfig) (sdklog.Exporter, error) {
	protocol, url, err := otlpTarget(cfg.Protocol, cfg.LogsEndpoint, cfg.Endpoint, "logs")
	if err != nil {
		return nil, err
	}
	if protocol == protocolGRPC {
		return otlploggrpc.New(ctx, otlploggrpc.WithEndpointURL(url))
	}
	return otlploghttp.New(ctx, otlploghttp.WithEndpointURL(url))
}

// otlpHandler is the slog handler that turns records into OTLP log records: severity from
// the level, body the message, the attributes as attributes, and the trace and span ids
// from the context, as the SDK takes them.
func otlpHandler(provider *sdklog.LoggerProvider, service string) slog.Handler {
	if provider == nil {
		return nil
	}
	return levelAttr{otelslog.NewHandler("github.com/pillars-o11y/pillars/"+service, otelslog.WithLoggerProvider(provider))}
}

// levelAttr adds the attribute level (debug, info, warn, error: the value of the Loki push's
// level label) to every record. A Collector can make it a resource attribute, and so a
// stream label, as the push path has it; the severity alone cannot become one.
type levelAttr struct{ slog.Handler }

func (h levelAttr) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(slog.String("level", levelName(r.Level)))
	return h.Handler.Handle(ctx, r)
}

func (h levelAttr) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelAttr{h.Handler.WithAttrs(attrs)}
}

func (h levelAttr) WithGroup(name string) slog.Handler { return levelAttr{h.Handler.WithGroup(name)} }
