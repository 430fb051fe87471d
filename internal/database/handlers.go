package database

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// getUser answers GET /db/user/{id}: the user with their order count and lifetime spend.
func (s *Service) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r.PathValue("id"), "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	s.tel.Logger.InfoContext(ctx, "Querying user "+strconv.FormatInt(id, 10)+" from database", "user_id", id)
	var u User
	var found bool
	err = s.inTx(ctx, func(ctx context.Context, tx *txn) error {
		n, err := tx.query(ctx, s.stmts.userByID, func(rows *sql.Rows) error {
			var created int64
			if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Tier, &created, &u.OrderCount, &u.LifetimeSpendCents); err != nil {
				return err
			}
			u.CreatedAt = time.Unix(created, 0).UTC()
			return nil
		}, id)
		found = n > 0
		return err
	})
	switch {
	case err != nil:
		s.fail(w, r, err)
	case !found:
		s.fail(w, r, notFound("user %d not found", id))
	default:
		telemetry.WriteJSON(w, http.StatusOK, u)
	}
}

// getProduct answers GET /db/product/{id}: the product joined with its per-warehouse stock.
func (s *Service) getProduct(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r.PathValue("id"), "product")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	s.tel.Logger.InfoContext(ctx, "Querying product "+strconv.FormatInt(id, 10)+" from database", "product_id", id)
	p := Product{Inventory: []WarehouseStock{}}
	var found bool
	err = s.inTx(ctx, func(ctx context.Context, tx *txn) error {
		n, err := tx.query(ctx, s.stmts.productWithInventory, func(rows *sql.Rows) error {
			var warehouse sql.NullString
			var quantity sql.NullInt64
			if err := rows.Scan(&p.ID, &p.SKU, &p.Name, &p.Category, &p.PriceCents, &warehouse, &quantity); err != nil {
				return err
			}
			if warehouse.Valid { // a product without inventory rows comes back once, with NULLs
				p.Inventory = append(p.Inventory, WarehouseStock{Warehouse: warehouse.String, Quantity: quantity.Int64})
				p.Stock += quantity.Int64
			}
			return nil
		}, id)
		found = n > 0
		return err
	})
	switch {
	case err != nil:
		s.fail(w, r, err)
	case !found:
		s.fail(w, r, notFound("product %d not found", id))
	default:
		telemetry.WriteJSON(w, http.StatusOK, p)
	}
}

// runQuery answers GET /db/query?name=...: one of the named queries, with its parameters.
func (s *Service) runQuery(w http.ResponseWriter, r *http.Request) {
	q, args, err := s.queries.bind(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	s.tel.Logger.InfoContext(ctx, "Running named query "+q.name, "query", q.name, "args", args)
	res := QueryResult{Query: q.name, Rows: []map[string]any{}}
	err = s.inTx(ctx, func(ctx context.Context, tx *txn) error {
		var cols []string
		_, err := tx.query(ctx, q.stmt, func(rows *sql.Rows) error {
			if cols == nil {
				var err error
				if cols, err = rows.Columns(); err != nil {
					return err
				}
			}
			row, err := scanMap(rows, cols)
			if err != nil {
				return err
			}
			res.Rows = append(res.Rows, row)
			return nil
		}, args...)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, res)
}

// scanMap reads one row as column name → value (integers, floats, text, or nil).
func scanMap(rows *sql.Rows, cols []string) (map[string]any, error) {
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	row := make(map[string]any, len(cols))
	for i, c := range cols {
		if b, ok := vals[i].([]byte); ok {
			vals[i] = string(b)
		}
		row[c] = vals[i]
	}
	return row, nil
}

// parseID reads a positive int64 id from a path segment; anything else is a 400 that says why.
func parseID(raw, what string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	echo := truncate(raw)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, badRequest("%s id %q is out of range: ids are positive integers below 2^63", what, echo)
	case err != nil:
		return 0, badRequest("%s id %q is not a number: ids are positive integers", what, echo)
	case id <= 0:
		return 0, badRequest("%s id %d is not positive: ids start at 1", what, id)
	}
	return id, nil
}
