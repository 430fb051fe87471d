package frontend

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pillars-o11y/pillars/internal/backend"
)

type productLink struct {
	ID   int64
	Name string
}

// homeLinks are the fixed links of the home page, inside the seeded id ranges.
type homeLinks struct {
	users    []int64
	products []productLink
}

func newHomeLinks(maxUserID, maxProductID int64) homeLinks {
	var l homeLinks
	for _, id := range []int64{1, 7, 42, 123, 999, 2500} {
		if id <= maxUserID {
			l.users = append(l.users, id)
		}
	}
	for _, id := range []int64{1, 7, 42, 123, 500} {
		if id <= maxProductID {
			l.products = append(l.products, productLink{ID: id, Name: "Product " + strconv.FormatInt(id, 10)})
		}
	}
	return l
}

type homeView struct {
	Cache    string
	Users    []int64
	Products []productLink
}

// renderHome writes the HTML page: a few links into the system and the id of the trace that
// rendered it, so that a click can be followed into the trace store.
func (s *Service) renderHome(w http.ResponseWriter, r *http.Request, data backend.DataResponse) {
	view := homeView{
		Cache:    data.Cache,
		Users:    s.homeLinks.users,
		Products: topProductLinks(data.TopProducts, s.cfg.MaxProductID),
	}
	if len(view.Products) == 0 {
		view.Products = s.homeLinks.products
	}
	s.renderPage(w, r, "home", "Home", view)
}

// topProductLinks links the backend's top products that lie inside the seeded range.
func topProductLinks(top []backend.TopProduct, maxProductID int64) []productLink {
	var out []productLink
	for _, p := range top {
		if p.ProductID < 1 || p.ProductID > maxProductID {
			continue
		}
		out = append(out, productLink{ID: p.ProductID, Name: p.Name})
	}
	return out
}

// prefersHTML reports whether an Accept header ranks text/html above application/json, by
// the q-values of the most specific ranges matching each. Equal ranks ("*/*", no header) mean
// JSON, the API's default.
func prefersHTML(accept string) bool {
	if accept == "" {
		return false
	}
	htmlQ, htmlSpec := 0.0, -1
	jsonQ, jsonSpec := 0.0, -1
	for accept != "" {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		mediaRange, params, _ := strings.Cut(part, ";")
		mediaRange = strings.TrimSpace(mediaRange)
		typ, sub, ok := strings.Cut(mediaRange, "/")
		if !ok {
			continue
		}
		q := qValue(params)
		if spec := specificity(typ, sub, "text", "html"); spec > htmlSpec {
			htmlQ, htmlSpec = q, spec
		}
		if spec := specificity(typ, sub, "application", "json"); spec > jsonSpec {
			jsonQ, jsonSpec = q, spec
		}
	}
	return htmlSpec >= 0 && htmlQ > 0 && htmlQ > jsonQ
}

// specificity says how closely the range typ/sub matches wantTyp/wantSub: 2 exactly, 1 by
// type/*, 0 by */*, -1 not at all.
func specificity(typ, sub, wantTyp, wantSub string) int {
	switch {
	case typ == "*" && sub == "*":
		return 0
	case !strings.EqualFold(typ, wantTyp):
		return -1
	case sub == "*":
		return 1
	case strings.EqualFold(sub, wantSub):
		return 2
	}
	return -1
}

// qValue reads q= from a media range's parameters (1 when absent or malformed).
func qValue(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 1
		}
		return q
	}
	return 1
}
