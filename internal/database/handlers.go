package database

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/pillars-o11y/pillars/internal/ids"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// getUser answers GET /db/user/{id}: the user with their order count and lifetime spend.
func (s *Service) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := ids.Parse("user", r.PathValue("id"))
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
		s.fail(w, r, userNotFound(id))
	default:
		telemetry.WriteJSON(w, http.StatusOK, u)
	}
}

// getProduct answers GET /db/product/{id}: the product joined with its per-warehouse stock.
func (s *Service) getProduct(w http.ResponseWriter, r *http.Request) {
	id, err := ids.Parse("product", r.PathValue("id"))
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
		s.fail(w, r, productNotFound(id))
	default:
		telemetry.WriteJSON(w, http.StatusOK, p)
	}
}

// runQuery answers GET /db/query?name=...: one of the named queries, with its parameters.
func (s *Service) runQuery(w http.ResponseWriter, r *http.Request) {
	q, args, err := s.queries.bind(r.URL.RawQuery)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	s.tel.Logger.InfoContext(ctx, "Running named query "+q.name, "query", q.name)
	var rows any
	err = s.inTx(ctx, func(ctx context.Context, tx *txn) error {
		var err error
		rows, err = q.rows(ctx, tx, q.stmt, args)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The rows are the query's own row type: the answer decodes into QueryResult[TopProduct]
	// and so on.
	telemetry.WriteJSON(w, http.StatusOK, struct {
		Query string `json:"query"`
		Rows  any    `json:"rows"`
	}{q.name, rows})
}
