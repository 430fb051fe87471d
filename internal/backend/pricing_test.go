package backend

import (
	"errors"
	"math"
	"testing"

	"github.com/pillars-o11y/pillars/internal/database"
)

func TestPricingRules(t *testing.T) {
	cases := []struct {
		name     string
		list     int64
		category string
		want     Pricing
	}{
		{"free", 0, "tools", Pricing{Rule: "standard"}},
		{"one cent: tax rounds down", 1, "tools",
			Pricing{ListPriceCents: 1, FinalPriceCents: 1, Rule: "standard"}}, // 0.0825 → 0
		{"six cents: 0.495 cent of tax rounds down", 6, "tools",
			Pricing{ListPriceCents: 6, TaxCents: 0, FinalPriceCents: 6, Rule: "standard"}}, // 0.495 → 0
		{"seven cents", 7, "tools",
			Pricing{ListPriceCents: 7, TaxCents: 1, FinalPriceCents: 8, Rule: "standard"}}, // 0.5775 → 1
		{"tax exactly half a cent rounds up", 200, "tools",
			Pricing{ListPriceCents: 200, TaxCents: 17, FinalPriceCents: 217, Rule: "standard"}}, // 16.5 → 17
		{"just under $50", 4999, "tools",
			Pricing{ListPriceCents: 4999, TaxCents: 412, FinalPriceCents: 5411, Rule: "standard"}}, // 412.4175
		{"$50", 5000, "tools",
			Pricing{ListPriceCents: 5000, DiscountPercent: 5, DiscountCents: 250, TaxCents: 392, FinalPriceCents: 5142, Rule: "tier_50"}}, // 391.875
		{"discount exactly half a cent rounds up", 5010, "tools",
			Pricing{ListPriceCents: 5010, DiscountPercent: 5, DiscountCents: 251, TaxCents: 393, FinalPriceCents: 5152, Rule: "tier_50"}}, // 250.5; 392.6175
		{"just under $200", 19999, "tools",
			Pricing{ListPriceCents: 19999, DiscountPercent: 5, DiscountCents: 1000, TaxCents: 1567, FinalPriceCents: 20566, Rule: "tier_50"}}, // 999.95; 1566.9175
		{"$200", 20000, "tools",
			Pricing{ListPriceCents: 20000, DiscountPercent: 10, DiscountCents: 2000, TaxCents: 1485, FinalPriceCents: 19485, Rule: "tier_200"}},
		{"$1000", 100000, "tools",
			Pricing{ListPriceCents: 100000, DiscountPercent: 15, DiscountCents: 15000, TaxCents: 7013, FinalPriceCents: 92013, Rule: "tier_1000"}}, // 7012.5
		{"clearance beats the tier", 100000, "clearance",
			Pricing{ListPriceCents: 100000, DiscountPercent: 30, DiscountCents: 30000, TaxCents: 5775, FinalPriceCents: 75775, Rule: "clearance"}},
		{"clearance under $50", 1000, "Clearance",
			Pricing{ListPriceCents: 1000, DiscountPercent: 30, DiscountCents: 300, TaxCents: 58, FinalPriceCents: 758, Rule: "clearance"}}, // 57.75
		{"grocery is tax exempt", 25000, "grocery",
			Pricing{ListPriceCents: 25000, DiscountPercent: 10, DiscountCents: 2500, FinalPriceCents: 22500, Rule: "tier_200"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := priceOf(database.Product{PriceCents: c.list, Category: c.category})
			if err != nil || got != c.want {
				t.Errorf("priceOf(%d, %s) = %+v, %v\nwant %+v", c.list, c.category, got, err, c.want)
			}
			if got.FinalPriceCents != got.ListPriceCents-got.DiscountCents+got.TaxCents {
				t.Errorf("final price %d is not list - discount + tax", got.FinalPriceCents)
			}
		})
	}
}

func TestPricingRejectsANegativePrice(t *testing.T) {
	if _, err := priceOf(database.Product{PriceCents: -1}); !errors.Is(err, errNegativePrice) {
		t.Errorf("err = %v, want errNegativePrice", err)
	}
}

func TestMulDivHalfUpDoesNotOverflow(t *testing.T) {
	// math.MaxInt64 * 825 / 10000 rounded half up, worked out without overflow:
	// MaxInt64 = 922337203685477 * 10000 + 5807; 5807 * 825 = 4790775 → 479.0775 → 479.
	want := int64(922337203685477)*825 + 479
	if got := mulDivHalfUp(math.MaxInt64, 825, 10000); got != want {
		t.Errorf("mulDivHalfUp(MaxInt64) = %d, want %d", got, want)
	}
}
