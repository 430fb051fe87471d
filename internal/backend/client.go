package backend

import (
	"context"
	"net/url"
	"strings"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Client is the typed client the frontend uses to call the backend. Non-2xx answers come back
// as *telemetry.HTTPError with the backend's status and message.
type Client struct {
	base string
	http *telemetry.Client
}

// NewClient returns a client for the backend at baseURL (http://127.0.0.1:8002).
func NewClient(baseURL string, c *telemetry.Client) *Client {
	return &Client{base: strings.TrimSuffix(baseURL, "/"), http: c}
}

// GetUser asks for one user. The id is passed through as typed by the caller: validating it
// is the backend's job (validate_user_id), so bad input shows in the trace where it is judged.
func (c *Client) GetUser(ctx context.Context, id string) (UserResponse, error) {
	var r UserResponse
	err := c.http.GetJSON(ctx, "/api/user/{id}", c.base+"/api/user/"+url.PathEscape(id), &r)
	return r, err
}

// GetProduct asks for one product with its price.
func (c *Client) GetProduct(ctx context.Context, id string) (ProductResponse, error) {
	var r ProductResponse
	err := c.http.GetJSON(ctx, "/api/product/{id}", c.base+"/api/product/"+url.PathEscape(id), &r)
	return r, err
}

// GetData asks for the home page overview.
func (c *Client) GetData(ctx context.Context) (DataResponse, error) {
	var r DataResponse
	err := c.http.GetJSON(ctx, "/api/data", c.base+"/api/data", &r)
	return r, err
}

// Healthz is the URL of the backend's liveness probe, for dependency checks.
func (c *Client) Healthz() string { return c.base + "/healthz" }
