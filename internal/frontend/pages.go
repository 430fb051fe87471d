package frontend

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The pages a person reads: the home, user and product pages when a browser asks for HTML,
// and the console. Templates, the stylesheet and the console's script are embedded in the
// binary; there is no build step and nothing is loaded from elsewhere.

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// pageNames are the pages, one template file each, all drawn in templates/layout.html.
var pageNames = []string{"home", "user", "product", "console"}

// pages are the parsed templates, by page name.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	version, err := assetsVersion()
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"money": money,
		// asset is an asset's URL, which changes with its content: browsers keep assets for a
		// day, and a new binary's are fetched at once.
		"asset": func(name string) string { return "/assets/" + name + "?v=" + version },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("frontend: page layout: %w", err)
	}
	p := pages{}
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("frontend: page %s: %w", name, err)
		}
		p[name] = t
	}
	return p, nil
}

// assetsVersion is a digest of every asset.
func assetsVersion() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(assetFiles, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFiles.ReadFile(path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12], err
}

// pageView is what every page is drawn from: its title, the class of its body (the page's
// name), the trace of the request that drew it, and the page's own data.
type pageView struct {
	Title string
	Class string
	Trace traceLink
	Data  any
}

// contentSecurityPolicy lets a page load only the frontend's own stylesheet, script and
// icon, and call only the frontend: no inline script, nothing from another origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// renderPage writes page as HTML. It renders into a buffer first so that a template failure
// is a clean 500, not half a page.
func (s *Service) renderPage(w http.ResponseWriter, r *http.Request, page, title string, data any) {
	view := pageView{Title: title, Class: page, Trace: s.links.of(traceID(r.Context())), Data: data}
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", view); err != nil {
		s.metrics.countError(r.Context(), errInternal)
		s.tel.WriteError(w, r, http.StatusInternalServerError, errors.New("rendering the "+page+" page: "+err.Error()))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// userPage and productPage are the backend's answers, as the pages show them.
func (s *Service) userPage(w http.ResponseWriter, r *http.Request, resp backend.UserResponse) {
	s.renderPage(w, r, "user", resp.User.Name, resp)
}

func (s *Service) productPage(w http.ResponseWriter, r *http.Request, resp backend.ProductResponse) {
	s.renderPage(w, r, "product", resp.Product.Name, resp)
}

// money writes integer cents as dollars: 119310 → $1,193.10.
func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("%s$%s.%02d", sign, whole, cents%100)
}

// serveAsset answers GET /assets/{file}: the stylesheet, the console's script and the icon.
func (s *Service) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := "assets/" + r.PathValue("file")
	if st, err := fs.Stat(assetFiles, name); err != nil || st.IsDir() {
		s.tel.WriteError(w, r, http.StatusNotFound, errors.New("no asset "+strconv.Quote(telemetry.Excerpt(r.PathValue("file")))))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(w, r, assetFiles, name)
}
