package backend

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

func TestUserRequestIsOneTraceWithValidationAndDatabaseCall(t *testing.T) {
	h := startBackend(t, newFakeDB(t), Config{})

	a := h.get(t, "/api/user/123")
	if a.status != http.StatusOK || a.traceID == "" {
		t.Fatalf("status %d, trace id %q, body %s; want 200 with a traceresponse header", a.status, a.traceID, a.body)
	}
	got := decode[UserResponse](t, a)
	if got.User.ID != 123 || got.User.Name != "User 123" || got.Cache != cacheMiss {
		t.Errorf("answer %+v, want user 123 from a cache miss", got)
	}

	spans := h.spansOf(t, a.traceID)
	server := spanIn(t, spans, "backend_get_user")
	validate := spanIn(t, spans, "validate_user_id")
	client := spanIn(t, spans, "GET /db/user/{id}")
	if server.SpanKind != trace.SpanKindServer || client.SpanKind != trace.SpanKindClient {
		t.Errorf("kinds: backend_get_user %v, GET /db/user/{id} %v; want server, client", server.SpanKind, client.SpanKind)
	}
	for _, child := range []telemetrytest.SpanStub{validate, client} {
		if child.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("%s has parent %s, want backend_get_user %s", child.Name, child.Parent.SpanID(), server.SpanContext.SpanID())
		}
	}
	if len(spans) != 3 {
		t.Errorf("trace has spans %v, want exactly these three", telemetrytest.Names(spans))
	}

	// The CLIENT span carried the trace to the database.
	calls := h.db.seen()
	if len(calls) != 1 || calls[0].path != "/db/user/123" {
		t.Fatalf("database saw %+v, want one GET /db/user/123", calls)
	}
	if tp := calls[0].traceparent; !strings.Contains(tp, "-"+a.traceID+"-"+client.SpanContext.SpanID().String()+"-") {
		t.Errorf("database saw traceparent %q, want trace %s from span %s", tp, a.traceID, client.SpanContext.SpanID())
	}

	for _, msg := range []string{"Processing user request for ID: 123", "Cache miss for user 123", "Calling database for user 123", "User 123 request completed"} {
		l := h.rec.LogWithMsg(t, msg)
		if l["trace_id"] != a.traceID {
			t.Errorf("log %q has trace_id %v, want %s", msg, l["trace_id"], a.traceID)
		}
	}
	if v := h.cacheOps(t, "miss"); v != 1 {
		t.Errorf("cache misses = %v, want 1", v)
	}
	if v := h.dbCalls(t, "get_user", "success"); v != 1 {
		t.Errorf("database calls get_user/success = %v, want 1", v)
	}
	if n := h.rec.HistogramCount(t, "backend_processing_time_seconds", map[string]string{"operation": "validate_user_id"}); n != 1 {
		t.Errorf("validate_user_id timings = %d, want 1", n)
	}
	if n := h.rec.HistogramCount(t, "backend_processing_time_seconds", map[string]string{"operation": "cache_lookup"}); n != 1 {
		t.Errorf("cache_lookup timings = %d, want 1", n)
	}
}

func TestSecondUserRequestIsACacheHit(t *testing.T) {
	h := startBackend(t, newFakeDB(t), Config{})

	if a := h.get(t, "/api/user/42"); a.status != http.StatusOK {
		t.Fatalf("first request: status %d, body %s", a.status, a.body)
	}
	a := h.get(t, "/api/user/42")
	if a.status != http.StatusOK {
		t.Fatalf("second request: status %d, body %s", a.status, a.body)
	}
	if got := decode[UserResponse](t, a); got.Cache != cacheHit || got.User.ID != 42 {
		t.Errorf("second answer %+v, want user 42 from a cache hit", got)
	}
	if n := len(h.db.seen()); n != 1 {
		t.Errorf("database called %d times, want once", n)
	}
	if hits, misses := h.cacheOps(t, "hit"), h.cacheOps(t, "miss"); hits != 1 || misses != 1 {
		t.Errorf("cache hits %v misses %v, want 1 and 1", hits, misses)
	}
	if l := h.rec.LogWithMsg(t, "Cache hit for user 42"); l["trace_id"] != a.traceID {
		t.Errorf("cache hit log has trace_id %v, want the second request's %s", l["trace_id"], a.traceID)
	}
	// A hit makes no database call: its trace has the entry span and the validation only.
	if names := telemetrytest.Names(h.spansOf(t, a.traceID)); len(names) != 2 {
		t.Errorf("cache hit trace has spans %v, want backend_get_user and validate_user_id", names)
	}
}

func TestConcurrentMissesShareOneDatabaseCall(t *testing.T) {
	db := newFakeDB(t)
	gate := make(chan struct{})
	db.set(func(f *fakeDB) { f.gate = gate })
	h := startBackend(t, db, Config{})

	const callers = 8
	answers := make([]answer, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { answers[i] = h.get(t, "/api/user/7") })
	}
	// Hold the database until every caller waits for the one call in flight.
	eventually(t, "every caller to wait for the database call", func() bool {
		return h.svc.users.flights.waiting(7) == callers
	})
	close(gate)
	wg.Wait()

	for i, a := range answers {
		if a.status != http.StatusOK || decode[UserResponse](t, a).User.ID != 7 {
			t.Errorf("caller %d: status %d, body %s", i, a.status, a.body)
		}
	}
	if n := len(db.seen()); n != 1 {
		t.Errorf("database called %d times, want once for %d concurrent misses", n, callers)
	}
	if v := h.dbCalls(t, "get_user", "success"); v != 1 {
		t.Errorf("database calls get_user/success = %v, want 1", v)
	}
	if v := h.cacheOps(t, "miss"); v != callers {
		t.Errorf("cache misses = %v, want %d", v, callers)
	}
}

func TestInvalidIDsAre400WithoutCacheOrDatabase(t *testing.T) {
	h := startBackend(t, newFakeDB(t), Config{})
	cases := []struct {
		path, want string
	}{
		{"/api/user/abc", `user id "abc" is not a number`},
		{"/api/user/0", "user id must be greater than 0"},
		{"/api/user/-1", `user id "-1" is negative`},
		{"/api/user/+5", `user id "+5" has a sign`},
		{"/api/user/1.5", `user id "1.5" is not a number`},
		{"/api/user/1e3", `user id "1e3" is not a number`},
		{"/api/user/0x10", `user id "0x10" is not a number`},
		{"/api/user/%2012", `user id " 12" contains whitespace`},
		{"/api/user/12%0A", `user id "12\n" contains whitespace`},
		{"/api/user/2147483648", `user id "2147483648" is out of range`},
		{"/api/user/99999999999999999999", `user id "99999999999999999999" is out of range`},
		{"/api/product/abc", `product id "abc" is not a number`},
		{"/api/product/0", "product id must be greater than 0"},
		{"/api/product/-7", `product id "-7" is negative`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			a := h.get(t, c.path)
			if a.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", a.status, a.body)
			}
			e := decode[telemetry.ErrorBody](t, a)
			if !strings.Contains(e.Error, c.want) || e.Status != http.StatusBadRequest || e.TraceID != a.traceID {
				t.Errorf("error %+v, want message containing %q, status 400, trace id %s", e, c.want, a.traceID)
			}
		})
	}
	if calls := h.db.seen(); len(calls) != 0 {
		t.Errorf("database saw %+v, want no call for invalid ids", calls)
	}
	if hits, misses := h.cacheOps(t, "hit"), h.cacheOps(t, "miss"); hits+misses != 0 {
		t.Errorf("cache hits %v misses %v, want no lookup for invalid ids", hits, misses)
	}

	// validate_user_id says why it failed.
	a := h.get(t, "/api/user/abc")
	v := spanIn(t, h.spansOf(t, a.traceID), "validate_user_id")
	if v.Status.Code != codes.Error || !strings.Contains(v.Status.Description, "is not a number") {
		t.Errorf("validate_user_id status %+v, want an error saying the id is not a number", v.Status)
	}
}
