package backend

import "github.com/pillars-o11y/pillars/internal/database"

// The one place where the database's rows become the backend's wire types (api.go), field by
// field: a column the database adds or renames reaches the backend's answers only through an
// edit here. The cache keeps database rows; they are mapped as each answer is written.

func userOf(u database.User) User {
	return User{
		ID:                 u.ID,
		Name:               u.Name,
		Email:              u.Email,
		Tier:               u.Tier,
		CreatedAt:          u.CreatedAt,
		OrderCount:         u.OrderCount,
		LifetimeSpendCents: u.LifetimeSpendCents,
	}
}

func productOf(p database.Product) Product {
	inventory := make([]WarehouseStock, 0, len(p.Inventory))
	for _, w := range p.Inventory {
		inventory = append(inventory, WarehouseStock{Warehouse: w.Warehouse, Quantity: w.Quantity})
	}
	return Product{
		ID:         p.ID,
		SKU:        p.SKU,
		Name:       p.Name,
		Category:   p.Category,
		PriceCents: p.PriceCents,
		Stock:      p.Stock,
		Inventory:  inventory,
	}
}

func topProductsOf(rows []database.TopProduct) []TopProduct {
	out := make([]TopProduct, 0, len(rows))
	for _, r := range rows {
		out = append(out, TopProduct{
			ProductID:    r.ProductID,
			Name:         r.Name,
			Category:     r.Category,
			UnitsSold:    r.UnitsSold,
			RevenueCents: r.RevenueCents,
		})
	}
	return out
}

func categoriesOf(rows []database.CategorySummary) []CategorySummary {
	out := make([]CategorySummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, CategorySummary{
			Category:      r.Category,
			Products:      r.Products,
			MinPriceCents: r.MinPriceCents,
			MaxPriceCents: r.MaxPriceCents,
			AvgPriceCents: r.AvgPriceCents,
		})
	}
	return out
}

// notFoundCode is the backend's code for a database's "no such row" code: the two APIs agree
// today, and this says so instead of passing the database's word on unread.
func notFoundCode(databaseCode string) string {
	switch databaseCode {
	case database.CodeUserNotFound:
		return CodeUserNotFound
	case database.CodeProductNotFound:
		return CodeProductNotFound
	}
	return ""
}
