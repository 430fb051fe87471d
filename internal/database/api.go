package database

import "time"

// The database service's wire types: what /db/* answers, and what Client returns.

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

// WarehouseStock is one inventory row.
type WarehouseStock struct {
	Warehouse string `json:"warehouse"`
	Quantity  int64  `json:"quantity"`
}

// QueryResult is the answer of a named query.
type QueryResult struct {
	Query string           `json:"query"`
	Rows  []map[string]any `json:"rows"`
}

// Faults are the runtime fault-injection knobs (GET/PUT /admin/faults). Zero means off.
type Faults struct {
	Latency   Duration `json:"latency"`    // added to every query
	Jitter    Duration `json:"jitter"`     // uniform random extra in [0, Jitter)
	ErrorRate float64  `json:"error_rate"` // share of queries that fail, 0..1
}
