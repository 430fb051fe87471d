package frontend

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
)

// homeTemplate is the page a browser gets for GET /: a few links into the system and the id of
// the trace that rendered it, so that a click can be followed into the trace store.
const homeTemplate = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pillars</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0; }
.lead { color: #555; margin-top: .25rem; }
code { background: #f2f2f2; padding: .1rem .3rem; border-radius: 3px; }
.columns { display: flex; gap: 3rem; flex-wrap: wrap; }
ul { padding-left: 1.2rem; }
footer { margin-top: 2rem; font-size: .9rem; color: #666; }
</style>
</head>
<body>
<h1>pillars</h1>
<p class="lead">Three services, one trace per request: metrics, logs and traces linked by trace id.</p>
<p>This page's trace: <code id="trace-id">{{.TraceID}}</code> (backend cache: {{.Cache}})</p>
<div class="columns">
<section>
<h2>Users</h2>
<ul>
{{- range .Users}}
<li><a href="/user/{{.}}">User {{.}}</a></li>
{{- end}}
</ul>
</section>
<section>
<h2>Products</h2>
<ul>
{{- range .Products}}
<li><a href="/product/{{.ID}}">{{.Name}}</a></li>
{{- end}}
</ul>
</section>
</div>
<p>Each link answers JSON with its own <code>trace_id</code> and a <code>traceresponse</code> header.</p>
<footer><a href="/metrics">metrics</a> · <a href="/health">health</a></footer>
</body>
</html>
`

func parseHomeTemplate() (*template.Template, error) {
	return template.New("home").Parse(homeTemplate)
}

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
	TraceID  string
	Cache    string
	Users    []int64
	Products []productLink
}

// renderHome writes the HTML page. It renders into a buffer first so that a template failure
// is a clean 500, not half a page.
func (s *Service) renderHome(w http.ResponseWriter, r *http.Request, data backend.DataResponse) {
	view := homeView{
		TraceID:  traceID(r.Context()),
		Cache:    data.Cache,
		Users:    s.homeLinks.users,
		Products: topProductLinks(data.TopProducts, s.cfg.MaxProductID),
	}
	if len(view.Products) == 0 {
		view.Products = s.homeLinks.products
	}
	var buf bytes.Buffer
	if err := s.home.Execute(&buf, view); err != nil {
		s.metrics.countError(r.Context(), errInternal)
		s.tel.WriteError(w, r, http.StatusInternalServerError, errors.New("rendering the home page: "+err.Error()))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// topProductLinks links the backend's top products that lie inside the seeded range.
func topProductLinks(top []database.TopProduct, maxProductID int64) []productLink {
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
