package telemetry

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// A service's version is part of its resource, which the SDK fixes when a tracer provider is
// made. To report another version at runtime, as after a deploy (the bad-deploy fault), the
// service gets a new provider with the new resource; the tracer every package holds follows
// it, and the old provider exports what it holds and is shut down.

// liveTracer starts spans on the service's current provider.
type liveTracer struct {
	embedded.Tracer
	current *atomic.Pointer[trace.Tracer]
}

func (l liveTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return (*l.current.Load()).Start(ctx, name, opts...)
}

// versions is the version a service reports now, and the pillars_build_info{version} gauge
// that says so to Prometheus.
type versions struct {
	mu      sync.Mutex
	current atomic.Value // string
	info    *prometheus.GaugeVec
}

func newVersions(reg prometheus.Registerer, version string) *versions {
	v := &versions{info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pillars_build_info",
		Help: "1 for the version the service reports (service.version of its spans).",
	}, []string{"version"})}
	reg.MustRegister(v.info)
	v.current.Store(version)
	v.info.WithLabelValues(version).Set(1)
	return v
}

// CurrentVersion is the version the service reports now.
func (t *Telemetry) CurrentVersion() string { return t.versions.current.Load().(string) }

// SetVersion makes the service report version from now on (empty: its own version again), in
// service.version of its new spans and in pillars_build_info, as a deployment of another build
// would.
func (t *Telemetry) SetVersion(ctx context.Context, version string) error {
	if version == "" {
		version = t.Version
	}
	v := t.versions
	v.mu.Lock()
	defer v.mu.Unlock()
	if version == v.current.Load().(string) {
		return nil
	}
	if err := t.tracing.redeploy(ctx, version); err != nil {
		return err
	}
	v.current.Store(version)
	v.info.Reset()
	v.info.WithLabelValues(version).Set(1)
	t.Logger.InfoContext(ctx, "Service version changed", "version", version)
	return nil
}

// redeploy swaps in a provider whose resource carries version, and retires the old one in
// the background: its Shutdown exports what its batch holds, then stops its processor
// goroutine and closes its exporter (and so its connection). Bounded by the export timeout, so
// a collector that is down cannot keep a retired provider alive; never on the request path.
func (tr *tracing) redeploy(ctx context.Context, version string) error {
	cfg := tr.cfg
	cfg.Version = version
	next, err := newProvider(ctx, cfg, tr.exporterShared)
	if err != nil {
		return err
	}
	tr.mu.Lock()
	old := tr.provider
	tr.provider = next
	tracer := next.Tracer(tr.scope)
	tr.tracer.Store(&tracer)
	tr.retired = append(tr.retired, old)
	tr.mu.Unlock()
	tr.retiring.Go(func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), orDefault(tr.cfg.Trace.Batch.ExportTimeout, DefaultBatchExportTimeout))
		defer cancel()
		_ = old.Shutdown(stop)
		tr.mu.Lock()
		tr.retired = slices.DeleteFunc(tr.retired, func(p *sdktrace.TracerProvider) bool { return p == old })
		tr.mu.Unlock()
	})
	return nil
}

// providers lists the current provider and the retired ones still stopping, for flush and
// shutdown (a second Shutdown of a provider waits for the first and returns nil).
func (tr *tracing) providers() []*sdktrace.TracerProvider {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]*sdktrace.TracerProvider{tr.provider}, tr.retired...)
}
