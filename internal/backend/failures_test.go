package backend

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// A failing database becomes the fitting status, with a JSON error that says what happened;
// nothing of a failure is cached.
func TestDatabaseFailuresMapToStatuses(t *testing.T) {
	cases := []struct {
		name       string
		path       string
		breakDB    func(f *fakeDB)
		wantStatus int
		wantLabel  string // backend_database_calls_total status
		wantMsg    string
	}{
		{"missing user", "/api/user/4999999", nil, http.StatusNotFound, telemetry.CallNotFound, "user 4999999 does not exist"},
		{"missing product", "/api/product/1001", nil, http.StatusNotFound, telemetry.CallNotFound, "product 1001 does not exist"},
		{"database 500", "/api/user/5", func(f *fakeDB) { f.status = 500 }, http.StatusBadGateway, telemetry.CallError, "database error for user 5: it failed (500: injected failure)"},
		{"database 503", "/api/product/5", func(f *fakeDB) { f.status = 503 }, http.StatusBadGateway, telemetry.CallError, "database error for product 5"},
		{"database 429", "/api/user/5", func(f *fakeDB) { f.status = 429 }, http.StatusBadGateway, telemetry.CallClientError, "database refused the request for user 5: it failed (429: injected failure)"},
		{"database 404 without its code", "/api/user/5", func(f *fakeDB) { f.status = 404 }, http.StatusBadGateway, telemetry.CallClientError, "database refused the request for user 5"},
		{"slow database", "/api/user/5", func(f *fakeDB) { f.hang = true }, http.StatusGatewayTimeout, telemetry.CallTimeout, "database did not answer in time for user 5 (timeout 100ms)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := newFakeDB(t)
			if c.breakDB != nil {
				db.set(c.breakDB)
			}
			h := startBackend(t, db, Config{DatabaseTimeout: 100 * time.Millisecond})
			op := opGetUser
			if strings.HasPrefix(c.path, "/api/product/") {
				op = opGetProduct
			}

			a := h.get(t, c.path)
			if a.status != c.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.status, c.wantStatus, a.body)
			}
			e := decode[telemetry.ErrorBody](t, a)
			if !strings.Contains(e.Error, c.wantMsg) || e.Status != c.wantStatus || e.TraceID != a.traceID {
				t.Errorf("error %+v, want message containing %q, status %d, trace id %s", e, c.wantMsg, c.wantStatus, a.traceID)
			}
			if v := h.dbCalls(t, op, c.wantLabel); v != 1 {
				t.Errorf("backend_database_calls_total{%s,%s} = %v, want 1", op, c.wantLabel, v)
			}
			if l := h.rec.LogWithMsg(t, "request failed"); l["trace_id"] != a.traceID {
				t.Errorf("error log has trace_id %v, want %s", l["trace_id"], a.traceID)
			}
			entryName := "backend_get_user"
			if op == opGetProduct {
				entryName = "backend_get_product"
			}
			entry := spanIn(t, h.spansOf(t, a.traceID), entryName)
			if wantErr := c.wantStatus >= 500; (entry.Status.Code == codes.Error) != wantErr {
				t.Errorf("%s status %v, want error status only for a 5xx", entryName, entry.Status)
			}

			// Nothing was cached: once the database is well again the next request asks it.
			db.set(func(f *fakeDB) { f.status, f.hang = 0, false })
			before := len(db.seen())
			h.get(t, c.path)
			if after := len(db.seen()); after != before+1 {
				t.Errorf("database called %d times after the failure, want once: the failure must not be cached", after-before)
			}
		})
	}
}

func TestStoppedDatabaseIs503(t *testing.T) {
	db := newFakeDB(t)
	h := startBackend(t, db, Config{})
	db.Close()

	a := h.get(t, "/api/user/5")
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; body %s", a.status, a.body)
	}
	e := decode[telemetry.ErrorBody](t, a)
	if e.Error != "database unavailable for user 5: it could not be reached" {
		t.Errorf("error %q, want it to say the database is unavailable, without its URL", e.Error)
	}
	if v := h.dbCalls(t, opGetUser, telemetry.CallUnavailable); v != 1 {
		t.Errorf("backend_database_calls_total{get_user,unavailable} = %v, want 1", v)
	}
	spans := h.spansOf(t, a.traceID)
	if s := spanIn(t, spans, "GET /db/user/{id}"); s.Status.Code != codes.Error {
		t.Errorf("client span status %v, want error", s.Status)
	}
	if s := spanIn(t, spans, "backend_get_user"); s.Status.Code != codes.Error {
		t.Errorf("entry span status %v, want error", s.Status)
	}
	if l := h.rec.LogWithMsg(t, "Database call for user 5 failed"); l["trace_id"] != a.traceID || l["level"] != "ERROR" {
		t.Errorf("database error log %v, want level ERROR with trace id %s", l, a.traceID)
	}
	if n := h.svc.users.cache.Len(); n != 0 {
		t.Errorf("cache holds %d entries after a failure, want none", n)
	}

	// /health reports the dead dependency; the service itself still answers.
	hl := h.get(t, "/health")
	if hl.status != http.StatusOK || !strings.Contains(string(hl.body), `"status":"degraded"`) {
		t.Errorf("/health answered %d %s, want 200 degraded", hl.status, hl.body)
	}
}
