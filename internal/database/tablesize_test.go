package database

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// Every table's size is known from the first scrape, from the store's own page accounting.
func TestTableSizes(t *testing.T) { eachStore(t, testTableSizes) }

func testTableSizes(t *testing.T, ts testStore) {
	h := ts.start(t, Config{})
	pageSize, total := ts.storage(t, h.svc.db)
	var sum float64
	for _, table := range sizedTables {
		size := h.value(t, "database_table_size_bytes", "table", table)
		if size <= 0 || size != float64(int64(size)/int64(pageSize))*pageSize {
			t.Errorf("database_table_size_bytes{table=%q} = %v, want a positive number of %v-byte pages", table, size, pageSize)
		}
		sum += size
	}
	if sum > total {
		t.Errorf("tables add up to %v bytes, more than the whole database's %v", sum, total)
	}
	if orders, users := h.value(t, "database_table_size_bytes", "table", "orders"), h.value(t, "database_table_size_bytes", "table", "users"); orders <= users {
		t.Errorf("orders (20000 rows) take %v bytes, users (5000 rows) %v", orders, users)
	}
}

// The sizes are refreshed in the background: a table that grows shows it.
func TestTableSizesRefresh(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		testTableSizesRefresh(t, ts.start(t, Config{TableSizeInterval: 10 * time.Millisecond}))
	})
}

func testTableSizesRefresh(t *testing.T, h *harness) {
	before := h.value(t, "database_table_size_bytes", "table", "warehouses")
	if _, err := h.svc.db.Exec(`WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO warehouses (id, name) SELECT i, 'Warehouse ' || i FROM n`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for h.value(t, "database_table_size_bytes", "table", "warehouses") <= before {
		if time.Now().After(deadline) {
			t.Fatalf("warehouses size still %v after it grew", before)
		}
		<-tick.C
	}
}

// every runs its job each interval until its context ends.
func TestEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var calls atomic.Int32
		done := make(chan struct{})
		go func() {
			every(ctx, 15*time.Second, func(context.Context) { calls.Add(1) })
			close(done)
		}()
		time.Sleep(46 * time.Second) // the bubble's fake clock
		synctest.Wait()
		if n := calls.Load(); n != 3 {
			t.Errorf("%d runs in 46s at a 15s interval, want 3", n)
		}
		cancel()
		<-done
	})
}
