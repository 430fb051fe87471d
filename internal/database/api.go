package database

import (
	"errors"
	"fmt"
	"time"
)

// The database service's wire types: what /db/* answers, and what Client returns. Each
// answer checks itself (Validate), so that a caller tells a complete answer from an empty
// object that decoded into zero values.

// User is a row of the users table with its order summary.
type User struct {
	ID                 int64     `json:"id"`
	Name               string    `json:"name"`
	Email              string    `json:"email"`
	Tier               string    `json:"tier"` // standard, silver, gold
	CreatedAt          time.Time `json:"created_at"`
	OrderCount         int64     `json:"order_count"`
	LifetimeSpendCents int64     `json:"lifetime_spend_cents"`
}

// Validate reports what a complete user has and this one lacks.
func (u User) Validate() error {
	switch {
	case u.ID <= 0:
		return errors.New("user without an id")
	case u.Name == "" || u.Email == "":
		return fmt.Errorf("user %d without a name or email", u.ID)
	}
	return nil
}

// Product is a row of the products table joined with its per-warehouse inventory.
type Product struct {
	ID         int64            `json:"id"`
	SKU        string           `json:"sku"`
	Name       string           `json:"name"`
	Category   string           `json:"category"`
	PriceCents int64            `json:"price_cents"`
	Stock      int64            `json:"stock"` // sum over warehouses
	Inventory  []WarehouseStock `json:"inventory"`
}

// Validate reports what a complete product has and this one lacks.
func (p Product) Validate() error {
	switch {
	case p.ID <= 0:
		return errors.New("product without an id")
	case p.SKU == "" || p.Name == "" || p.Category == "":
		return fmt.Errorf("product %d without a sku, name or category", p.ID)
	case p.Inventory == nil:
		return fmt.Errorf("product %d without its inventory", p.ID)
	}
	return nil
}

// WarehouseStock is one inventory row.
type WarehouseStock struct {
	Warehouse string `json:"warehouse"`
	Quantity  int64  `json:"quantity"`
}

// QueryResult is the answer of a named query: its name and its rows, whose type the query's
// name decides (TopProduct for top_products, and so on).
type QueryResult[Row any] struct {
	Query string `json:"query"`
	Rows  []Row  `json:"rows"`
}

// Validate checks that the rows are there (an empty list, not null) and each is complete.
func (q QueryResult[Row]) Validate() error {
	if q.Query == "" || q.Rows == nil {
		return errors.New("query result without its name or rows")
	}
	for i, r := range q.Rows {
		if v, ok := any(r).(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("row %d of %s: %w", i, q.Query, err)
			}
		}
	}
	return nil
}

// TopProduct is a row of the top_products query: the best sellers by units sold.
type TopProduct struct {
	ProductID    int64  `json:"product_id"`
	Name         string `json:"name"`
	Category     string `json:"category"`
	UnitsSold    int64  `json:"units_sold"`
	RevenueCents int64  `json:"revenue_cents"`
}

func (p TopProduct) Validate() error {
	if p.ProductID <= 0 || p.Name == "" {
		return errors.New("top product without an id or name")
	}
	return nil
}

// CategorySummary is a row of the category_summary query.
type CategorySummary struct {
	Category      string `json:"category"`
	Products      int64  `json:"products"`
	MinPriceCents int64  `json:"min_price_cents"`
	MaxPriceCents int64  `json:"max_price_cents"`
	AvgPriceCents int64  `json:"avg_price_cents"`
}

func (c CategorySummary) Validate() error {
	if c.Category == "" {
		return errors.New("category summary without a category")
	}
	return nil
}

// UserOrder is a row of the user_orders query: one order of a user, newest first.
type UserOrder struct {
	OrderID     int64     `json:"order_id"`
	ProductID   int64     `json:"product_id"`
	ProductName string    `json:"product_name"`
	Quantity    int64     `json:"quantity"`
	TotalCents  int64     `json:"total_cents"`
	CreatedAt   time.Time `json:"created_at"`
}

func (o UserOrder) Validate() error {
	if o.OrderID <= 0 || o.ProductID <= 0 {
		return errors.New("order without an id or product")
	}
	return nil
}

// LowStock is a row of the low_stock query: an inventory row under the threshold.
type LowStock struct {
	ProductID int64  `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Warehouse string `json:"warehouse"`
	Quantity  int64  `json:"quantity"`
}

func (l LowStock) Validate() error {
	if l.ProductID <= 0 || l.Warehouse == "" {
		return errors.New("low stock row without a product or warehouse")
	}
	return nil
}
