package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/frontend"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// mode is how much telemetry the services emit.
type mode int

const (
	// allSignals: 100 % sampling, spans exported over OTLP/HTTP, exemplars, logs pushed to a
	// Loki endpoint, metrics collected (and scraped by nobody, as between two scrapes).
	allSignals mode = iota
	// telemetryOff: OTEL_SDK_DISABLED and no Loki URL; metrics still count, as they cannot be
	// turned off, but no span is sampled so no exemplar is attached.
	telemetryOff
)

// sink accepts OTLP and Loki pushes and throws them away, counting the bytes: the cost
// measured is the services', not a backend's, and the volume shows whether everything was
// exported (a batch processor that drops spans under load would look cheaper).
type sink struct {
	url              string
	otlpBytes, lokiB atomic.Int64
}

func newSink(b *testing.B) *sink {
	s := &sink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/v1/traces" {
			s.otlpBytes.Add(n)
		} else {
			s.lokiB.Add(n)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func newTelemetry(b *testing.B, service string, m mode, sinkURL string) *telemetry.Telemetry {
	cfg := telemetry.Config{Service: service, Version: "bench", Environment: "bench", Stdout: io.Discard}
	switch m {
	case allSignals:
		cfg.Trace = telemetry.TraceConfig{Endpoint: sinkURL, Sampler: "always_on"}
		cfg.Loki = telemetry.LokiConfig{URL: sinkURL + "/loki/api/v1/push"}
	case telemetryOff:
		cfg.Trace = telemetry.TraceConfig{Disabled: true}
	}
	tel, err := telemetry.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// stack is what load measures: a URL, and a flush that makes the background telemetry work
// of the requests sent so far happen now, so that it is inside the measurement.
type stack struct {
	url   string
	flush func()
	sink  *sink // nil for the relay
}

// pillars starts the three real services on loopback.
// cacheTTL of a nanosecond makes every request go down to SQLite.
func pillars(b *testing.B, m mode, cacheTTL time.Duration) stack {
	ctx := context.Background()
	sk := newSink(b)
	sinkURL := sk.url

	dbTel := newTelemetry(b, "database", m, sinkURL)
	db, err := database.New(ctx, database.Config{Path: filepath.Join(b.TempDir(), "bench.db")}, dbTel)
	if err != nil {
		b.Fatal(err)
	}
	dbSrv := httptest.NewServer(db.Handler())
	b.Cleanup(func() { dbSrv.Close(); _ = db.Close() })

	beTel := newTelemetry(b, "backend", m, sinkURL)
	be, err := backend.New(ctx, backend.Config{CacheTTL: cacheTTL, DatabaseURL: dbSrv.URL}, beTel)
	if err != nil {
		b.Fatal(err)
	}
	beSrv := httptest.NewServer(be.Handler())
	b.Cleanup(func() { beSrv.Close(); _ = be.Close() })

	feTel := newTelemetry(b, "frontend", m, sinkURL)
	fe, err := frontend.New(ctx, frontend.Config{BackendURL: beSrv.URL}, feTel)
	if err != nil {
		b.Fatal(err)
	}
	feSrv := httptest.NewServer(fe.Handler())
	b.Cleanup(func() { feSrv.Close(); _ = fe.Close() })
	return stack{url: feSrv.URL, sink: sk, flush: func() {
		for _, tel := range []*telemetry.Telemetry{feTel, beTel, dbTel} {
			_ = tel.Flush(ctx)
		}
	}}
}

// relay starts a bare net/http chain of the same number of hops: each hop forwards the
// request to the next and copies the answer back; the last answers a fixed JSON body of the
// size of a user answer. No telemetry, no cache, no database: the floor.
func relay(b *testing.B, hops int) stack {
	body := []byte(`{"user":{"id":123,"name":"Ada Lovelace","email":"ada.lovelace123@example.com","tier":"gold","created_at":"2024-01-02T03:04:05Z","order_count":7,"lifetime_spend_cents":123456},"cache":"hit"}`)
	last := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(last.Close)
	next := last.URL
	client := newClient()
	for range hops - 1 {
		target := next
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, target+r.URL.Path, nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		}))
		b.Cleanup(srv.Close)
		next = srv.URL
	}
	return stack{url: next, flush: func() {}}
}

func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 256
	return &http.Client{Transport: tr}
}

// load sends GET base+path(i) from 8 goroutines per core and reports requests per second.
// Every answer must be a 200: a benchmark of failing requests measures nothing.
func load(b *testing.B, s stack, path func(i int64) string) {
	base := s.url
	client := newClient()
	// A browser keeps the visitor cookie the frontend sets; so does this client.
	client.Jar, _ = cookiejar.New(nil)
	var n atomic.Int64
	// Warm the connection pools and, for cached paths, the cache.
	for i := range int64(200) {
		get(b, client, base+path(i))
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	s.flush()
	var otlp0, loki0 int64
	if s.sink != nil {
		otlp0, loki0 = s.sink.otlpBytes.Load(), s.sink.lokiB.Load()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gc0 := ms.NumGC
	b.ResetTimer()
	start, cpuStart := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			get(b, client, base+path(n.Add(1)))
		}
	})
	s.flush()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	// CPU time per request (client, services and background exporters together) is what
	// throughput is made of on a saturated machine, and unlike req/s it barely moves when
	// another process shares the cores.
	b.ReportMetric(float64((cpuTime()-cpuStart).Microseconds())/float64(b.N), "cpu-µs/op")
	// Garbage collections per thousand requests: telemetry's cost is largely its garbage,
	// and how often the collector runs depends on the heap the whole process keeps.
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.NumGC-gc0)*1000/float64(b.N), "gc/kreq")
	if s.sink != nil {
		// Compressed log bytes and uncompressed span bytes shipped per request.
		b.ReportMetric(float64(s.sink.otlpBytes.Load()-otlp0)/float64(b.N), "otlp-B/op")
		b.ReportMetric(float64(s.sink.lokiB.Load()-loki0)/float64(b.N), "loki-B/op")
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func get(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s", url, resp.Status)
	}
}

// hotUsers cycles over 100 users: after the warm-up every request is a cache hit, so the
// path is client → frontend → backend (two hops).
func hotUsers(i int64) string { return "/user/" + strconv.FormatInt(1+i%100, 10) }

// anyUser walks the whole user range with the cache off: client → frontend → backend →
// database (three hops) and a SQLite transaction per request.
func anyUser(i int64) string { return "/user/" + strconv.FormatInt(1+i%database.MaxUserID, 10) }

func BenchmarkCachedUser(b *testing.B) {
	b.Run("relay", func(b *testing.B) { load(b, relay(b, 2), hotUsers) })
	b.Run("telemetry=off", func(b *testing.B) { load(b, pillars(b, telemetryOff, 0), hotUsers) })
	b.Run("telemetry=all", func(b *testing.B) { load(b, pillars(b, allSignals, 0), hotUsers) })
}

func BenchmarkUncachedUser(b *testing.B) {
	b.Run("relay", func(b *testing.B) { load(b, relay(b, 3), anyUser) })
	b.Run("telemetry=off", func(b *testing.B) { load(b, pillars(b, telemetryOff, time.Nanosecond), anyUser) })
	b.Run("telemetry=all", func(b *testing.B) { load(b, pillars(b, allSignals, time.Nanosecond), anyUser) })
}
