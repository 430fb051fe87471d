package database

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Client is the typed client the backend uses to call this service. Failures come back as
// telemetry.Client reports them (telemetry.Classify tells them apart); an answer for another
// id than the one asked for, or an incomplete one, is a bad answer.
type Client struct {
	base string
	http *telemetry.Client
}

// NewClient returns a client for the database service at baseURL (http://127.0.0.1:8003).
func NewClient(baseURL string, c *telemetry.Client) *Client {
	return &Client{base: strings.TrimSuffix(baseURL, "/"), http: c}
}

// GetUser fetches one user. A missing user (404 user_not_found) is a
// *telemetry.NotFoundError; any other error answer stays a *telemetry.HTTPError, which
// telemetry.Classify counts as this caller's failure (a 404 no_route means a wrong URL).
func (c *Client) GetUser(ctx context.Context, id int64) (User, error) {
	var u User
	if err := c.get(ctx, "/db/user/{id}", "/db/user/"+strconv.FormatInt(id, 10), &u); err != nil {
		return User{}, telemetry.KnownNotFound(err, CodeUserNotFound)
	}
	if u.ID != id {
		return User{}, fmt.Errorf("%w: asked for user %d, got user %d", telemetry.ErrBadAnswer, id, u.ID)
	}
	return u, nil
}

// GetProduct fetches one product with its inventory; a missing one (404 product_not_found)
// is a *telemetry.NotFoundError.
func (c *Client) GetProduct(ctx context.Context, id int64) (Product, error) {
	var p Product
	if err := c.get(ctx, "/db/product/{id}", "/db/product/"+strconv.FormatInt(id, 10), &p); err != nil {
		return Product{}, telemetry.KnownNotFound(err, CodeProductNotFound)
	}
	if p.ID != id {
		return Product{}, fmt.Errorf("%w: asked for product %d, got product %d", telemetry.ErrBadAnswer, id, p.ID)
	}
	return p, nil
}

// TopProducts runs the top_products query: the limit best sellers.
func (c *Client) TopProducts(ctx context.Context, limit int) ([]TopProduct, error) {
	return query[TopProduct](ctx, c, "top_products", url.Values{"limit": {strconv.Itoa(limit)}})
}

// CategorySummary runs the category_summary query.
func (c *Client) CategorySummary(ctx context.Context) ([]CategorySummary, error) {
	return query[CategorySummary](ctx, c, "category_summary", nil)
}

// UserOrders runs the user_orders query: a user's newest orders.
func (c *Client) UserOrders(ctx context.Context, userID int64, limit int) ([]UserOrder, error) {
	return query[UserOrder](ctx, c, "user_orders", url.Values{
		"user_id": {strconv.FormatInt(userID, 10)}, "limit": {strconv.Itoa(limit)}})
}

// LowStock runs the low_stock query: inventory rows under threshold.
func (c *Client) LowStock(ctx context.Context, threshold, limit int) ([]LowStock, error) {
	return query[LowStock](ctx, c, "low_stock", url.Values{
		"threshold": {strconv.Itoa(threshold)}, "limit": {strconv.Itoa(limit)}})
}

// query runs a named query and decodes its rows as Row.
func query[Row any](ctx context.Context, c *Client, name string, params url.Values) ([]Row, error) {
	q := url.Values{"name": {name}}
	for k, v := range params {
		q[k] = v
	}
	var r QueryResult[Row]
	if err := c.get(ctx, "/db/query", "/db/query?"+q.Encode(), &r); err != nil {
		return nil, err
	}
	if r.Query != name {
		return nil, fmt.Errorf("%w: asked for query %s, got %s", telemetry.ErrBadAnswer, name, telemetry.Quote(r.Query))
	}
	return r.Rows, nil
}

// Healthz is the URL of the service's liveness probe, for dependency checks.
func (c *Client) Healthz() string { return c.base + "/healthz" }

func (c *Client) get(ctx context.Context, route, path string, into any) error {
	return c.http.GetJSON(ctx, route, c.base+path, into)
}
