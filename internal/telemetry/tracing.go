package telemetry

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// TraceConfig holds the standard OTEL_* settings, already read from the environment by main.
type TraceConfig struct {
	Disabled bool // OTEL_SDK_DISABLED=true: spans are still created for context, never exported
	// Exporters are OTEL_TRACES_EXPORTER's list: "otlp" (the default when empty), "console"
	// (JSON spans on the service's stdout), or none at all when the list holds only "none".
	Exporters      []string
	Endpoint       string // OTEL_EXPORTER_OTLP_ENDPOINT: base URL, /v1/traces is appended for http
	TracesEndpoint string // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: full URL, used as is
	Protocol       string // OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL: http/protobuf (default) or grpc
	Sampler        string // OTEL_TRACES_SAMPLER
	SamplerArg     string // OTEL_TRACES_SAMPLER_ARG

	// ServiceNameFromEnv lets OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES)
	// rename the service, as the specification asks. It is false in `pillars all`, where one
	// environment is shared by three services that must keep their own names.
	ServiceNameFromEnv bool

	Batch  BatchConfig
	Limits LimitConfig

	// Exporter replaces the OTLP exporter; tests use an in-memory one.
	Exporter sdktrace.SpanExporter
}

// BatchConfig are the batch span processor's settings (OTEL_BSP_*). Zero fields take the
// defaults below, which differ from the SDK's where a service of this kind needs it.
type BatchConfig struct {
	ScheduleDelay      time.Duration // OTEL_BSP_SCHEDULE_DELAY (default 1s: traces show up quickly)
	ExportTimeout      time.Duration // OTEL_BSP_EXPORT_TIMEOUT (default 10s)
	MaxQueueSize       int           // OTEL_BSP_MAX_QUEUE_SIZE (default 2048, the SDK's: the queue fills only while export fails, and then it is what memory grows by)
	MaxExportBatchSize int           // OTEL_BSP_MAX_EXPORT_BATCH_SIZE (default 512)
}

// LimitConfig bounds what one span may carry (OTEL_[SPAN_]ATTRIBUTE_*_LIMIT). Zero fields take
// the defaults below. The SDK's own default is no length limit at all, which lets one request
// with a huge header or path make a span, and so the batch it travels in, too large for the
// trace store: every span of that batch is then lost, not only the big one.
type LimitConfig struct {
	AttributeValueLength int // default 1024 bytes per string value
	AttributeCount       int // default 64 attributes per span
}

// Defaults of the batch processor and the span limits.
const (
	DefaultBatchScheduleDelay      = time.Second
	DefaultBatchExportTimeout      = 10 * time.Second
	DefaultBatchMaxQueueSize       = 2048
	DefaultBatchMaxExportBatchSize = 512
	DefaultAttributeValueLength    = 1024
	DefaultAttributeCount          = 64
)

type tracing struct {
	cfg   Config
	scope string
	// exporterShared: a test's in-memory exporter is shared by every provider a redeploy
	// makes; the OTLP exporter is made anew for each.
	exporterShared bool

	mu       sync.Mutex
	provider *sdktrace.TracerProvider
	retired  []*sdktrace.TracerProvider   // replaced by a redeploy, still shutting down
	retiring sync.WaitGroup               // the retired providers' shutdowns
	tracer   atomic.Pointer[trace.Tracer] // of the current provider
}

func newTracing(ctx context.Context, cfg Config) (*tracing, error) {
	tr := &tracing{cfg: cfg, scope: "github.com/pillars-o11y/pillars/" + cfg.Service, exporterShared: cfg.Trace.Exporter != nil}
	p, err := newProvider(ctx, cfg, tr.exporterShared)
	if err != nil {
		return nil, err
	}
	tr.provider = p
	tracer := p.Tracer(tr.scope)
	tr.tracer.Store(&tracer)
	return tr, nil
}

// newProvider makes a tracer provider for cfg: its resource, sampler, limits and exporter.
func newProvider(ctx context.Context, cfg Config, sharedExporter bool) (*sdktrace.TracerProvider, error) {
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sampler, err := parseSampler(cfg.Trace.Sampler, cfg.Trace.SamplerArg)
	if err != nil {
		return nil, err
	}
	var exporters []sdktrace.SpanExporter
	if !cfg.Trace.Disabled {
		if exporters, err = spanExporters(ctx, cfg, sharedExporter); err != nil {
			return nil, err
		}
	}
	if len(exporters) == 0 {
		// Nothing is exported (OTEL_SDK_DISABLED, or OTEL_TRACES_EXPORTER=none), so nothing is
		// sampled: spans still carry ids for log correlation and propagation, but no exemplar
		// points at a trace that does not exist.
		sampler = sdktrace.NeverSample()
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
		sdktrace.WithRawSpanLimits(spanLimits(cfg.Trace.Limits)),
		sdktrace.WithSpanProcessor(syntheticMarker()), // see synthetic.go
	}
	// The batch processor is what keeps export off the request path: ending a span is a
	// non-blocking enqueue, and a full queue drops spans instead of waiting.
	b := cfg.Trace.Batch
	for _, exp := range exporters {
		opts = append(opts, sdktrace.WithBatcher(exp,
			sdktrace.WithBatchTimeout(orDefault(b.ScheduleDelay, DefaultBatchScheduleDelay)),
			sdktrace.WithExportTimeout(orDefault(b.ExportTimeout, DefaultBatchExportTimeout)),
			sdktrace.WithMaxQueueSize(orDefault(b.MaxQueueSize, DefaultBatchMaxQueueSize)),
			sdktrace.WithMaxExportBatchSize(orDefault(b.MaxExportBatchSize, DefaultBatchMaxExportBatchSize))))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}

// spanExporters makes the exporters OTEL_TRACES_EXPORTER names (a test's own exporter
// replaces them all); "none" adds none.
func spanExporters(ctx context.Context, cfg Config, shared bool) ([]sdktrace.SpanExporter, error) {
	if shared {
		return []sdktrace.SpanExporter{keepOpen{cfg.Trace.Exporter}}, nil
	}
	names := cfg.Trace.Exporters
	if len(names) == 0 {
		names = []string{"otlp"}
	}
	var out []sdktrace.SpanExporter
	for _, name := range names {
		switch name {
		case "none":
		case "otlp":
			exp, err := newOTLPExporter(ctx, cfg.Trace)
			if err != nil {
				return nil, err
			}
			out = append(out, exp)
		case "console":
			w := cfg.Stdout
			if w == nil {
				w = io.Discard
			}
			exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
			if err != nil {
				return nil, err
			}
			out = append(out, exp)
		default:
			return nil, fmt.Errorf("OTEL_TRACES_EXPORTER %q: want otlp, console or none", name)
		}
	}
	return out, nil
}

// keepOpen shares an exporter between providers: a retired provider's shutdown must not close
// it for the current one.
type keepOpen struct{ sdktrace.SpanExporter }

func (keepOpen) Shutdown(context.Context) error { return nil }

// spanLimits are the SDK's limits (which it reads from OTEL_SPAN_* itself) with the value
// length and attribute count bounded by default.
func spanLimits(c LimitConfig) sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	l.AttributeValueLengthLimit = orDefault(c.AttributeValueLength, DefaultAttributeValueLength)
	l.AttributeCountLimit = orDefault(c.AttributeCount, DefaultAttributeCount)
	return l
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func newOTLPExporter(ctx context.Context, cfg TraceConfig) (sdktrace.SpanExporter, error) {
	protocol, url, err := otlpTarget(cfg.Protocol, cfg.TracesEndpoint, cfg.Endpoint, "traces")
	if err != nil {
		return nil, err
	}
	if protocol == protocolGRPC {
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(url))
	}
	return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url))
}

// newResource describes the service the way every OpenTelemetry user expects, through the
// SDK's own detectors: the telemetry.sdk.* attributes, the host, the process runtime,
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (percent-decoded as the specification says),
// and the schema URL of the semantic conventions the attributes follow.
//
// Precedence: service.version and the environment come from pillars' own settings;
// service.instance.id from the environment, else the Telemetry's own UUID;
// service.name comes from the environment when cfg.Trace.ServiceNameFromEnv, and otherwise
// stays the service's own.
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	name := semconv.ServiceName(cfg.Service)
	own := []attribute.KeyValue{
		semconv.ServiceVersion(cfg.Version),
		semconv.DeploymentEnvironmentNameKey.String(cfg.Environment),
		// Dashboards written for the older key still find it.
		attribute.String("deployment.environment", cfg.Environment),
	}
	opts := []resource.Option{
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
	}
	// A random service.instance.id, as the semantic conventions recommend, unless
	// OTEL_RESOURCE_ATTRIBUTES names one: metrics pushed over OTLP get their instance label
	// from it, so two replicas of a service never write the same series. One per Telemetry:
	// its traces, metrics and logs name the same instance.
	instance := cfg.instanceID
	if instance == "" {
		instance = uuid.NewString()
	}
	opts = append(opts, resource.WithAttributes(semconv.ServiceInstanceID(instance)))
	if cfg.Trace.ServiceNameFromEnv {
		opts = append(opts, resource.WithAttributes(name), resource.WithFromEnv(), resource.WithAttributes(own...))
	} else {
		opts = append(opts, resource.WithFromEnv(), resource.WithAttributes(append(own, name)...))
	}
	res, err := resource.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("resource attributes (OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	return res, nil
}

func parseSampler(name, arg string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q: want a ratio in [0,1]", arg)
		}
		return r, nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(r), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	default:
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER %q is not supported", name)
	}
}
