package backend

import (
	"errors"
	"fmt"

	"github.com/pillars-o11y/pillars/internal/database"
)

// The backend's wire types: what /api/* answers, and what Client returns. Each checks itself
// (Validate), so that the frontend tells a complete answer from an empty object.

// UserResponse answers GET /api/user/{id}.
type UserResponse struct {
	User  database.User `json:"user"`
	Cache string        `json:"cache"` // "hit" or "miss"
}

func (r UserResponse) Validate() error {
	if err := r.User.Validate(); err != nil {
		return err
	}
	return validCache(r.Cache)
}

// ProductResponse answers GET /api/product/{id}: the product and its price after the
// pricing rules.
type ProductResponse struct {
	Product database.Product `json:"product"`
	Pricing Pricing          `json:"pricing"`
	Cache   string           `json:"cache"`
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

// Pricing is the outcome of apply_pricing_rules, in integer cents (never floats for money).
type Pricing struct {
	ListPriceCents  int64  `json:"list_price_cents"`
	DiscountPercent int64  `json:"discount_percent"`
	DiscountCents   int64  `json:"discount_cents"`
	TaxCents        int64  `json:"tax_cents"`
	FinalPriceCents int64  `json:"final_price_cents"`
	Rule            string `json:"rule"` // which discount tier applied
}

// DataResponse answers GET /api/data: a small overview for the home page, the rows of the
// database's top_products and category_summary queries.
type DataResponse struct {
	TopProducts []database.TopProduct      `json:"top_products"`
	Categories  []database.CategorySummary `json:"categories"`
	Cache       string                     `json:"cache"`
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

func validCache(c string) error {
	if c != cacheHit && c != cacheMiss {
		return fmt.Errorf("cache state %q, want hit or miss", c)
	}
	return nil
}
