package database

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/ids"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// namedQuery is one entry of the fixed list GET /db/query can run: a prepared statement, the
// integer parameters it binds (in order), and how its rows are read into their wire type. The
// request chooses a name and gives numbers; it never supplies SQL.
type namedQuery struct {
	name   string
	stmt   *statement
	params []queryParam
	rows   rowReader
}

// rowReader runs a named query's statement in tx and returns its rows, typed: a []TopProduct
// for top_products, and so on (never null: no rows is an empty list).
type rowReader func(ctx context.Context, tx *txn, st *statement, args []any) (any, error)

// readRows makes the rowReader of a row type from the scan of one row.
func readRows[Row any](scan func(*sql.Rows, *Row) error) rowReader {
	return func(ctx context.Context, tx *txn, st *statement, args []any) (any, error) {
		out := []Row{}
		_, err := tx.query(ctx, st, func(rows *sql.Rows) error {
			var r Row
			if err := scan(rows, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		}, args...)
		return out, err
	}
}

// queryParam is an integer parameter with its accepted range.
type queryParam struct {
	name     string
	required bool
	def      int64 // when not required and not given
	min, max int64
}

// namedQueries is the catalogue, by name.
type namedQueries struct {
	byName map[string]*namedQuery
	names  string // "a, b, c": the valid names, for error messages
}

func newNamedQueries(s *statements) namedQueries {
	list := []*namedQuery{
		{name: "top_products", stmt: s.topProducts, params: []queryParam{
			{name: "limit", def: 10, min: 1, max: 50},
		}, rows: readRows(func(rows *sql.Rows, p *TopProduct) error {
			return rows.Scan(&p.ProductID, &p.Name, &p.Category, &p.UnitsSold, &p.RevenueCents)
		})},
		{name: "category_summary", stmt: s.categorySummary, rows: readRows(func(rows *sql.Rows, c *CategorySummary) error {
			return rows.Scan(&c.Category, &c.Products, &c.MinPriceCents, &c.MaxPriceCents, &c.AvgPriceCents)
		})},
		{name: "user_orders", stmt: s.userOrders, params: []queryParam{
			{name: "user_id", required: true, min: 1, max: ids.Max},
			{name: "limit", def: 20, min: 1, max: 100},
		}, rows: readRows(func(rows *sql.Rows, o *UserOrder) error {
			var created int64
			err := rows.Scan(&o.OrderID, &o.ProductID, &o.ProductName, &o.Quantity, &o.TotalCents, &created)
			o.CreatedAt = time.Unix(created, 0).UTC()
			return err
		})},
		{name: "low_stock", stmt: s.lowStock, params: []queryParam{
			{name: "threshold", def: 10, min: 0, max: 1_000_000},
			{name: "limit", def: 50, min: 1, max: 200},
		}, rows: readRows(func(rows *sql.Rows, l *LowStock) error {
			return rows.Scan(&l.ProductID, &l.SKU, &l.Name, &l.Warehouse, &l.Quantity)
		})},
	}
	q := namedQueries{byName: make(map[string]*namedQuery, len(list))}
	names := make([]string, 0, len(list))
	for _, nq := range list {
		q.byName[nq.name] = nq
		names = append(names, nq.name)
	}
	slices.Sort(names)
	q.names = strings.Join(names, ", ")
	return q
}

// bind picks the query the request names and reads its parameters from the raw query string.
// Every mistake (a malformed query string, no name, an unknown name, an unknown, repeated,
// missing, non-integer or out-of-range parameter) is a 400 that says what would have been
// right. The raw string is parsed here, not with URL.Query, which silently drops what it
// cannot parse.
func (q namedQueries) bind(rawQuery string) (*namedQuery, []any, error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, nil, badRequest("malformed query string: %s", queryParseError(err))
	}
	names := values["name"]
	switch {
	case len(names) == 0 || names[0] == "":
		return nil, nil, badRequest("missing query name: use ?name= with one of %s", q.names)
	case len(names) > 1:
		return nil, nil, badRequest("name given %d times: give one of %s", len(names), q.names)
	}
	nq, ok := q.byName[names[0]]
	if !ok {
		return nil, nil, badRequest("unknown query %s: valid names are %s", telemetry.Quote(names[0]), q.names)
	}
	for key := range values {
		if key != "name" && !slices.ContainsFunc(nq.params, func(p queryParam) bool { return p.name == key }) {
			return nil, nil, badRequest("query %s has no parameter %s (it takes: %s)", nq.name, telemetry.Quote(key), nq.paramList())
		}
	}
	args := make([]any, len(nq.params))
	for i, p := range nq.params {
		v, err := p.read(nq.name, values[p.name])
		if err != nil {
			return nil, nil, err
		}
		args[i] = v
	}
	return nq, args, nil
}

// queryParseError says what url.ParseQuery found, without Go's wording.
func queryParseError(err error) string {
	if ee, ok := errors.AsType[url.EscapeError](err); ok {
		return "invalid percent-encoding " + telemetry.Quote(string(ee))
	}
	return "it contains a semicolon or an invalid escape"
}

func (p queryParam) read(query string, given []string) (int64, error) {
	switch {
	case len(given) == 0 && p.required:
		return 0, badRequest("query %s needs parameter %s (an integer from %d to %d)", query, p.name, p.min, p.max)
	case len(given) == 0:
		return p.def, nil
	case len(given) > 1:
		return 0, badRequest("parameter %s of query %s given %d times", p.name, query, len(given))
	}
	v, err := ids.ParseDigits(given[0])
	negative := errors.Is(err, ids.ErrSign) && given[0][0] == '-'
	if err != nil && !errors.Is(err, strconv.ErrRange) && !negative {
		return 0, badRequest("parameter %s of query %s must be an integer written with digits only, got %s", p.name, query, telemetry.Quote(given[0]))
	}
	if err != nil || v < p.min || v > p.max {
		return 0, badRequest("parameter %s of query %s must be from %d to %d, got %s", p.name, query, p.min, p.max, telemetry.Quote(given[0]))
	}
	return v, nil
}

func (nq *namedQuery) paramList() string {
	if len(nq.params) == 0 {
		return "no parameters"
	}
	names := make([]string, len(nq.params))
	for i, p := range nq.params {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}
