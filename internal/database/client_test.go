package database

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The typed client reads every answer of the real service into its wire types: a field
// renamed on one side (product_id against id) fails here, not on a live page.
func TestClientReadsTheRealService(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) { testClientReadsTheRealService(t, ts.start(t, Config{})) })
}

func testClientReadsTheRealService(t *testing.T, h *harness) {
	c := NewClient(h.srv.URL, telemetrytest.New(t, "backend").NewClient())
	ctx := context.Background()

	u, err := c.GetUser(ctx, 123)
	if err != nil || u.ID != 123 || u.Name == "" || u.OrderCount == 0 {
		t.Errorf("GetUser(123) = %+v, %v", u, err)
	}
	p, err := c.GetProduct(ctx, 42)
	if err != nil || p.ID != 42 || len(p.Inventory) == 0 {
		t.Errorf("GetProduct(42) = %+v, %v", p, err)
	}
	top, err := c.TopProducts(ctx, 5)
	if err != nil || len(top) != 5 || top[0].ProductID <= 0 || top[0].Name == "" || top[0].UnitsSold <= 0 {
		t.Errorf("TopProducts(5) = %+v, %v", top, err)
	}
	cats, err := c.CategorySummary(ctx)
	if err != nil || len(cats) != len(seedCategories) || cats[0].Category == "" || cats[0].Products == 0 {
		t.Errorf("CategorySummary = %+v, %v", cats, err)
	}
	orders, err := c.UserOrders(ctx, 123, 100)
	if err != nil || int64(len(orders)) != u.OrderCount || orders[0].CreatedAt.IsZero() || orders[0].ProductName == "" {
		t.Errorf("UserOrders(123) = %d orders (user has %d), first %+v, %v", len(orders), u.OrderCount, first(orders), err)
	}
	low, err := c.LowStock(ctx, 3, 10)
	if err != nil || len(low) == 0 || low[0].Warehouse == "" || low[0].Quantity >= 3 {
		t.Errorf("LowStock(3) = %+v, %v", low, err)
	}
	if _, err := c.GetUser(ctx, 999999); telemetry.Classify(err).Label != telemetry.CallNotFound {
		t.Errorf("GetUser(999999): %v, want not found", err)
	}
}

func first[T any](s []T) (v T) {
	if len(s) > 0 {
		v = s[0]
	}
	return v
}

// An answer that is not the one asked for, or is incomplete, is a bad answer, never zero values.
func TestClientRefusesIncompleteAnswers(t *testing.T) {
	for _, c := range []struct {
		name, body string
		call       func(*Client) error
	}{
		{"empty user", `{}`, func(c *Client) error { _, err := c.GetUser(context.Background(), 1); return err }},
		{"another user", `{"id":2,"name":"x","email":"x@y"}`, func(c *Client) error { _, err := c.GetUser(context.Background(), 1); return err }},
		{"product without inventory", `{"id":1,"sku":"s","name":"n","category":"c"}`, func(c *Client) error { _, err := c.GetProduct(context.Background(), 1); return err }},
		{"rows null", `{"query":"top_products","rows":null}`, func(c *Client) error { _, err := c.TopProducts(context.Background(), 1); return err }},
		{"row without id", `{"query":"top_products","rows":[{"name":"x"}]}`, func(c *Client) error { _, err := c.TopProducts(context.Background(), 1); return err }},
		{"another query", `{"query":"low_stock","rows":[]}`, func(c *Client) error { _, err := c.TopProducts(context.Background(), 1); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			err := c.call(NewClient(srv.URL, telemetrytest.New(t, "backend").NewClient()))
			if !errors.Is(err, telemetry.ErrBadAnswer) {
				t.Errorf("%s: err %v, want a bad answer", c.body, err)
			}
		})
	}
}
