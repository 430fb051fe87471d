package backend

import (
	"errors"
	"fmt"
	"time"
)

// The backend's wire types: what /api/* answers, and what Client returns. The backend owns
// them, as each service owns the types it answers with: they import nothing from the
// database service, whose rows are mapped into them in one place (rows.go), so that a change
// of the database's schema or API changes this API only where the backend says so. Each
// checks itself (Validate), so that the frontend tells a complete answer from an empty object.

// The codes of the backend's own error answers (the "code" of the JSON error), beside the
// ones every service shares (telemetry.CodeNoRoute, ids.CodeInvalid). Client maps these to
// a *telemetry.NotFoundError; a caller relies on no other.
const (
	CodeUserNotFound    = "user_not_found"
	CodeProductNotFound = "product_not_found"
)

// UserResponse answers GET /api/user/{id}.
type UserResponse struct {
	User  User   `json:"user"`
	Cache string `json:"cache"` // "hit" or "miss"
}

func (r UserResponse) Validate() error {
	if err := r.User.Validate(); err != nil {
		return err
	}
	return validCache(r.Cache)
}

// User is a customer with their order summary.
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

// ProductResponse answers GET /api/product/{id}: the product and its price after the
// pricing rules.
type ProductResponse struct {
	Product Product `json:"product"`
	Pricing Pricing `json:"pricing"`
	Cache   string  `json:"cache"`
}

func (r ProductResponse) Validate() error {
	if err := r.Product.Validate(); err != nil {
		return err
	}
	if r.Pricing.Rule == "" || r.Pricing.ListPriceCents != r.Product.PriceCents {
		return fmt.Errorf("product %d without its pricing", r.Product.ID)
	}
	return validCache(r.Cache)
}

// Product is a product with its stock in every warehouse.
type Product struct {
	ID         int64            `json:"id"`
	SKU        string           `json:"sku"`
	Name       string           `json:"name"`
	Category   string           `json:"category"`
	PriceCents int64            `json:"price_cents"` // the list price, before Pricing
	Stock      int64            `json:"stock"`       // sum over warehouses
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

// WarehouseStock is a product's stock in one warehouse.
type WarehouseStock struct {
	Warehouse string `json:"warehouse"`
	Quantity  int64  `json:"quantity"`
}

// Pricing is the outcome of apply_pricing_rules, in integer cents (never floats for money).
type Pricing struct {
	ListPriceCents  int64  `json:"list_price_cents"`
	DiscountPercent int64  `json:"discount_percent"`
	DiscountCents   int64  `json:"discount_cents"`
	TaxCents        int64  `json:"tax_cents"`
	FinalPriceCents int64  `json:"final_price_cents"`
	Rule            string `json:"rule"` // which discount tier applied
}

// DataResponse answers GET /api/data: a small overview for the home page, the best sellers
// and a summary of every category.
type DataResponse struct {
	TopProducts []TopProduct      `json:"top_products"`
	Categories  []CategorySummary `json:"categories"`
	Cache       string            `json:"cache"`
}

func (r DataResponse) Validate() error {
	if r.TopProducts == nil || r.Categories == nil {
		return errors.New("overview without its top products or categories")
	}
	for _, p := range r.TopProducts {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	for _, c := range r.Categories {
		if err := c.Validate(); err != nil {
			return err
		}
	}
	return validCache(r.Cache)
}

// TopProduct is one of the best sellers by units sold.
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

// CategorySummary is one category: how many products it has and their prices.
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

func validCache(c string) error {
	if c != cacheHit && c != cacheMiss {
		return fmt.Errorf("cache state %q, want hit or miss", c)
	}
	return nil
}
