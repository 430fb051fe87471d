package backend

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The pricing rules, all in integer cents so that no price is ever off by a float's rounding.
//
//   - Volume tiers on the list price: under $50 no discount ("standard"), from $50 5%
//     ("tier_50"), from $200 10% ("tier_200"), from $1000 15% ("tier_1000").
//   - Products in the "clearance" category get 30% ("clearance") instead, whatever their price.
//   - Sales tax of 8.25% on the discounted price; "grocery" products are exempt, as food is
//     in most US states.
//
// Discount and tax are each rounded to the cent, half up (0.5 cent becomes 1 cent).
const (
	taxBasisPoints     = 825 // 8.25%
	clearancePercent   = 30
	clearanceCategory  = "clearance"
	taxExemptCategory  = "grocery"
	basisPointsPerUnit = 10000
)

// errNegativePrice is bad data from the database: a price can be zero, never negative.
var errNegativePrice = errors.New("product has a negative list price")

// errPricingFault is a pricing failure made on purpose by the pricing_error_rate fault.
var errPricingFault = errors.New("the pricing rules failed on purpose (fault injection)")

// burnCPU keeps one core busy for d, doing real work (hashing) that the compiler cannot drop:
// the CPU a slow code path costs shows in process_cpu_seconds_total and the span's duration.
func burnCPU(d time.Duration) {
	deadline := time.Now().Add(d)
	h := fnv.New64a()
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		for range 64 {
			_, _ = h.Write(buf)
		}
		buf[0] = byte(h.Sum64())
	}
}

// volumeTier returns the discount tier of a list price.
func volumeTier(listCents int64) (percent int64, rule string) {
	switch {
	case listCents >= 1000_00:
		return 15, "tier_1000"
	case listCents >= 200_00:
		return 10, "tier_200"
	case listCents >= 50_00:
		return 5, "tier_50"
	default:
		return 0, "standard"
	}
}

// priceOf applies the pricing rules to a product.
func priceOf(p database.Product) (Pricing, error) {
	list := p.PriceCents
	if list < 0 {
		return Pricing{}, errNegativePrice
	}
	percent, rule := volumeTier(list)
	if strings.EqualFold(p.Category, clearanceCategory) {
		percent, rule = clearancePercent, "clearance"
	}
	discount := mulDivHalfUp(list, percent, 100)
	taxable := list - discount
	tax := mulDivHalfUp(taxable, taxRateOf(p.Category), basisPointsPerUnit)
	return Pricing{
		ListPriceCents:  list,
		DiscountPercent: percent,
		DiscountCents:   discount,
		TaxCents:        tax,
		FinalPriceCents: taxable + tax,
		Rule:            rule,
	}, nil
}

// taxRateOf returns the sales tax rate of a category, in basis points.
func taxRateOf(category string) int64 {
	if strings.EqualFold(category, taxExemptCategory) {
		return 0
	}
	return taxBasisPoints
}

// mulDivHalfUp returns x*num/den rounded half up, for x >= 0 and 0 <= num <= den, without
// overflowing for any int64 x: x is split as q*den + r so that only r*num (< den²) is
// multiplied in full.
func mulDivHalfUp(x, num, den int64) int64 {
	q, r := x/den, x%den
	return q*num + (r*num+den/2)/den
}

// applyPricingRules is the seed's apply_pricing_rules span: the business logic, traced,
// timed and logged.
func (s *Service) applyPricingRules(ctx context.Context, p database.Product) (Pricing, error) {
	start := time.Now()
	ctx, span := s.tel.Tracer.Start(ctx, "apply_pricing_rules", trace.WithAttributes(
		attribute.Int64("app.product.id", p.ID),
		attribute.String("app.product.category", p.Category),
		attribute.Int64("pricing.list_price_cents", p.PriceCents),
	))
	defer span.End()
	f := s.faults.ForRequest(ctx)
	if f.CPUBurn > 0 {
		s.faults.Annotate(ctx, attribute.Int64("pillars.fault.cpu_burn_ms", f.CPUBurn.D().Milliseconds()))
		burnCPU(f.CPUBurn.D())
	}
	pr, err := priceOf(p)
	if err == nil && faults.Happens(f.PricingErrorRate) {
		s.faults.Annotate(ctx, attribute.Bool("pillars.fault.error", true))
		err = s.faults.Unlabel(errPricingFault, "pricing rules failed: rule evaluation error")
	}
	telemetry.Observe(ctx, s.metrics.pricing, time.Since(start).Seconds())
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		s.tel.Logger.ErrorContext(ctx, "Pricing failed for product "+strconv.FormatInt(p.ID, 10),
			"product_id", p.ID, "price_cents", p.PriceCents, "error", err.Error())
		return Pricing{}, err
	}
	span.SetAttributes(
		attribute.String("pricing.rule", pr.Rule),
		attribute.Int64("pricing.discount_percent", pr.DiscountPercent),
		attribute.Int64("pricing.discount_cents", pr.DiscountCents),
		attribute.Int64("pricing.tax_basis_points", taxRateOf(p.Category)),
		attribute.Int64("pricing.tax_cents", pr.TaxCents),
		attribute.Int64("pricing.final_price_cents", pr.FinalPriceCents),
	)
	s.tel.Logger.InfoContext(ctx, "Applied pricing rule "+pr.Rule+" to product "+strconv.FormatInt(p.ID, 10),
		"product_id", p.ID, "rule", pr.Rule, "discount_percent", pr.DiscountPercent,
		"list_price_cents", pr.ListPriceCents, "final_price_cents", pr.FinalPriceCents)
	return pr, nil
}
