package backend

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Client is the typed client the frontend uses to call the backend. Failures come back as
// telemetry.Client reports them, telemetry.Classify tells them apart, and only the codes this
// API documents mean what they say: a 404 user_not_found or product_not_found is a
// *telemetry.NotFoundError, while any other error answer (a wrong URL's 404 no_route) stays
// the callee's *telemetry.HTTPError, this caller's failure.
type Client struct {
	base string
	http *telemetry.Client
}

// NewClient returns a client for the backend at baseURL (http://127.0.0.1:8002).
func NewClient(baseURL string, c *telemetry.Client) *Client {
	return &Client{base: strings.TrimSuffix(baseURL, "/"), http: c}
}

// GetUser asks for one user. An answer for another user than the one asked for, or an
// incomplete one, is a telemetry.ErrBadAnswer.
func (c *Client) GetUser(ctx context.Context, id int64) (UserResponse, error) {
	var r UserResponse
	if err := c.http.GetJSON(ctx, "/api/user/{id}", c.base+"/api/user/"+strconv.FormatInt(id, 10), &r); err != nil {
		return UserResponse{}, telemetry.KnownNotFound(err, CodeUserNotFound)
	}
	if r.User.ID != id {
		return UserResponse{}, fmt.Errorf("%w: asked for user %d, got user %d", telemetry.ErrBadAnswer, id, r.User.ID)
	}
	return r, nil
}

// GetProduct asks for one product with its price.
func (c *Client) GetProduct(ctx context.Context, id int64) (ProductResponse, error) {
	var r ProductResponse
	if err := c.http.GetJSON(ctx, "/api/product/{id}", c.base+"/api/product/"+strconv.FormatInt(id, 10), &r); err != nil {
		return ProductResponse{}, telemetry.KnownNotFound(err, CodeProductNotFound)
	}
	if r.Product.ID != id {
		return ProductResponse{}, fmt.Errorf("%w: asked for product %d, got product %d", telemetry.ErrBadAnswer, id, r.Product.ID)
	}
	return r, nil
}

// GetData asks for the home page overview, which always exists: no error answer of the
// backend means "not found" here.
func (c *Client) GetData(ctx context.Context) (DataResponse, error) {
	var r DataResponse
	err := c.http.GetJSON(ctx, "/api/data", c.base+"/api/data", &r)
	return r, err
}

// Healthz is the URL of the backend's liveness probe, for dependency checks.
func (c *Client) Healthz() string { return c.base + "/healthz" }
