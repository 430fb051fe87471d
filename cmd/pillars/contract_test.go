package main

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// spanShape is one line of the seed's span tree: who made the span, what kind it is, and
// which span is its parent ("" for the root).
type spanShape struct {
	name    string
	service string
	kind    tracepb.Span_SpanKind
	parent  string
}

const (
	server   = tracepb.Span_SPAN_KIND_SERVER
	client   = tracepb.Span_SPAN_KIND_CLIENT
	internal = tracepb.Span_SPAN_KIND_INTERNAL
)

var userTrace = []spanShape{
	{"frontend_get_user", "frontend", server, ""},
	{"GET /api/user/{id}", "frontend", client, "frontend_get_user"},
	{"backend_get_user", "backend", server, "GET /api/user/{id}"},
	{"validate_user_id", "backend", internal, "backend_get_user"},
	{"GET /db/user/{id}", "backend", client, "backend_get_user"},
	{"database_get_user", "database", server, "GET /db/user/{id}"},
	{"transaction_begin", "database", internal, "database_get_user"},
	{"query_planning", "database", internal, "database_get_user"},
	{"query_execution", "database", internal, "database_get_user"},
	{"transaction_commit", "database", internal, "database_get_user"},
}

// callsToServer is the shape on PostgreSQL, a server across the network: the database's
// calls to it are CLIENT spans (on SQLite, inside the process, INTERNAL).
func callsToServer(shape []spanShape) []spanShape {
	out := slices.Clone(shape)
	for i, w := range out {
		if w.name == "transaction_begin" || w.name == "query_execution" || w.name == "transaction_commit" {
			out[i].kind = client
		}
	}
	return out
}

// checkShape asserts that every span of want exists, made by the right service with the
// right kind, and that each one's parent is a span of the named parent (a name may occur
// more than once: the home page runs two queries).
func checkShape(t *testing.T, spans map[string][]telemetrytest.ExportedSpan, want []spanShape) {
	t.Helper()
	for _, w := range want {
		if len(spans[w.name]) == 0 {
			t.Errorf("span %s missing", w.name)
			continue
		}
		for _, s := range spans[w.name] {
			if s.Service != w.service || s.Kind != w.kind {
				t.Errorf("span %s: service %s kind %v, want %s %v", w.name, s.Service, s.Kind, w.service, w.kind)
			}
			if w.parent == "" {
				if len(s.ParentSpanId) != 0 {
					t.Errorf("span %s should be the root, has parent %x", w.name, s.ParentSpanId)
				}
				continue
			}
			if !slices.ContainsFunc(spans[w.parent], func(p telemetrytest.ExportedSpan) bool {
				return bytes.Equal(s.ParentSpanId, p.SpanId)
			}) {
				t.Errorf("span %s: parent is not %s", w.name, w.parent)
			}
		}
	}
}

// A request for user 123 is one trace through all three services, shaped as the seed
// describes, whose logs carry its trace id and whose metrics point back to it: on SQLite and
// on PostgreSQL alike.
func TestUserRequestIsOneTraceWithLinkedLogsAndMetrics(t *testing.T) {
	eachStore(t, testUserRequestIsOneTrace)
}

func testUserRequestIsOneTrace(t *testing.T, dbEnv map[string]string) {
	s, _ := startAll(t, dbEnv)

	r := s.get("/user/123")
	if r.status != http.StatusOK || r.traceID == "" {
		t.Fatalf("GET /user/123: %d, traceresponse trace id %q", r.status, r.traceID)
	}
	if user, _ := r.body["user"].(map[string]any); user["id"] != float64(123) {
		t.Errorf("answer does not hold user 123: %v", r.body)
	}
	names := make([]string, len(userTrace))
	for i, w := range userTrace {
		names[i] = w.name
	}
	spans := s.trace(r.traceID, names...)
	want, shape := "sqlite", userTrace
	if dbEnv["PILLARS_DB_URL"] != "" {
		want, shape = "postgresql", callsToServer(userTrace)
	}
	checkShape(t, spans, shape)
	for _, name := range []string{"transaction_begin", "query_planning", "query_execution", "transaction_commit"} {
		if got := spanAttr(spans[name][0], "db.system.name"); got != want {
			t.Errorf("%s: db.system.name %q, want %q", name, got, want)
		}
	}

	lines := s.logs(r.traceID,
		"Fetching user 123",
		"Processing user request for ID: 123",
		"Querying user 123 from database",
		"User 123 request completed",
		"User 123 fetch completed",
		"Cache miss for user 123")
	for _, svc := range []string{"frontend", "backend", "database"} {
		if !anyLabels(lines, `service="`+svc+`"`) {
			t.Errorf("no log line of %s in Loki for the trace", svc)
		}
	}

	// The second request for the same user is a cache hit.
	r2 := s.get("/user/123")
	if r2.status != http.StatusOK || r2.body["cache"] != "hit" {
		t.Errorf("second request: %d cache=%v, want a hit", r2.status, r2.body["cache"])
	}
	s.logs(r2.traceID, "Cache hit for user 123")
	be := metrics(t, s.backend)
	if hit, miss := sample(be, `backend_cache_operations_total{operation="hit"}`), sample(be, `backend_cache_operations_total{operation="miss"}`); hit != 1 || miss != 1 {
		t.Errorf("cache operations hit=%v miss=%v, want 1 and 1", hit, miss)
	}

	// Metrics moved under the route template, with exemplars pointing at the trace.
	fe := metrics(t, s.frontend)
	if v := sample(fe, `frontend_requests_total{endpoint="/user/{id}",method="GET",status="200"}`); v != 2 {
		t.Errorf("frontend_requests_total{/user/{id},200} = %v, want 2", v)
	}
	if !strings.Contains(fe, `# {trace_id="`+r2.traceID+`"}`) {
		t.Error("frontend metrics carry no exemplar of the last trace")
	}
	db := metrics(t, s.database)
	if v := sample(db, `database_queries_total{operation="SELECT",status="success",table="users"}`); v < 1 {
		t.Errorf("database_queries_total{SELECT,users,success} = %v", v)
	}
	if !strings.Contains(db, `# {trace_id="`+r.traceID+`"}`) {
		t.Error("database metrics carry no exemplar of the first trace")
	}
}

func TestProductTraceHasJoinAndPricing(t *testing.T) {
	eachStore(t, testProductTraceHasJoinAndPricing)
}

func testProductTraceHasJoinAndPricing(t *testing.T, dbEnv map[string]string) {
	s, _ := startAll(t, dbEnv)
	r := s.get("/product/42")
	if r.status != http.StatusOK {
		t.Fatalf("GET /product/42: %d %v", r.status, r.body)
	}
	spans := s.trace(r.traceID, "frontend_get_product", "backend_get_product", "apply_pricing_rules",
		"database_get_product", "join_inventory")
	checkShape(t, spans, []spanShape{
		{"frontend_get_product", "frontend", server, ""},
		{"backend_get_product", "backend", server, "GET /api/product/{id}"},
		{"apply_pricing_rules", "backend", internal, "backend_get_product"},
		{"database_get_product", "database", server, "GET /db/product/{id}"},
	})
	if pricing, _ := r.body["pricing"].(map[string]any); pricing["final_price_cents"] == nil {
		t.Errorf("product answer has no price: %v", r.body)
	}
}

func TestHomeRunsANamedQuery(t *testing.T) { eachStore(t, testHomeRunsANamedQuery) }

func testHomeRunsANamedQuery(t *testing.T, dbEnv map[string]string) {
	s, _ := startAll(t, dbEnv)
	r := s.get("/")
	if r.status != http.StatusOK {
		t.Fatalf("GET /: %d %v", r.status, r.body)
	}
	checkShape(t, s.trace(r.traceID, "frontend_home_request", "backend_get_data", "database_query"), []spanShape{
		{"frontend_home_request", "frontend", server, ""},
		{"backend_get_data", "backend", server, "GET /api/data"},
		{"database_query", "database", server, "GET /db/query"},
	})
}

func anyLabels(lines []telemetrytest.LokiEntry, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l.Labels, sub) {
			return true
		}
	}
	return false
}

// spanAttr is a string attribute of an exported span ("" when absent).
func spanAttr(s telemetrytest.ExportedSpan, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value.GetStringValue()
		}
	}
	return ""
}
