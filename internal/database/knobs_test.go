package database

import (
	"strings"
	"sync"
	"testing"
)

// missing_index really drops the index user lookups use: query_planning records the full
// scan SQLite now does, and clearing the knob builds the index again.
func TestMissingIndexIsReallyDropped(t *testing.T) {
	h := start(t, Config{})
	plan := func() string {
		r := h.get(t, "/db/user/42")
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		return attr(one(t, h.traceSpans(t, r.traceID), "query_planning"), "db.query.plan")
	}
	indexes := func() int {
		var n int
		if err := h.svc.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'orders_user'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if p := plan(); !strings.Contains(p, "USING INDEX orders_user") {
		t.Fatalf("healthy plan does not use orders_user:\n%s", p)
	}
	if r := h.patchFaults(t, `{"missing_index":true}`); r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	if n := indexes(); n != 0 {
		t.Fatalf("orders_user still exists")
	}
	if p := plan(); strings.Contains(p, "orders_user") || !strings.Contains(p, "SCAN o") {
		t.Errorf("plan without the index should scan orders:\n%s", p)
	}
	h.patchFaults(t, `{"missing_index":false}`)
	if n := indexes(); n != 1 {
		t.Fatal("orders_user was not rebuilt")
	}
	if p := plan(); !strings.Contains(p, "USING INDEX orders_user") {
		t.Errorf("plan after the rebuild:\n%s", p)
	}
}

// lock_hold is a real writer holding SQLite's write lock: a request waits for it up to the
// busy timeout and then fails with SQLite's own busy error, which the answer reports in the
// caller's terms (a 500 saying the database is locked) and the log line with its cause.
func TestLockHoldMakesRequestsFailBusy(t *testing.T) {
	h := start(t, Config{})
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
	if len(logs) == 0 || !strings.Contains(logs[len(logs)-1]["error"].(string), "SQLITE_BUSY") {
		t.Errorf("cause not logged: %v", logs)
	}
	if exec := attr(one(t, h.traceSpans(t, failed.traceID), "transaction_begin"), "pillars.db.transaction.writes"); exec != "true" {
		t.Errorf("transaction_begin does not say the transaction claimed the write lock")
	}
	h.patchFaults(t, `{"lock_hold":"0s"}`)
	if r := h.get(t, "/db/user/7"); r.status != 200 {
		t.Errorf("after the lock was let go: %d %s", r.status, r.body)
	}
}

// pool_size 1 squeezes the pool to one connection: concurrent requests queue for it.
func TestPoolSqueezedToOneConnection(t *testing.T) {
	h := start(t, Config{})
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
