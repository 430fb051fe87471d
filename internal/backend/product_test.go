package backend

import (
	"github.com/pillars-o11y/pillars/internal/telemetry"

	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

func TestProductRequestAppliesPricingRules(t *testing.T) {
	h := startBackend(t, newFakeDB(t), Config{})

	// Product 250 costs $250.99: tier_200, 10% off (2509.9 → 2510 cents), then 8.25% tax on
	// 22589 cents (1863.5925 → 1864 cents).
	a := h.get(t, "/api/product/250")
	if a.status != http.StatusOK {
		t.Fatalf("status %d, body %s", a.status, a.body)
	}
	got := decode[ProductResponse](t, a)
	want := Pricing{ListPriceCents: 25099, DiscountPercent: 10, DiscountCents: 2510, TaxCents: 1864, FinalPriceCents: 24453, Rule: "tier_200"}
	if got.Pricing != want || got.Product.ID != 250 || got.Cache != cacheMiss {
		t.Errorf("answer %+v, want product 250 priced %+v from a miss", got, want)
	}

	spans := h.spansOf(t, a.traceID)
	entry := spanIn(t, spans, "backend_get_product")
	pricing := spanIn(t, spans, "apply_pricing_rules")
	client := spanIn(t, spans, "GET /db/product/{id}")
	if entry.SpanKind != trace.SpanKindServer || client.SpanKind != trace.SpanKindClient {
		t.Errorf("kinds: entry %v, client %v", entry.SpanKind, client.SpanKind)
	}
	for _, child := range []telemetrytest.SpanStub{pricing, client} {
		if child.Parent.SpanID() != entry.SpanContext.SpanID() {
			t.Errorf("%s is not a child of backend_get_product", child.Name)
		}
	}
	attrs := attribute.NewSet(pricing.Attributes...)
	for k, want := range map[attribute.Key]attribute.Value{
		"pricing.rule":              attribute.StringValue("tier_200"),
		"pricing.discount_percent":  attribute.Int64Value(10),
		"pricing.final_price_cents": attribute.Int64Value(24453),
	} {
		if v, ok := attrs.Value(k); !ok || v != want {
			t.Errorf("apply_pricing_rules %s = %v, want %v", k, v.Emit(), want.Emit())
		}
	}
	for _, msg := range []string{"Processing product request for ID: 250", "Cache miss for product 250",
		"Applied pricing rule tier_200 to product 250", "Product 250 request completed"} {
		if l := h.rec.LogWithMsg(t, msg); l["trace_id"] != a.traceID {
			t.Errorf("log %q has trace_id %v, want %s", msg, l["trace_id"], a.traceID)
		}
	}
	if n := h.rec.HistogramCount(t, "backend_processing_time_seconds", map[string]string{"operation": "apply_pricing_rules"}); n != 1 {
		t.Errorf("apply_pricing_rules timings = %d, want 1", n)
	}

	// A cached product is priced again on every request: the rules are part of every answer.
	b := h.get(t, "/api/product/250")
	if got := decode[ProductResponse](t, b); got.Cache != cacheHit || got.Pricing != want {
		t.Errorf("second answer %+v, want the same price from a hit", got)
	}
	spanIn(t, h.spansOf(t, b.traceID), "apply_pricing_rules")
	if n := len(h.db.seen()); n != 1 {
		t.Errorf("database called %d times, want once", n)
	}
}

func TestDataRequestRunsBothQueriesAndIsCached(t *testing.T) {
	h := startBackend(t, newFakeDB(t), Config{})

	a := h.get(t, "/api/data")
	if a.status != http.StatusOK {
		t.Fatalf("status %d, body %s", a.status, a.body)
	}
	got := decode[DataResponse](t, a)
	if len(got.TopProducts) != 5 || len(got.Categories) != 2 || got.Cache != cacheMiss {
		t.Errorf("answer %+v, want 5 top products and 2 categories from a miss", got)
	}
	spans := h.spansOf(t, a.traceID)
	entry := spanIn(t, spans, "backend_get_data")
	var queries int
	for _, s := range spans {
		if s.Name == "GET /db/query" {
			queries++
			if s.Parent.SpanID() != entry.SpanContext.SpanID() {
				t.Errorf("GET /db/query is not a child of backend_get_data")
			}
		}
	}
	if queries != 2 {
		t.Errorf("trace has %d GET /db/query spans, want 2 (spans %v)", queries, telemetrytest.Names(spans))
	}
	seen := map[string]bool{}
	for _, c := range h.db.seen() {
		seen[c.query] = true
	}
	if !seen["limit=5&name=top_products"] || !seen["name=category_summary"] {
		t.Errorf("database saw queries %v, want top_products with limit 5 and category_summary", seen)
	}
	if v := h.dbCalls(t, opQuery, telemetry.CallSuccess); v != 2 {
		t.Errorf("backend_database_calls_total{query,success} = %v, want 2", v)
	}

	b := h.get(t, "/api/data")
	if got := decode[DataResponse](t, b); got.Cache != cacheHit || len(got.TopProducts) != 5 {
		t.Errorf("second answer %+v, want the overview from a hit", got)
	}
	h.rec.LogWithMsg(t, "Cache hit for data")
	if n := len(h.db.seen()); n != 2 {
		t.Errorf("database called %d times, want 2 (the first request's two queries)", n)
	}
}

// The backend builds its queries itself: the database refusing one (a 400) is the backend's
// failure, a 502, counted as the call's client_error.
func TestRefusedQueryIsABadGateway(t *testing.T) {
	db := newFakeDB(t)
	db.set(func(f *fakeDB) { f.status = http.StatusBadRequest })
	h := startBackend(t, db, Config{})
	if a := h.get(t, "/api/data"); a.status != http.StatusBadGateway {
		t.Errorf("status %d, want 502; body %s", a.status, a.body)
	}
	if v := h.dbCalls(t, opQuery, telemetry.CallClientError); v != 2 {
		t.Errorf("backend_database_calls_total{query,client_error} = %v, want 2", v)
	}
}
