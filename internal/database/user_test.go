package database

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// A request for user 123 is one trace: the database_get_user SERVER span with the four
// transaction steps as its children, the log line of the seed carrying its trace id, and the
// query counted and timed under table="users" with the trace as exemplar.
func TestGetUser(t *testing.T) { eachStore(t, testGetUser) }

func testGetUser(t *testing.T, ts testStore) {
	h := ts.start(t, Config{})
	r := h.get(t, "/db/user/123")
	var u User
	r.decode(t, 200, &u)
	if u.ID != 123 || u.Name == "" || !strings.HasSuffix(u.Email, "@example.com") || u.CreatedAt.IsZero() {
		t.Errorf("user 123 = %+v", u)
	}
	// The order summary is the aggregate over the orders table.
	var count, spend int64
	if err := h.svc.db.QueryRow("SELECT count(*), coalesce(sum(total_cents), 0) FROM orders WHERE user_id = 123").Scan(&count, &spend); err != nil {
		t.Fatal(err)
	}
	if u.OrderCount != count || u.LifetimeSpendCents != spend || count == 0 {
		t.Errorf("order summary %d orders / %d cents, want %d / %d", u.OrderCount, u.LifetimeSpendCents, count, spend)
	}

	spans := h.traceSpans(t, r.traceID)
	entry := one(t, spans, "database_get_user")
	if entry.SpanKind != trace.SpanKindServer || entry.SpanContext.SpanID().String() != r.spanID {
		t.Errorf("entry span: kind %v id %s, want a SERVER span with the traceresponse id %s", entry.SpanKind, entry.SpanContext.SpanID(), r.spanID)
	}
	steps := []string{"transaction_begin", "query_planning", "query_execution", "transaction_commit"}
	var prevEnd time.Time
	for _, name := range steps {
		s := one(t, spans, name)
		assertChild(t, s, entry)
		if s.StartTime.Before(prevEnd) {
			t.Errorf("%s starts before the previous step ended", name)
		}
		prevEnd = s.EndTime
		if got := attr(s, "db.system.name"); got != ts.name {
			t.Errorf("%s: db.system.name = %q", name, got)
		}
	}
	if got := attr(one(t, spans, "query_planning"), "db.collection.name"); got != "users" {
		t.Errorf("query_planning: db.collection.name = %q, want users", got)
	}
	exec := one(t, spans, "query_execution")
	for key, want := range map[string]string{"db.operation.name": "SELECT", "db.collection.name": "users"} {
		if got := attr(exec, key); got != want {
			t.Errorf("query_execution: %s = %q, want %q", key, got, want)
		}
	}
	if q := attr(exec, "db.query.text"); !strings.Contains(q, "WHERE u.id = "+ts.placeholder) || strings.Contains(q, "123") {
		t.Errorf("query_execution: db.query.text %q: want the parameterised SQL, without the value", q)
	}
	if plan := attr(one(t, spans, "query_planning"), "db.query.plan"); !strings.Contains(plan, ts.primaryKeyPlan) || !strings.Contains(plan, ts.indexPlan) {
		t.Errorf("query plan %q: want the store's plan for a primary key lookup (%q) using %q", plan, ts.primaryKeyPlan, ts.indexPlan)
	}
	if got := attr(one(t, spans, "query_execution"), "db.response.returned_rows"); got != "1" {
		t.Errorf("returned rows %q, want 1", got)
	}
	if len(spans) != 1+len(steps) {
		t.Errorf("trace has %d spans, want %d: %v", len(spans), 1+len(steps), spans)
	}

	logs := h.logsWithMsg(t, "Querying user 123 from database")
	if len(logs) != 1 {
		t.Fatalf("want one %q log line, have %d", "Querying user 123 from database", len(logs))
	}
	if logs[0]["trace_id"] != r.traceID || logs[0]["span_id"] != r.spanID || logs[0]["level"] != "INFO" {
		t.Errorf("log %v: want level INFO, trace_id %s and span_id %s", logs[0], r.traceID, r.spanID)
	}
	if l := h.logsWithMsg(t, "Transaction committed"); len(l) != 1 || l[0]["trace_id"] != r.traceID || l[0]["level"] != "DEBUG" {
		t.Errorf("Transaction committed logs: %v", l)
	}

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"database_queries_total", []string{"operation", "SELECT", "table", "users", "status", "success"}, 1},
		{"database_queries_total", []string{"operation", "SELECT", "table", "users", "status", "not_found"}, 0},
		{"database_transactions_total", []string{"status", "committed"}, 1},
		{"database_transactions_total", []string{"status", "rolled_back"}, 0},
		{"database_slow_queries_total", []string{"table", "users"}, 0},
		{"database_connection_pool_active", nil, 0},
	} {
		if got := h.value(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := h.tel.HistogramCount(t, "database_query_duration_seconds", pairs(t, []string{"operation", "SELECT", "table", "users"})); n != 1 {
		t.Errorf("database_query_duration_seconds{users} count %d, want 1", n)
	}
	if ids := h.exemplarTraceIDs(t, "database_query_duration_seconds", "table", "users"); !ids[r.traceID] {
		t.Errorf("duration histogram exemplars %v: want trace %s", ids, r.traceID)
	}
}

// An id that is well formed but not seeded is a 404, after a query that found nothing.
func TestUnknownIDsAreNotFound(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testUnknownIDsAreNotFound(t, ts.start(t, Config{})) })
}

func testUnknownIDsAreNotFound(t *testing.T, h *harness) {
	for _, c := range []struct{ path, table string }{
		{"/db/user/5001", "users"},
		{"/db/product/1001", "products"},
		{"/db/user/2147483647", "users"},
	} {
		before := h.value(t, "database_queries_total", "operation", "SELECT", "table", c.table, "status", "not_found")
		r := h.get(t, c.path)
		var e errorBody
		r.decode(t, 404, &e)
		if !strings.Contains(e.Error, "not found") || e.TraceID != r.traceID {
			t.Errorf("%s: error body %+v", c.path, e)
		}
		if got := h.value(t, "database_queries_total", "operation", "SELECT", "table", c.table, "status", "not_found"); got != before+1 {
			t.Errorf("%s: not_found count %v, want %v", c.path, got, before+1)
		}
	}
	// Finding nothing is not a failure: the transactions committed.
	if got := h.value(t, "database_transactions_total", "status", "committed"); got != 3 {
		t.Errorf("committed transactions %v, want 3", got)
	}
}

// A malformed id is the caller's mistake: a 400 that says what is wrong, and no transaction,
// query or span beyond the request's own.
func TestBadIDs(t *testing.T) {
	h := start(t, Config{})
	for _, c := range []struct{ path, want string }{
		{"/db/user/abc", "not a number"},
		{"/db/user/0", "greater than 0"},
		{"/db/user/-5", "is negative"},
		{"/db/user/+1", "has a sign"},
		{"/db/user/2147483648", "out of range"},
		{"/db/user/1.5", "not a number"},
		{"/db/user/0x10", "not a number"},
		{"/db/user/9223372036854775808", "out of range"},
		{"/db/user/" + strings.Repeat("9", 200), "out of range"},
		{"/db/product/abc", "not a number"},
		{"/db/product/-1", "is negative"},
		{"/db/product/%20", "whitespace"},
	} {
		t.Run(c.path, func(t *testing.T) {
			r := h.get(t, c.path)
			var e errorBody
			r.decode(t, 400, &e)
			if !strings.Contains(e.Error, c.want) || e.Status != 400 || e.TraceID != r.traceID {
				t.Errorf("error body %+v: want %q, status 400, trace_id %s", e, c.want, r.traceID)
			}
			if len(e.Error) > 200 {
				t.Errorf("error message is %d bytes: the bad id should be cut short", len(e.Error))
			}
			spans := h.traceSpans(t, r.traceID)
			if len(spans) != 1 {
				t.Errorf("spans %v: want only the entry span", spans)
			}
		})
	}
	if n := h.queriesCounted(t); n != 0 {
		t.Errorf("%v queries counted for bad ids, want 0", n)
	}
	if got := h.value(t, "database_transactions_total", "status", "committed") + h.value(t, "database_transactions_total", "status", "rolled_back"); got != 0 {
		t.Errorf("%v transactions for bad ids, want 0", got)
	}
	if l := h.logsWithMsg(t, "Querying user 0 from database"); len(l) != 0 {
		t.Errorf("a bad id was logged as queried: %v", l)
	}
}
