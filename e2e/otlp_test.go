//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// otlpStack is a second, smaller stack in which the services export every signal over OTLP
// only (OTEL_METRICS_EXPORTER=otlp, OTEL_LOGS_EXPORTER=otlp, no Loki push, nothing scraped)
// to the real OpenTelemetry Collector with deploy/local/otelcol.yaml, which routes traces to
// Jaeger, metrics to Prometheus by remote write and logs to VictoriaLogs. Its processes are
// its own, so nothing it counts mixes with the main stack's.
type otlpStack struct {
	*stack
	collectorGRPC string
}

// metricExportInterval replaces the 5s default so that pushed metrics arrive within a second.
const metricExportInterval = "500"

func startOTLPStack(t *testing.T) *otlpStack {
	t.Helper()
	ports, err := freePorts(12)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	dir := t.TempDir()
	s := &stack{repo: stk.repo, tools: stk.tools, dir: dir, logDir: filepath.Join(dir, "logs"),
		pillars: stk.pillars, byName: map[string]*proc{}}
	if err := os.MkdirAll(s.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.prometheus, s.victoriaLogs, s.jaegerQuery, s.jaegerOTLP = addr(0), addr(1), addr(2), addr(3)
	s.frontend, s.backend, s.database = addr(4), addr(5), addr(6)
	o := &otlpStack{stack: s, collectorGRPC: addr(7)}
	if err := s.openReaders(); err != nil {
		t.Fatal(err)
	}
	// Nothing to scrape: every sample comes in through the remote-write receiver.
	promConfig := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promConfig, []byte("global:\n  evaluation_interval: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := cleanEnv()
	s.add("prometheus", base, s.tool("prometheus"),
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus"),
		"--web.listen-address="+s.prometheus,
		"--enable-feature=exemplar-storage",
		"--web.enable-remote-write-receiver",
	).ready = "http://" + s.prometheus + "/-/ready"
	s.add("victoria-logs", base, s.tool("victoria-logs"),
		"-httpListenAddr="+s.victoriaLogs,
		"-storageDataPath="+filepath.Join(dir, "victoria-logs"),
	).ready = "http://" + s.victoriaLogs + "/health"
	s.add("jaeger", with(base,
		"JAEGER_OTLP_HTTP="+s.jaegerOTLP,
		"JAEGER_OTLP_GRPC="+addr(8),
		"JAEGER_QUERY_HTTP="+s.jaegerQuery,
		"JAEGER_QUERY_GRPC=127.0.0.1:0",
		"JAEGER_LOG_LEVEL=warn",
	), s.tool("jaeger"), "--config="+filepath.Join(s.repo, "deploy", "local", "jaeger.yaml"),
	).ready = "http://" + s.jaegerQuery + "/api/services"
	health := addr(9)
	s.add("otelcol", with(base,
		"OTELCOL_OTLP_GRPC="+o.collectorGRPC,
		"OTELCOL_OTLP_HTTP="+addr(10),
		"OTELCOL_HEALTH="+health,
		"OTELCOL_TELEMETRY_PORT="+strings.TrimPrefix(addr(11), "127.0.0.1:"),
		"OTELCOL_JAEGER_OTLP_HTTP="+s.jaegerOTLP,
		"OTELCOL_PROMETHEUS="+s.prometheus,
		"OTELCOL_VICTORIALOGS="+s.victoriaLogs,
		"OTELCOL_LOG_LEVEL=warn",
	), s.tool("otelcol"), "--config="+filepath.Join(s.repo, "deploy", "local", "otelcol.yaml"),
	).ready = "http://" + health + "/"

	// gRPC here, where the main stack uses HTTP: both exporters of every signal are exercised.
	svc := with(base,
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+o.collectorGRPC,
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_METRICS_EXPORTER=otlp",
		"OTEL_LOGS_EXPORTER=otlp",
		"OTEL_METRIC_EXPORT_INTERVAL="+metricExportInterval,
	)
	common := []string{"--environment=" + environment, "--log-level=debug", "--drain-delay=0"}
	s.add("database", svc, s.pillars, append([]string{"database",
		"--database-addr=" + s.database,
		"--db-path=" + filepath.Join(dir, "pillars.db"),
	}, common...)...).ready = "http://" + s.database + "/ready"
	s.add("backend", svc, s.pillars, append([]string{"backend",
		"--backend-addr=" + s.backend,
		"--database-url=http://" + s.database,
	}, common...)...).ready = "http://" + s.backend + "/ready"
	s.add("frontend", svc, s.pillars, append([]string{"frontend",
		"--frontend-addr=" + s.frontend,
		"--backend-url=http://" + s.backend,
		"--traffic-rate=0",
		// As in the main stack: pillars verify's requests carry their own traceparent.
		"--continue-incoming-traces",
	}, common...)...).ready = "http://" + s.frontend + "/ready"

	t.Cleanup(func() {
		if err := s.stopAll(); err != nil {
			t.Error(err)
		}
		if races := s.dataRaces(); len(races) > 0 {
			t.Errorf("the race detector fired in %v", races)
		}
		if t.Failed() {
			s.dumpLogs(os.Stderr)
		}
		for _, p := range s.procs {
			p.kill()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	for _, p := range s.procs {
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range s.procs {
		if err := p.waitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("OTLP stack up in %s", time.Since(start).Round(100*time.Millisecond))
	return o
}

// getUser requests /user/{id} of this stack's frontend with ids no other request used, until
// one is a cache miss (so the trace reaches the database), and returns its trace id and id.
func (o *otlpStack) getUncachedUser(t *testing.T) (traceID string, id int) {
	t.Helper()
	for range 20 {
		id = 1 + rand.IntN(5000)
		r := do(t, http.MethodGet, fmt.Sprintf("http://%s/user/%d", o.frontend, id), nil)
		var body struct {
			Cache string `json:"cache"`
		}
		if r.status == http.StatusOK && json.Unmarshal(r.body, &body) == nil && body.Cache == "miss" && r.traceID != "" {
			return r.traceID, id
		}
	}
	t.Fatal("no cache miss in 20 requests for random users")
	return "", 0
}

// Over OTLP and through the Collector, one request still leaves the seed's three signals:
// one trace with every service's spans, its log lines with its trace id and the push path's
// labels, and the seed's metrics under their own names and labels in Prometheus, with an
// exemplar naming the trace.
func TestOTLPPath(t *testing.T) {
	o := startOTLPStack(t)
	traceID, id := o.getUncachedUser(t)
	ctx := context.Background()

	t.Run("trace", func(t *testing.T) {
		var tr readback.Trace
		eventually(t, 20*time.Second, "trace "+traceID+" in Jaeger", func() error {
			var err error
			if tr, err = o.traces.Trace(ctx, traceID); err != nil {
				return err
			}
			for _, n := range []string{"frontend_get_user", "backend_get_user", "database_get_user", "query_execution"} {
				if len(tr.ByName(n)) == 0 {
					return fmt.Errorf("no span %q yet; have %s", n, tr)
				}
			}
			return nil
		})
		if got := tr.Services(); !slices.Equal(got, []string{"backend", "database", "frontend"}) {
			t.Errorf("services %v, want all three", got)
		}
	})

	t.Run("logs", func(t *testing.T) {
		want := map[string]string{ // message → service
			fmt.Sprintf("Fetching user %d", id):                   "frontend",
			fmt.Sprintf("Processing user request for ID: %d", id): "backend",
			fmt.Sprintf("Querying user %d from database", id):     "database",
		}
		var lines []readback.LogLine
		eventually(t, 20*time.Second, "log lines of trace "+traceID, func() error {
			var err error
			if lines, err = o.logs.Query(ctx, o.logs.TraceQuery(traceID), time.Time{}, time.Time{}, 1000); err != nil {
				return err
			}
			found := 0
			for _, l := range lines {
				if svc, ok := want[l.Message()]; ok && l.Service() == svc {
					found++
				}
			}
			if found < len(want) {
				return fmt.Errorf("%d of the %d lines yet; have %v", found, len(want), lines)
			}
			return nil
		})
		for _, l := range lines {
			// The labels the push path gives its streams, as stream fields here too.
			for _, label := range []string{"service", "level", "environment"} {
				if l.Stream[label] == "" {
					t.Errorf("line %q: no stream label %s (stream %v)", l.Message(), label, l.Stream)
				}
			}
			if l.Stream["environment"] != environment || !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level()) {
				t.Errorf("line %q: environment %q level %q", l.Message(), l.Stream["environment"], l.Level())
			}
			if l.TraceID() != traceID {
				t.Errorf("line %q: trace_id %q, want %s", l.Message(), l.TraceID(), traceID)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		for _, q := range []string{
			`frontend_requests_total{job="frontend",method="GET",endpoint="/user/{id}",status="200"}`,
			`database_queries_total{job="database",operation="SELECT",table="users",status="success"}`,
			`backend_cache_operations_total{job="backend",operation="miss"}`,
			`frontend_request_duration_seconds_bucket{job="frontend",endpoint="/user/{id}",le="+Inf"}`,
			`frontend_request_duration_seconds_count{job="frontend",endpoint="/user/{id}"}`,
		} {
			eventually(t, 20*time.Second, q+" in Prometheus", func() error {
				v, err := o.prom.Sum(ctx, q)
				if err == nil && v < 1 {
					err = fmt.Errorf("%s = %v, want ≥ 1", q, v)
				}
				return err
			})
		}
		// The series carry the metric's own labels and job/instance: no otel_scope_* or other
		// labels that a scrape would not have given.
		series, err := o.prom.Series(ctx, []string{`{__name__=~"frontend_requests_total|database_queries_total"}`}, time.Now().Add(-5*time.Minute), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		allowed := map[string][]string{
			"frontend_requests_total": {"__name__", "job", "instance", "method", "endpoint", "status"},
			"database_queries_total":  {"__name__", "job", "instance", "operation", "table", "status"},
		}
		for _, s := range series {
			// instance is the service.instance.id: replicas of a service write apart.
			if s["instance"] == "" {
				t.Errorf("series %v has no instance label", s)
			}
			for name := range s {
				if !slices.Contains(allowed[s["__name__"]], name) {
					t.Errorf("series %v has label %q, which a scrape would not give", s, name)
				}
			}
		}
		// The exemplar names the trace: the bridge's ids reached Prometheus decoded.
		eventually(t, 20*time.Second, "an exemplar naming "+traceID, func() error {
			now := time.Now()
			exs, err := o.prom.Exemplars(ctx, `frontend_requests_total{job="frontend",endpoint="/user/{id}"}`, now.Add(-5*time.Minute), now.Add(time.Minute))
			if err != nil {
				return err
			}
			var seen []string
			for _, s := range exs {
				for _, e := range s.Exemplars {
					if e.Labels["trace_id"] == traceID {
						return nil
					}
					seen = append(seen, e.Labels["trace_id"])
				}
			}
			return fmt.Errorf("exemplars name %v", seen)
		})
	})

	// The same checks a person runs against a deployment pass on this path too.
	t.Run("pillars verify", func(t *testing.T) {
		r := runVerify(t, true,
			"--frontend-url=http://"+o.frontend,
			"--prometheus-url=http://"+o.prometheus,
			"--traces-url=http://"+o.jaegerQuery,
			"--logs-url=http://"+o.victoriaLogs)
		if r.exit != 0 || !r.report.Passed {
			t.Errorf("pillars verify exited %d on the OTLP path:\n%s\nstderr:\n%s", r.exit, r.stdout, r.stderr)
		}
	})

	// Pushed, not pulled: a scraper finds nothing to count twice.
	t.Run("no /metrics", func(t *testing.T) {
		for _, addr := range []string{o.frontend, o.backend, o.database} {
			r := do(t, http.MethodGet, "http://"+addr+"/metrics", nil)
			if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "OTEL_METRICS_EXPORTER") {
				t.Errorf("GET %s/metrics: %d %s; want 404 saying metrics are pushed", addr, r.status, r.body)
			}
		}
	})
}
