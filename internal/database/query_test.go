package database

import (
	"net/url"
	"strings"
	"testing"
)

// Each named query runs its fixed statement with the request's numbers.
func TestNamedQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testNamedQueries(t, ts.start(t, Config{})) })
}

func testNamedQueries(t *testing.T, h *harness) {
	var u User
	h.get(t, "/db/user/123").decode(t, 200, &u)

	for _, c := range []struct {
		path  string
		table string
		check func(t *testing.T, rows []map[string]any)
	}{
		{"/db/query?name=top_products", "orders", func(t *testing.T, rows []map[string]any) {
			if len(rows) != 10 {
				t.Errorf("%d rows, want the default limit 10", len(rows))
			}
			for i := 1; i < len(rows); i++ {
				if num(t, rows[i], "units_sold") > num(t, rows[i-1], "units_sold") {
					t.Errorf("rows not sorted by units_sold: %v", rows)
				}
			}
		}},
		{"/db/query?name=top_products&limit=3", "orders", func(t *testing.T, rows []map[string]any) {
			if len(rows) != 3 || rows[0]["name"] == nil || num(t, rows[0], "revenue_cents") <= 0 {
				t.Errorf("rows %v", rows)
			}
		}},
		{"/db/query?name=category_summary", "products", func(t *testing.T, rows []map[string]any) {
			var products float64
			for _, r := range rows {
				products += num(t, r, "products")
			}
			if len(rows) != len(seedCategories) || products != MaxProductID {
				t.Errorf("%d categories holding %v products, want %d holding %d", len(rows), products, len(seedCategories), MaxProductID)
			}
		}},
		{"/db/query?name=user_orders&user_id=123&limit=100", "orders", func(t *testing.T, rows []map[string]any) {
			if int64(len(rows)) != u.OrderCount {
				t.Errorf("%d orders, want user 123's %d", len(rows), u.OrderCount)
			}
			for i := 1; i < len(rows); i++ {
				if rows[i]["created_at"].(string) > rows[i-1]["created_at"].(string) {
					t.Errorf("orders not newest first: %v", rows)
				}
			}
		}},
		{"/db/query?name=user_orders&user_id=5001", "orders", func(t *testing.T, rows []map[string]any) {
			if len(rows) != 0 {
				t.Errorf("orders of an unknown user: %v", rows)
			}
		}},
		{"/db/query?name=low_stock&threshold=3", "inventory", func(t *testing.T, rows []map[string]any) {
			if len(rows) == 0 {
				t.Error("no low stock in the seed")
			}
			for _, r := range rows {
				if num(t, r, "quantity") >= 3 || r["warehouse"] == nil {
					t.Errorf("row %v: want quantity below 3 and its warehouse", r)
				}
			}
		}},
	} {
		t.Run(c.path, func(t *testing.T) {
			before := h.value(t, "database_queries_total", "operation", "SELECT", "table", c.table, "status", "success")
			r := h.get(t, c.path)
			var res QueryResult[map[string]any]
			r.decode(t, 200, &res)
			u, _ := url.Parse(c.path)
			if res.Query != u.Query().Get("name") || res.Rows == nil {
				t.Errorf("result %+v", res)
			}
			c.check(t, res.Rows)
			spans := h.traceSpans(t, r.traceID)
			entry := one(t, spans, "database_query")
			for _, name := range []string{"transaction_begin", "query_planning", "query_execution", "transaction_commit"} {
				assertChild(t, one(t, spans, name), entry)
			}
			if got := attr(one(t, spans, "query_execution"), "db.collection.name"); got != c.table {
				t.Errorf("db.collection.name %q, want %q", got, c.table)
			}
			if got := h.value(t, "database_queries_total", "operation", "SELECT", "table", c.table, "status", "success"); got != before+1 {
				t.Errorf("%s successes %v, want %v", c.table, got, before+1)
			}
		})
	}
}

// Only names of the list run, with well-formed parameters; anything else is a 400 that says
// what would be right, and runs nothing.
func TestNamedQueryBadRequests(t *testing.T) {
	h := start(t, Config{})
	for _, c := range []struct{ query, want string }{
		{"", "missing query name"},
		{"name=", "missing query name"},
		{"name=drop_tables", `unknown query "drop_tables": valid names are category_summary, low_stock, top_products, user_orders`},
		{"name=SELECT+*+FROM+users", "unknown query"},
		{"name=top_products&name=low_stock", "name given 2 times"},
		{"name=top_products&limit=0", "must be from 1 to 50"},
		{"name=top_products&limit=51", "must be from 1 to 50"},
		{"name=top_products&limit=abc", "must be an integer"},
		{"name=top_products&limit=99999999999999999999", "must be from 1 to 50"},
		{"name=top_products&limit=1&limit=2", "given 2 times"},
		{"name=top_products&sql=1", `has no parameter "sql"`},
		{"name=category_summary&limit=1", "no parameters"},
		{"name=user_orders", "needs parameter user_id"},
		{"name=user_orders&user_id=0", "must be from 1"},
		{"name=low_stock&threshold=-1", "must be from 0"},
		{"name=top_products&limit=%zz", "malformed query string"},
		{"name=top_products;limit=5", "malformed query string"},
		{"name=top_products&limit=+5", "digits only"},
		{"name=user_orders&user_id=2147483648", "must be from 1 to 2147483647"},
	} {
		t.Run(c.query, func(t *testing.T) {
			r := h.get(t, "/db/query?"+c.query)
			var e errorBody
			r.decode(t, 400, &e)
			if !strings.Contains(e.Error, c.want) || e.TraceID != r.traceID {
				t.Errorf("error %+v: want %q and trace_id %s", e, c.want, r.traceID)
			}
		})
	}
	if n := h.queriesCounted(t); n != 0 {
		t.Errorf("%v queries counted for bad requests, want 0", n)
	}
}

func num(t *testing.T, row map[string]any, col string) float64 {
	t.Helper()
	v, ok := row[col].(float64) // JSON numbers
	if !ok {
		t.Fatalf("column %s of %v is %T, want a number", col, row, row[col])
	}
	return v
}
