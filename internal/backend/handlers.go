package backend

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// getUser answers GET /api/user/{id}: validate, then the cache, then the database.
// Validation comes first, although the seed's story checks the cache first, so that bad
// input never reaches the cache or the database.
func (s *Service) getUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	raw := r.PathValue("id")
	s.tel.Logger.InfoContext(ctx, "Processing user request for ID: "+telemetry.Excerpt(raw), "user_id", telemetry.Excerpt(raw))
	id, err := s.validateUserID(ctx, raw)
	if err != nil {
		s.invalid(w, r, err)
		return
	}
	idText := strconv.FormatInt(id, 10)
	subject, idAttr := "user "+idText, slog.Int64("user_id", id)

	user, hit := cached(ctx, s, s.users, id, subject, idAttr)
	cache := cacheState(hit)
	trace.SpanFromContext(ctx).SetAttributes(semconv.UserID(idText), attribute.String("app.cache", cache))
	if !hit {
		user, err = loadShared(ctx, s, s.users, id, func(ctx context.Context) (database.User, error) {
			return callDB(ctx, s, opGetUser, subject, idAttr, func(ctx context.Context) (database.User, error) {
				return s.db.GetUser(ctx, id)
			})
		})
		if err != nil {
			s.fail(w, r, subject, err)
			return
		}
	}
	telemetry.WriteJSON(w, http.StatusOK, UserResponse{User: userOf(user), Cache: cache})
	s.tel.Logger.InfoContext(ctx, "User "+idText+" request completed", idAttr, "cache", cache)
}

// getProduct answers GET /api/product/{id}: the product from the cache or the database, then
// its price. Pricing runs on every request (it is cheap and deterministic), so that the
// cache holds database rows only and every product trace shows apply_pricing_rules.
func (s *Service) getProduct(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	raw := r.PathValue("id")
	s.tel.Logger.InfoContext(ctx, "Processing product request for ID: "+telemetry.Excerpt(raw), "product_id", telemetry.Excerpt(raw))
	id, err := s.validateProductID(ctx, raw)
	if err != nil {
		s.invalid(w, r, err)
		return
	}
	idText := strconv.FormatInt(id, 10)
	subject, idAttr := "product "+idText, slog.Int64("product_id", id)

	product, hit := cached(ctx, s, s.products, id, subject, idAttr)
	cache := cacheState(hit)
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int64("app.product.id", id), attribute.String("app.cache", cache))
	if !hit {
		product, err = loadShared(ctx, s, s.products, id, func(ctx context.Context) (database.Product, error) {
			return callDB(ctx, s, opGetProduct, subject, idAttr, func(ctx context.Context) (database.Product, error) {
				return s.db.GetProduct(ctx, id)
			})
		})
		if err != nil {
			s.fail(w, r, subject, err)
			return
		}
	}
	pricing, err := s.applyPricingRules(ctx, product)
	if err != nil {
		// The backend's own business logic failed: its fault, not the database's.
		s.tel.WriteError(w, r, http.StatusInternalServerError, errors.New("pricing failed for "+subject+": "+err.Error()))
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, ProductResponse{Product: productOf(product), Pricing: pricing, Cache: cache})
	s.tel.Logger.InfoContext(ctx, "Product "+idText+" request completed", idAttr, "cache", cache)
}

// getData answers GET /api/data, the home page overview: two named queries, cached as one.
func (s *Service) getData(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.tel.Logger.InfoContext(ctx, "Processing data request")
	data, hit := cached(ctx, s, s.data, struct{}{}, "data", slog.Attr{})
	cache := cacheState(hit)
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("app.cache", cache))
	if !hit {
		var err error
		if data, err = loadShared(ctx, s, s.data, struct{}{}, s.loadData); err != nil {
			s.fail(w, r, "data", err)
			return
		}
	}
	data.Cache = cache
	telemetry.WriteJSON(w, http.StatusOK, data)
	s.tel.Logger.InfoContext(ctx, "Data request completed", "cache", cache)
}

// loadData runs the overview's two queries side by side: the page waits for the slower one,
// not for both in turn.
func (s *Service) loadData(ctx context.Context) (DataResponse, error) {
	var top []database.TopProduct
	var topErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		top, topErr = callDB(ctx, s, opQuery, "query top_products", slog.String("query", "top_products"),
			func(ctx context.Context) ([]database.TopProduct, error) { return s.db.TopProducts(ctx, 5) })
	})
	categories, catErr := callDB(ctx, s, opQuery, "query category_summary", slog.String("query", "category_summary"),
		func(ctx context.Context) ([]database.CategorySummary, error) { return s.db.CategorySummary(ctx) })
	wg.Wait()
	if err := cmp.Or(topErr, catErr); err != nil {
		return DataResponse{}, err
	}
	return DataResponse{TopProducts: topProductsOf(top), Categories: categoriesOf(categories)}, nil
}

func cacheState(hit bool) string {
	if hit {
		return cacheHit
	}
	return cacheMiss
}
