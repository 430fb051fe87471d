package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// The tables a statement is counted under (the `table` label): its main table, a fixed enum.
const (
	tableUsers     = "users"
	tableProducts  = "products"
	tableInventory = "inventory"
	tableOrders    = "orders"
)

var queriedTables = []string{tableUsers, tableProducts, tableInventory, tableOrders}

// operationSelect is the only operation this read-only service runs (the `operation` label).
const operationSelect = "SELECT"

// attrQueryPlan holds the EXPLAIN QUERY PLAN output on query_planning spans. There is no
// semantic convention for a plan; the name follows the db.query.* namespace.
const attrQueryPlan = attribute.Key("db.query.plan")

// statement is one SQL statement the service runs, prepared once on the pool and planned once:
// SQLite's plan for a fixed statement over a fixed schema does not change between requests.
type statement struct {
	name     string // for logs: "user_by_id"
	table    string // metric label and db.collection.name
	text     string // the parameterised SQL on one line: what spans and logs show, never values
	plan     string // EXPLAIN QUERY PLAN, one step per line, indented by depth
	join     bool   // its execution is the JOIN the join_inventory span stands for
	singular bool   // it looks one entity up: no row means not_found
	stmt     *sql.Stmt
	attrs    []attribute.KeyValue // the semantic-convention attributes of query_execution
	// planAttrs are query_planning's: the plan instead of the query text, so that a span
	// exported for every request does not carry the same long strings twice. They change
	// when the schema does (the missing_index fault), hence the atomic pointer.
	planAttrs atomic.Pointer[[]attribute.KeyValue]
}

// setPlan records the statement's plan.
func (st *statement) setPlan(plan string) {
	st.plan = plan
	attrs := []attribute.KeyValue{
		semconv.DBSystemNameSQLite,
		semconv.DBCollectionName(st.table),
		attrQueryPlan.String(plan),
	}
	st.planAttrs.Store(&attrs)
}

// replan plans every statement again: the schema changed.
func (s *statements) replan(ctx context.Context, db *sql.DB) error {
	for _, st := range s.all() {
		plan, err := explain(ctx, db, st.text)
		if err != nil {
			return fmt.Errorf("database: plan %s: %w", st.name, err)
		}
		st.setPlan(plan)
	}
	return nil
}

// statements are all the SQL the service runs.
type statements struct {
	userByID             *statement
	productWithInventory *statement
	topProducts          *statement
	categorySummary      *statement
	userOrders           *statement
	lowStock             *statement
}

// The user with the order count and lifetime spend aggregated from their orders, in one
// statement (no row: unknown user).
const sqlUserByID = `
SELECT u.id, u.name, u.email, u.tier, u.created_at,
       count(o.id), coalesce(sum(o.total_cents), 0)
FROM users AS u
LEFT JOIN orders AS o ON o.user_id = u.id
WHERE u.id = ?
GROUP BY u.id`

// The product joined with its inventory and the warehouses holding it: one row per warehouse
// (one row with NULL stock for a product that has no inventory rows; none if unknown).
const sqlProductWithInventory = `
SELECT p.id, p.sku, p.name, p.category, p.price_cents, w.name, i.quantity
FROM products AS p
LEFT JOIN inventory AS i ON i.product_id = p.id
LEFT JOIN warehouses AS w ON w.id = i.warehouse_id
WHERE p.id = ?
ORDER BY i.warehouse_id`

const sqlTopProducts = `
SELECT p.id AS product_id, p.name, p.category,
       sum(o.quantity) AS units_sold, sum(o.total_cents) AS revenue_cents
FROM orders AS o
JOIN products AS p ON p.id = o.product_id
GROUP BY o.product_id
ORDER BY units_sold DESC, o.product_id
LIMIT ?`

const sqlCategorySummary = `
SELECT category, count(*) AS products,
       min(price_cents) AS min_price_cents, max(price_cents) AS max_price_cents,
       CAST(round(avg(price_cents)) AS INTEGER) AS avg_price_cents
FROM products
GROUP BY category
ORDER BY category`

const sqlUserOrders = `
SELECT o.id AS order_id, o.product_id, p.name AS product_name, o.quantity, o.total_cents,
       o.created_at
FROM orders AS o
JOIN products AS p ON p.id = o.product_id
WHERE o.user_id = ?
ORDER BY o.created_at DESC, o.id DESC
LIMIT ?`

const sqlLowStock = `
SELECT i.product_id, p.sku, p.name, w.name AS warehouse, i.quantity
FROM inventory AS i
JOIN products AS p ON p.id = i.product_id
JOIN warehouses AS w ON w.id = i.warehouse_id
WHERE i.quantity < ?
ORDER BY i.quantity, i.product_id, i.warehouse_id
LIMIT ?`

// prepareStatements prepares and plans every statement; a statement that does not compile
// against the schema stops the service at start rather than at its first request.
func prepareStatements(ctx context.Context, db *sql.DB) (*statements, error) {
	s := &statements{}
	for _, d := range []struct {
		into             **statement
		name, table, sql string
		join, singular   bool
	}{
		{&s.userByID, "user_by_id", tableUsers, sqlUserByID, false, true},
		{&s.productWithInventory, "product_with_inventory", tableProducts, sqlProductWithInventory, true, true},
		{&s.topProducts, "top_products", tableOrders, sqlTopProducts, false, false},
		{&s.categorySummary, "category_summary", tableProducts, sqlCategorySummary, false, false},
		{&s.userOrders, "user_orders", tableOrders, sqlUserOrders, false, false},
		{&s.lowStock, "low_stock", tableInventory, sqlLowStock, false, false},
	} {
		st := &statement{name: d.name, table: d.table, text: oneLine(d.sql), join: d.join, singular: d.singular}
		plan, err := explain(ctx, db, st.text)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("database: plan %s: %w", d.name, err), s.close())
		}
		st.setPlan(plan)
		if st.stmt, err = db.PrepareContext(ctx, st.text); err != nil {
			return nil, errors.Join(fmt.Errorf("database: prepare %s: %w", d.name, err), s.close())
		}
		st.attrs = []attribute.KeyValue{
			semconv.DBSystemNameSQLite,
			semconv.DBOperationName(operationSelect),
			semconv.DBCollectionName(st.table),
			semconv.DBQueryText(st.text),
		}
		*d.into = st
	}
	return s, nil
}

func (s *statements) all() []*statement {
	return []*statement{s.userByID, s.productWithInventory, s.topProducts, s.categorySummary, s.userOrders, s.lowStock}
}

func (s *statements) close() error {
	var errs []error
	for _, st := range s.all() {
		if st != nil && st.stmt != nil {
			errs = append(errs, st.stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// explain returns SQLite's plan for text, one step per line, children indented under their
// parent. The parameters are bound to NULL, which does not change the plan's shape (the
// driver insists on a value for each; none of the statements has a literal '?').
func explain(ctx context.Context, db *sql.DB, text string) (string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, make([]any, strings.Count(text, "?"))...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	depth := map[int64]int{0: -1}
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int64
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		d := depth[parent] + 1
		depth[id] = d
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat("  ", d))
		b.WriteString(detail)
	}
	return b.String(), rows.Err()
}

// oneLine collapses the SQL's layout to single spaces, for span attributes and log lines.
func oneLine(sql string) string { return strings.Join(strings.Fields(sql), " ") }
