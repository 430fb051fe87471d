package database

import (
	"testing"
)

// A product comes back joined with its real per-warehouse inventory, and the JOIN's
// execution is the join_inventory span, inside query_execution.
func TestGetProduct(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testGetProduct(t, ts.start(t, Config{})) })
}

func testGetProduct(t *testing.T, h *harness) {
	r := h.get(t, "/db/product/7")
	var p Product
	r.decode(t, 200, &p)
	if p.ID != 7 || p.SKU != "SKU-00007" || p.Name == "" || p.Category == "" || p.PriceCents <= 0 {
		t.Errorf("product 7 = %+v", p)
	}

	// The inventory is what the inventory and warehouses tables hold for it.
	rows, err := h.svc.db.Query(`SELECT w.name, i.quantity FROM inventory i JOIN warehouses w ON w.id = i.warehouse_id
		WHERE i.product_id = 7 ORDER BY w.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []WarehouseStock
	var stock int64
	for rows.Next() {
		var ws WarehouseStock
		if err := rows.Scan(&ws.Warehouse, &ws.Quantity); err != nil {
			t.Fatal(err)
		}
		want = append(want, ws)
		stock += ws.Quantity
	}
	if len(want) != 4 || len(p.Inventory) != len(want) {
		t.Fatalf("inventory %+v, want %+v (one row per warehouse)", p.Inventory, want)
	}
	for i := range want {
		if p.Inventory[i] != want[i] {
			t.Errorf("inventory[%d] = %+v, want %+v", i, p.Inventory[i], want[i])
		}
	}
	if p.Stock != stock {
		t.Errorf("stock %d, want the sum %d", p.Stock, stock)
	}

	spans := h.traceSpans(t, r.traceID)
	entry := one(t, spans, "database_get_product")
	for _, name := range []string{"transaction_begin", "query_planning", "query_execution", "transaction_commit"} {
		assertChild(t, one(t, spans, name), entry)
	}
	join := one(t, spans, "join_inventory")
	assertChild(t, join, one(t, spans, "query_execution"))
	if got := attr(join, "db.response.returned_rows"); got != "4" {
		t.Errorf("join_inventory returned rows %q, want 4", got)
	}
	if got := attr(join, "db.collection.name"); got != "products" {
		t.Errorf("join_inventory db.collection.name %q", got)
	}
	if plan := attr(one(t, spans, "query_planning"), "db.query.plan"); plan == "" {
		t.Error("query_planning has no plan")
	}

	if l := h.logsWithMsg(t, "Querying product 7 from database"); len(l) != 1 || l[0]["trace_id"] != r.traceID {
		t.Errorf("log lines %v: want one with trace_id %s", l, r.traceID)
	}
	if got := h.value(t, "database_queries_total", "operation", "SELECT", "table", "products", "status", "success"); got != 1 {
		t.Errorf("products queries %v, want 1", got)
	}
	if ids := h.exemplarTraceIDs(t, "database_query_duration_seconds", "table", "products"); !ids[r.traceID] {
		t.Errorf("exemplars %v: want trace %s", ids, r.traceID)
	}
}

// A product that has no inventory rows is still found, with an empty inventory.
func TestProductWithoutInventory(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testProductWithoutInventory(t, ts.start(t, Config{})) })
}

func testProductWithoutInventory(t *testing.T, h *harness) {
	if _, err := h.svc.db.Exec("DELETE FROM inventory WHERE product_id = 9"); err != nil {
		t.Fatal(err)
	}
	var p Product
	h.get(t, "/db/product/9").decode(t, 200, &p)
	if p.ID != 9 || p.Stock != 0 || p.Inventory == nil || len(p.Inventory) != 0 {
		t.Errorf("product 9 without inventory = %+v, want found with an empty inventory", p)
	}
}
