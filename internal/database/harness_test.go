package database

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/database/pgtest"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The seeded templates, made once for the whole test binary: a SQLite file, and a database on
// a PostgreSQL server that runs as long as the binary. Most tests start from a copy of one:
// seeding is the one slow step (seconds under the race detector), and the tests that are
// about seeding seed their own.
var (
	seededFile string
	pg         *pgtest.Server
	pgTemplate string // the seeded database on pg
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pillars-database-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	seededFile = filepath.Join(dir, "seeded.db")
	if err := seedTemplate(Config{Path: seededFile}); err != nil {
		fmt.Fprintln(os.Stderr, "seed the SQLite template:", err)
		return 1
	}
	if pg, err = pgtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pg.Close()
	if pgTemplate, err = pg.CreateDatabase(context.Background(), ""); err == nil {
		err = seedTemplate(Config{URL: pg.URL(pgTemplate)})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed the PostgreSQL template:", err)
		return 1
	}
	return m.Run()
}

// seedTemplate creates and seeds a database the way New does, then closes it: a SQLite file
// is checkpointed, so the file alone is the whole database; a PostgreSQL database is left
// without connections, as CREATE DATABASE ... TEMPLATE needs it.
func seedTemplate(cfg Config) error {
	st, err := newStore(cfg)
	if err != nil {
		return err
	}
	db, err := st.open(1)
	if err != nil {
		return err
	}
	if _, err := ensureSeeded(context.Background(), db, st); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

// seededCopy returns the path of a fresh copy of the seeded template in the test's temp dir.
func seededCopy(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(seededFile)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pillars.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// harness is one database service on its own database, served on a loopback port.
type harness struct {
	svc *Service
	tel *telemetrytest.Recorder
	srv *httptest.Server
}

// start starts a service on cfg's database: a copy of the seeded SQLite template when cfg
// names none (testStore.start gives it a copy on its own store).
func start(t testing.TB, cfg Config) *harness {
	t.Helper()
	if cfg.Path == "" && cfg.URL == "" {
		cfg.Path = seededCopy(t)
	}
	tel := telemetrytest.New(t, "database")
	svc, err := New(context.Background(), cfg, tel.Telemetry)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return serve(t, svc, tel)
}

// serve serves a service started by New, until the test ends.
func serve(t testing.TB, svc *Service, tel *telemetrytest.Recorder) *harness {
	t.Helper()
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := svc.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{svc: svc, tel: tel, srv: srv}
}

// response is what a request answered.
type response struct {
	status  int
	header  http.Header
	body    []byte
	traceID string // from the traceresponse header
	spanID  string // the entry span, from the traceresponse header
}

func (h *harness) do(t testing.TB, method, path, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	// traceresponse: 00-<trace id>-<span id>-<flags>
	if parts := strings.Split(resp.Header.Get("traceresponse"), "-"); len(parts) == 4 {
		r.traceID, r.spanID = parts[1], parts[2]
	}
	return r
}

func (h *harness) get(t testing.TB, path string) response {
	t.Helper()
	return h.do(t, http.MethodGet, path, "")
}

// decode reads the body as JSON into v, failing on a non-wanted status.
func (r response) decode(t testing.TB, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
}

// traceSpans returns the ended spans of one trace, by name.
func (h *harness) traceSpans(t testing.TB, traceID string) map[string][]telemetrytest.SpanStub {
	t.Helper()
	out := map[string][]telemetrytest.SpanStub{}
	for _, s := range h.tel.Ended(t) {
		if s.SpanContext.TraceID().String() == traceID {
			out[s.Name] = append(out[s.Name], s)
		}
	}
	return out
}

// one returns the single span of that name, failing when there are none or several.
func one(t testing.TB, spans map[string][]telemetrytest.SpanStub, name string) telemetrytest.SpanStub {
	t.Helper()
	if len(spans[name]) != 1 {
		names := make([]string, 0, len(spans))
		for n := range spans {
			names = append(names, n)
		}
		t.Fatalf("want one span %q, have %d; spans: %v", name, len(spans[name]), names)
	}
	return spans[name][0]
}

// attr returns a span attribute as a string ("" when absent).
func attr(s telemetrytest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// assertChild fails unless child's parent is parent.
func assertChild(t testing.TB, child, parent telemetrytest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() {
		t.Errorf("span %s: parent span id %s, want %s (%s)", child.Name, child.Parent.SpanID(), parent.SpanContext.SpanID(), parent.Name)
	}
	if child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("span %s is in trace %s, want %s", child.Name, child.SpanContext.TraceID(), parent.SpanContext.TraceID())
	}
}

// logsWithMsg returns the log lines whose msg is msg.
func (h *harness) logsWithMsg(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range h.tel.LogLines(t) {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// value is shorthand for a counter or gauge series' value.
func (h *harness) value(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	return h.tel.CounterValue(t, name, pairs(t, labels))
}

func pairs(t testing.TB, kv []string) map[string]string {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("odd label list %v", kv)
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// querySeries sums database_queries_total over every series, to prove nothing was counted.
func (h *harness) queriesCounted(t testing.TB) float64 {
	t.Helper()
	var sum float64
	for _, table := range queriedTables {
		for _, status := range []string{querySuccess, queryError, queryNotFound} {
			sum += h.value(t, "database_queries_total", "operation", "SELECT", "table", table, "status", status)
		}
	}
	return sum
}

// errorBody is the JSON error every service answers with.
type errorBody struct {
	Error   string `json:"error"`
	Status  int    `json:"status"`
	TraceID string `json:"trace_id"`
}

// exemplarTraceIDs returns the trace ids of the exemplars on a histogram series' buckets.
func (h *harness) exemplarTraceIDs(t testing.TB, name string, labels ...string) map[string]bool {
	t.Helper()
	want := pairs(t, labels)
	families, err := h.tel.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := want[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			for _, b := range m.GetHistogram().GetBucket() {
				for _, l := range b.GetExemplar().GetLabel() {
					if l.GetName() == "trace_id" {
						ids[l.GetValue()] = true
					}
				}
			}
		}
	}
	return ids
}
