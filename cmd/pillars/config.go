package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// commonOptions are shared by every service command.
type commonOptions struct {
	environment     string
	logLevel        string
	lokiURL         string
	lokiBatchWait   time.Duration
	lokiBuffer      int
	lokiRetries     int
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	adminToken      string
	adminTokenFile  string
	requestFaults   string
	metrics         bool
}

func (o *commonOptions) register(f *flags) {
	f.String(&o.environment, "environment", "development", "deployment.environment of spans and the environment label of logs")
	f.String(&o.logLevel, "log-level", "info", "lowest log level written: debug, info, warn, error")
	f.String(&o.lokiURL, "loki-url", "", "Loki push URL, e.g. http://127.0.0.1:3100/loki/api/v1/push; empty ships no logs")
	f.Duration(&o.lokiBatchWait, "loki-batch-wait", time.Second, "longest a log line waits before it is pushed")
	f.Int(&o.lokiBuffer, "loki-buffer", 5000, "log lines held while Loki is slow or down; more are dropped and counted")
	f.Int(&o.lokiRetries, "loki-retries", 5, "retries of a failed push, with exponential backoff")
	f.Duration(&o.drainDelay, "drain-delay", 5*time.Second, "on SIGINT/SIGTERM, how long /ready answers 503 while requests are still served, so load balancers stop sending first")
	f.Bool(&o.metrics, "metrics", true, "record the request metrics (counters, histograms, exemplars); false is for measuring what they cost")
	f.String(&o.adminToken, "admin-token", "", "bearer token the admin endpoints (/admin/...) require; without one they are open on loopback only")
	f.String(&o.adminTokenFile, "admin-token-file", "", "file holding the admin token, created with a random one when missing (services sharing it share the token); --admin-token wins")
	f.String(&o.requestFaults, "request-faults", "auto", "honour the X-Pillars-Fault header (and its baggage): on, off, or auto (on while listening on loopback only)")
	f.Duration(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "after the drain delay, the time given to in-flight requests before they are cut off")
}

// telemetryConfig builds one service's telemetry settings from the flags and the standard
// OTEL_* variables. serviceNameOverride is false in `all`, where one OTEL_SERVICE_NAME would
// wrongly give three services one name. (OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are
// read by the SDK's resource detector itself, from the process environment.)
func (o *commonOptions) telemetryConfig(service string, getenv func(string) string, stdout interface {
	Write([]byte) (int, error)
}, serviceNameOverride bool) (telemetry.Config, error) {
	level, err := parseLevel(o.logLevel)
	if err != nil {
		return telemetry.Config{}, err
	}
	batch, limits, err := sdkSettings(getenv)
	if err != nil {
		return telemetry.Config{}, err
	}
	metrics, logs, err := signalExports(getenv)
	if err != nil {
		return telemetry.Config{}, err
	}
	metrics.Unmeasured = !o.metrics
	traces, propagators, err := traceExports(getenv)
	if err != nil {
		return telemetry.Config{}, err
	}
	tc := telemetry.TraceConfig{
		Disabled:           strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true"),
		Exporters:          traces,
		Endpoint:           getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		TracesEndpoint:     getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		Protocol:           firstNonEmpty(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL")),
		Sampler:            getenv("OTEL_TRACES_SAMPLER"),
		SamplerArg:         getenv("OTEL_TRACES_SAMPLER_ARG"),
		ServiceNameFromEnv: serviceNameOverride,
		Batch:              batch,
		Limits:             limits,
	}
	return telemetry.Config{
		Service:     service,
		Version:     version(),
		Environment: o.environment,
		Trace:       tc,
		Metrics:     metrics,
		Logs:        logs,
		Loki: telemetry.LokiConfig{
			URL:       o.lokiURL,
			BatchWait: o.lokiBatchWait,
			Buffer:    o.lokiBuffer,
			Retries:   o.lokiRetries,
		},
		Propagators: propagators,
		LogLevel:    level,
		Stdout:      stdout,
	}, nil
}

// sdkSettings reads the batch span processor's and the span limits' standard variables. The
// SDK would read them itself, but explicit options win over them, so they are read here and
// passed on: a variable the user set always takes effect.
func sdkSettings(getenv func(string) string) (telemetry.BatchConfig, telemetry.LimitConfig, error) {
	var errs []error
	millis := func(name string) time.Duration {
		n := positiveInt(getenv, name, &errs)
		return time.Duration(n) * time.Millisecond
	}
	batch := telemetry.BatchConfig{
		ScheduleDelay:      millis("OTEL_BSP_SCHEDULE_DELAY"),
		ExportTimeout:      millis("OTEL_BSP_EXPORT_TIMEOUT"),
		MaxQueueSize:       positiveInt(getenv, "OTEL_BSP_MAX_QUEUE_SIZE", &errs),
		MaxExportBatchSize: positiveInt(getenv, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &errs),
	}
	// The span-specific variable wins over the general one, as the specification says.
	limits := telemetry.LimitConfig{
		AttributeValueLength: cmp.Or(positiveInt(getenv, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", &errs),
			positiveInt(getenv, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", &errs)),
		AttributeCount: cmp.Or(positiveInt(getenv, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", &errs),
			positiveInt(getenv, "OTEL_ATTRIBUTE_COUNT_LIMIT", &errs)),
	}
	if err := errors.Join(errs...); err != nil {
		return batch, limits, usageError{err}
	}
	return batch, limits, nil
}

// positiveInt reads a variable holding a positive integer; unset is 0, and anything else is
// an error added to errs.
func positiveInt(getenv func(string) string, name string, errs *[]error) int {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q: want a positive integer", name, v))
		return 0
	}
	return n
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", s)}
	}
	return l, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

type frontendOptions struct {
	faults                 string
	addr                   string
	backendURL             string
	selfURL                string // the frontend's own listener, for its traffic generator
	backendTimeout         time.Duration
	trafficRate            float64
	trafficUsers           int
	continueIncomingTraces bool
	databaseURL            string // the database's admin API, for scenarios
	traceURLTemplate       string
	scenarios              scenarioOptions
}

// scenarioOptions are the frontend's scenario runner's flags.
type scenarioOptions struct {
	dir        string
	start      string
	chaos      time.Duration
	chaosBlind bool
}

// register adds the frontend's flags. In `all` the backend is in the same process and its URL
// comes from its listener, so --backend-url exists only for the standalone command.
func (o *frontendOptions) register(f *flags, defaultRate float64, standalone bool) {
	f.String(&o.addr, "frontend-addr", "127.0.0.1:8001", "frontend listen address")
	if standalone {
		f.String(&o.backendURL, "backend-url", "http://127.0.0.1:8002", "backend base URL")
		f.String(&o.databaseURL, "database-url", "http://127.0.0.1:8003",
			"database service base URL, for its admin API only: scenarios change the database's faults (the frontend reads no data from it)")
	}
	f.Duration(&o.backendTimeout, "backend-timeout", 5*time.Second, "deadline of one backend call")
	f.Float(&o.trafficRate, "traffic-rate", defaultRate, "built-in traffic at start, requests per second (0: idle); steered at runtime through /admin/traffic")
	f.Int(&o.trafficUsers, "traffic-users", 200, "simulated visitors the built-in traffic draws from")
	f.String(&o.faults, "frontend-faults", "", `frontend faults at start, as PUT /admin/faults takes them, e.g. {"retries":2}`)
	f.Bool(&o.continueIncomingTraces, "continue-incoming-traces", false,
		"continue callers' W3C trace context instead of starting a new trace linked to it (for a frontend behind your own traced proxy)")
	f.String(&o.traceURLTemplate, "trace-url-template", "",
		"link the trace id on the pages and in the console to a trace viewer: an http(s) URL with {trace_id} where the id goes (without one, the pages show the pillars trace command)")
	f.String(&o.scenarios.dir, "scenarios", "", "folder of scenario files (*.yaml) to offer instead of the built-in library")
	f.String(&o.scenarios.start, "scenario", "", "scenario to start at once, by name (see 'pillars scenario list')")
	f.Duration(&o.scenarios.chaos, "chaos", 0, "chaos mode: start a random scenario at this interval while none runs, e.g. 30m; 0 is off")
	f.Bool(&o.scenarios.chaosBlind, "chaos-blind", false, "in chaos mode, run the scenarios blind: unnamed until 'pillars scenario reveal'")
}

type backendOptions struct {
	faults          string
	addr            string
	databaseURL     string
	cacheTTL        time.Duration
	cacheSize       int
	databaseTimeout time.Duration
}

func (o *backendOptions) register(f *flags, standalone bool) {
	f.String(&o.addr, "backend-addr", "127.0.0.1:8002", "backend listen address")
	if standalone {
		f.String(&o.databaseURL, "database-url", "http://127.0.0.1:8003", "database service base URL")
	}
	f.Duration(&o.cacheTTL, "cache-ttl", 30*time.Second, "how long a successful answer stays cached")
	f.Int(&o.cacheSize, "cache-size", 10000, "cache entries kept at most (least recently used evicted)")
	f.Duration(&o.databaseTimeout, "database-timeout", 2*time.Second, "deadline of one database call")
	f.String(&o.faults, "backend-faults", "", `backend faults at start, as PUT /admin/faults takes them, e.g. {"cache_off":true}`)
}

type databaseOptions struct {
	faults             string
	addr               string
	dbPath             string
	dbURL              string
	slowQueryThreshold time.Duration
	queryLatency       time.Duration
	queryJitter        time.Duration
	queryErrorRate     float64
}

func (o *databaseOptions) register(f *flags) {
	f.String(&o.addr, "database-addr", "127.0.0.1:8003", "database service listen address")
	f.String(&o.dbURL, "db-url", "", "PostgreSQL database the replicas share, postgres://user:password@host:5432/db (prefer the variable: a flag shows in ps); empty uses SQLite at --db-path")
	f.String(&o.dbPath, "db-path", "pillars.db", "SQLite file, created and seeded on first start (when --db-url is empty)")
	f.Duration(&o.slowQueryThreshold, "slow-query-threshold", 100*time.Millisecond, "queries slower than this are counted and logged as slow")
	f.Duration(&o.queryLatency, "query-latency", 0, "fault: latency added to every query (also settable at runtime: PUT /admin/faults)")
	f.Duration(&o.queryJitter, "query-jitter", 0, "fault: random extra latency, uniform in [0, jitter)")
	f.Float(&o.queryErrorRate, "query-error-rate", 0, "fault: share of queries that fail, 0..1")
	f.String(&o.faults, "database-faults", "", `database faults at start, as PUT /admin/faults takes them, e.g. {"missing_index":true} (the query-* flags add to them)`)
}
