package backend

import "github.com/pillars-o11y/pillars/internal/database"

// The backend's wire types: what /api/* answers, and what Client returns.

// UserResponse answers GET /api/user/{id}.
type UserResponse struct {
	User  database.User `json:"user"`
	Cache string        `json:"cache"` // "hit" or "miss"
}

// ProductResponse answers GET /api/product/{id}: the product and its price after the
// pricing rules.
type ProductResponse struct {
	Product database.Product `json:"product"`
	Pricing Pricing          `json:"pricing"`
	Cache   string           `json:"cache"`
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

// DataResponse answers GET /api/data: a small overview for the home page.
type DataResponse struct {
	TopProducts []map[string]any `json:"top_products"`
	Categories  []map[string]any `json:"categories"`
	Cache       string           `json:"cache"`
}
