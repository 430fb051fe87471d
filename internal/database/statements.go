package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
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

// attrQueryPlan holds the store's plan (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN) on
// query_planning spans. There is no
// semantic convention for a plan; the name follows the db.query.* namespace.
const attrQueryPlan = attribute.Key("db.query.plan")

// statement is one SQL statement the service runs, prepared once on the pool and planned when
// the service starts, when the schema changes and every table-size refresh: a fixed statement's
// plan changes only with the schema (which another replica may change) or the statistics.
type statement struct {
	name     string // for logs: "user_by_id"
	table    string // metric label and db.collection.name
	text     string // the parameterised SQL on one line: what spans and logs show, never values
	join     bool   // its execution is the JOIN the join_inventory span stands for
	singular bool   // it looks one entity up: no row means not_found
	stmt     *sql.Stmt
	// execution starts query_execution: a call to the store (CLIENT on PostgreSQL) with the
	// semantic-convention attributes of the statement.
	execution []trace.SpanStartOption
	// planAttrs are query_planning's: the plan instead of the query text, so that a span
	// exported for every request does not carry the same long strings twice. They change
	// when the schema does (the missing_index fault), hence the atomic pointer.
	planAttrs atomic.Pointer[[]attribute.KeyValue]
}

// setPlan records the statement's plan.
func (st *statement) setPlan(system attribute.KeyValue, plan string) {
	attrs := []attribute.KeyValue{
		system,
		semconv.DBCollectionName(st.table),
		attrQueryPlan.String(plan),
	}
	st.planAttrs.Store(&attrs)
}

// replan plans every statement again: the schema or the statistics changed. Replans are
// serialised, so the last one to finish is the one that planned last.
func (s *statements) replan(ctx context.Context) error {
	s.planning.Lock()
	defer s.planning.Unlock()
	for _, st := range s.all() {
		plan, err := s.store.explain(ctx, s.db, st.text)
		if err != nil {
			return fmt.Errorf("database: plan %s: %w", st.name, err)
		}
		st.setPlan(s.store.system(), plan)
	}
	return nil
}

// statements are all the SQL the service runs.
type statements struct {
	db       *sql.DB
	store    store
	planning sync.Mutex

	userByID             *statement
	productWithInventory *statement
	topProducts          *statement
	categorySummary      *statement
	userOrders           *statement
	lowStock             *statement
}

// The statements, as SQLite runs them. PostgreSQL runs the same with $1, $2 placeholders, or
// its own text where it refuses SQLite's (postgresStatements).

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

// prepareStatements prepares and plans every statement, in the store's dialect; a statement
// that does not compile against the schema stops the service at start rather than at its
// first request.
func prepareStatements(ctx context.Context, db *sql.DB, store store) (*statements, error) {
	s := &statements{db: db, store: store}
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
		st := &statement{name: d.name, table: d.table, text: store.statement(d.name, oneLine(d.sql)),
			join: d.join, singular: d.singular}
		plan, err := store.explain(ctx, db, st.text)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("database: plan %s: %w", d.name, err), s.close())
		}
		st.setPlan(store.system(), plan)
		if st.stmt, err = db.PrepareContext(ctx, st.text); err != nil {
			return nil, errors.Join(fmt.Errorf("database: prepare %s: %w", d.name, err), s.close())
		}
		st.execution = newStoreCall(store).options(
			semconv.DBOperationName(operationSelect),
			semconv.DBCollectionName(st.table),
			semconv.DBQueryText(st.text),
		)
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

// oneLine collapses the SQL's layout to single spaces, for span attributes and log lines.
func oneLine(sql string) string { return strings.Join(strings.Fields(sql), " ") }
