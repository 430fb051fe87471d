package telemetry

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
)

// TraceConfig holds the standard OTEL_* settings, already read from the environment by main.
type TraceConfig struct {
	Disabled           bool   // OTEL_SDK_DISABLED=true: spans are still created for context, never exported
	Endpoint           string // OTEL_EXPORTER_OTLP_ENDPOINT: base URL, /v1/traces is appended for http
	TracesEndpoint     string // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: full URL, used as is
	Protocol           string // OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (default) or grpc
	Sampler            string // OTEL_TRACES_SAMPLER
	SamplerArg         string // OTEL_TRACES_SAMPLER_ARG
	ResourceAttributes string // OTEL_RESOURCE_ATTRIBUTES: k=v,k2=v2
	ServiceName        string // OTEL_SERVICE_NAME: overrides service.name on spans only

	// Exporter replaces the OTLP exporter; tests use an in-memory one.
	Exporter sdktrace.SpanExporter
}

type tracing struct {
	provider *sdktrace.TracerProvider
}

func newTracing(ctx context.Context, cfg Config) (*tracing, error) {
	res, err := newResource(cfg)
	if err != nil {
		return nil, err
	}
	sampler, err := parseSampler(cfg.Trace.Sampler, cfg.Trace.SamplerArg)
	if err != nil {
		return nil, err
	}
	if cfg.Trace.Disabled {
		// Nothing is exported, so nothing is sampled: spans still carry ids for log
		// correlation and propagation, but no exemplar points at a trace that does not exist.
		sampler = sdktrace.NeverSample()
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
	if !cfg.Trace.Disabled {
		exp := cfg.Trace.Exporter
		if exp == nil {
			if exp, err = newOTLPExporter(ctx, cfg.Trace); err != nil {
				return nil, err
			}
		}
		// The batch processor is what keeps export off the request path: ending a span is a
		// non-blocking enqueue, and a full queue drops spans instead of waiting.
		opts = append(opts, sdktrace.WithBatcher(exp,
			sdktrace.WithBatchTimeout(time.Second),
			sdktrace.WithMaxQueueSize(8192),
			sdktrace.WithExportTimeout(10*time.Second)))
	}
	return &tracing{provider: sdktrace.NewTracerProvider(opts...)}, nil
}

func newOTLPExporter(ctx context.Context, cfg TraceConfig) (sdktrace.SpanExporter, error) {
	protocol := cfg.Protocol
	if protocol == "" {
		protocol = "http/protobuf"
	}
	switch protocol {
	case "grpc":
		url := cfg.TracesEndpoint
		if url == "" {
			url = cfg.Endpoint
		}
		if url == "" {
			url = "http://localhost:4317"
		}
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(url))
	case "http/protobuf", "http/json":
		url := cfg.TracesEndpoint
		if url == "" {
			base := cfg.Endpoint
			if base == "" {
				base = "http://localhost:4318"
			}
			url = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url))
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", protocol)
	}
}

func newResource(cfg Config) (*resource.Resource, error) {
	name := cfg.Service
	if cfg.Trace.ServiceName != "" {
		name = cfg.Trace.ServiceName
	}
	attrs := []attribute.KeyValue{
		semconv.ServiceName(name),
		semconv.ServiceVersion(cfg.Version),
		semconv.DeploymentEnvironmentName(cfg.Environment),
		// The seed and most dashboards still use the older key; carry both.
		attribute.String("deployment.environment", cfg.Environment),
	}
	extra, err := parseResourceAttributes(cfg.Trace.ResourceAttributes)
	if err != nil {
		return nil, err
	}
	// Our own attributes win over OTEL_RESOURCE_ATTRIBUTES: service.name must stay per service
	// in `pillars all`, where one environment is shared by three services.
	return resource.NewSchemaless(append(extra, attrs...)...), nil
}

func parseResourceAttributes(s string) ([]attribute.KeyValue, error) {
	var out []attribute.KeyValue
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %q is not key=value", pair)
		}
		out = append(out, attribute.String(strings.TrimSpace(k), strings.TrimSpace(v)))
	}
	return out, nil
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
