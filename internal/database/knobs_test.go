package database

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// missing_index really drops the index user lookups use: query_planning records the full
// scan the store now does, and clearing the knob builds the index again.
func TestMissingIndexIsReallyDropped(t *testing.T) { eachStore(t, testMissingIndex) }

func testMissingIndex(t *testing.T, ts testStore) {
	h := ts.start(t, Config{})
	plan := func() string {
		r := h.get(t, "/db/user/42")
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		return attr(one(t, h.traceSpans(t, r.traceID), "query_planning"), "db.query.plan")
	}
	if p := plan(); !strings.Contains(p, ts.indexPlan) {
		t.Fatalf("healthy plan does not use orders_user:\n%s", p)
	}
	if r := h.patchFaults(t, `{"missing_index":true}`); r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	if ts.indexExists(t, h.svc.db, "orders_user") {
		t.Fatalf("orders_user still exists")
	}
	if p := plan(); strings.Contains(p, "orders_user") || !strings.Contains(p, ts.fullScanPlan) {
		t.Errorf("plan without the index should scan orders (%q):\n%s", ts.fullScanPlan, p)
	}
	h.patchFaults(t, `{"missing_index":false}`)
	if !ts.indexExists(t, h.svc.db, "orders_user") {
		t.Fatal("orders_user was not rebuilt")
	}
	if p := plan(); !strings.Contains(p, ts.indexPlan) {
		t.Errorf("plan after the rebuild:\n%s", p)
	}
}

// lock_hold is a real writer holding the store's lock (SQLite's write lock, PostgreSQL's
// ACCESS EXCLUSIVE table locks): a request waits for it up to the busy or lock timeout and
// then fails with the store's own error, which the answer reports in the caller's terms (a 500
// saying the database is locked) and the log line with its cause.
func TestLockHoldMakesRequestsFailBusy(t *testing.T) { eachStore(t, testLockHold) }

func testLockHold(t *testing.T, ts testStore) {
	h := ts.start(t, Config{})
	if r := h.patchFaults(t, `{"lock_hold":"5s"}`); r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	var failed response
	for range 20 { // the holder lets go for a moment between holds: some requests get through
		if failed = h.get(t, "/db/user/7"); failed.status == 500 {
			break
		}
	}
	var e errorBody
	failed.decode(t, 500, &e)
	if !strings.Contains(e.Error, "locked by another connection") {
		t.Errorf("error %q, want it to say the database is locked", e.Error)
	}
	logs := h.logsWithMsg(t, "Request failed in the database")
	if len(logs) == 0 || !strings.Contains(logs[len(logs)-1]["error"].(string), ts.busyCause) {
		t.Errorf("cause %q not logged: %v", ts.busyCause, logs)
	}
	claimed := attr(one(t, h.traceSpans(t, failed.traceID), "transaction_begin"), "pillars.db.transaction.writes") == "true"
	if claimed != ts.claimsLock {
		t.Errorf("transaction_begin says the transaction claimed the write lock: %v, want %v", claimed, ts.claimsLock)
	}
	h.patchFaults(t, `{"lock_hold":"0s"}`)
	if r := h.get(t, "/db/user/7"); r.status != 200 {
		t.Errorf("after the lock was let go: %d %s", r.status, r.body)
	}
}

// pool_size 1 squeezes the pool to one connection: concurrent requests queue for it.
func TestPoolSqueezedToOneConnection(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testPoolSqueezed(t, ts.start(t, Config{})) })
}

func testPoolSqueezed(t *testing.T, h *harness) {
	h.patchFaults(t, `{"pool_size":1,"latency":"20ms"}`)
	if n := h.svc.db.Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("pool allows %d connections, want 1", n)
	}
	waitsBefore := h.svc.db.Stats().WaitCount
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if r := h.get(t, "/db/user/"+string(rune('1'+i))); r.status != 200 {
				t.Errorf("status %d", r.status)
			}
		})
	}
	wg.Wait()
	if h.svc.db.Stats().WaitCount == waitsBefore {
		t.Error("no request waited for a connection")
	}
	h.patchFaults(t, `{"pool_size":0}`)
	if n := h.svc.db.Stats().MaxOpenConnections; n != DefaultMaxOpenConns {
		t.Errorf("pool allows %d connections after clearing, want %d", n, DefaultMaxOpenConns)
	}
}

// On PostgreSQL the replicas share one database: an index one of them drops is gone for all,
// and the others' query_planning shows it from their next refresh on.
func TestMissingIndexSeenByEveryReplica(t *testing.T) {
	loc := postgresTest.seeded(t)
	loc.TableSizeInterval = 20 * time.Millisecond
	a, b := start(t, loc), start(t, loc)
	plan := func(h *harness) string {
		r := h.get(t, "/db/user/42")
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		return attr(one(t, h.traceSpans(t, r.traceID), "query_planning"), "db.query.plan")
	}
	if r := a.patchFaults(t, `{"missing_index":true}`); r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	telemetrytest.Eventually(t, 10*time.Second, "the other replica's plan without orders_user", func() bool {
		return strings.Contains(plan(b), postgresTest.fullScanPlan)
	})
	if r := b.get(t, "/db/user/42"); r.status != 200 {
		t.Errorf("the other replica without the index: %d", r.status)
	}
}
