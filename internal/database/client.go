package database

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Client is the typed client the backend uses to call this service.
type Client struct {
	base string
	http *telemetry.Client
}

// NewClient returns a client for the database service at baseURL (http://127.0.0.1:8003).
func NewClient(baseURL string, c *telemetry.Client) *Client {
	return &Client{base: strings.TrimSuffix(baseURL, "/"), http: c}
}

// GetUser fetches one user. A missing user is a *telemetry.HTTPError with status 404; a
// transport failure is returned as is (callers tell timeouts from refusals with errors.Is).
func (c *Client) GetUser(ctx context.Context, id int64) (User, error) {
	var u User
	err := c.get(ctx, "/db/user/{id}", "/db/user/"+strconv.FormatInt(id, 10), &u)
	return u, err
}

// GetProduct fetches one product with its inventory.
func (c *Client) GetProduct(ctx context.Context, id int64) (Product, error) {
	var p Product
	err := c.get(ctx, "/db/product/{id}", "/db/product/"+strconv.FormatInt(id, 10), &p)
	return p, err
}

// Query runs a named query with its parameters.
func (c *Client) Query(ctx context.Context, name string, params url.Values) (QueryResult, error) {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("name", name)
	var r QueryResult
	err := c.get(ctx, "/db/query", "/db/query?"+q.Encode(), &r)
	return r, err
}

// Healthz is the URL of the service's liveness probe, for dependency checks.
func (c *Client) Healthz() string { return c.base + "/healthz" }

func (c *Client) get(ctx context.Context, route, path string, into any) error {
	return c.http.GetJSON(ctx, route, c.base+path, into)
}
