package telemetry

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
)

// AdminGuard protects a service's admin endpoints (/admin/...): with a token, every call must
// carry "Authorization: Bearer <token>"; without one, they are open only while the service
// listens on loopback alone, and locked otherwise (a fault switch reachable from the network
// must not be open to anyone). Refusals are 401 JSON errors.
//
// An open loopback API is still reachable from a browser on the same machine: a page can
// rebind its own name to 127.0.0.1 (DNS rebinding) or post to the port cross-site. So without
// a token only loopback Host names are answered, and in every mode a write from another
// origin is refused (403), as net/http's CrossOriginProtection judges it: by Sec-Fetch-Site,
// else by an Origin whose host is not the request's own.
type AdminGuard struct {
	tel         *Telemetry
	token       string
	locked      bool
	crossOrigin *http.CrossOriginProtection
}

// AdminConfig is how a service's admin endpoints are protected.
type AdminConfig struct {
	Token   string // PILLARS_ADMIN_TOKEN; empty means none
	Exposed bool   // the service listens beyond loopback
}

// NewAdminGuard returns the guard of a service; loopbackOnly says whether it listens on
// loopback addresses only.
func (t *Telemetry) NewAdminGuard(token string, loopbackOnly bool) *AdminGuard {
	return &AdminGuard{tel: t, token: token, locked: token == "" && !loopbackOnly,
		crossOrigin: http.NewCrossOriginProtection()}
}

// Guard returns the guard this configuration asks for.
func (t *Telemetry) Guard(c AdminConfig) *AdminGuard { return t.NewAdminGuard(c.Token, !c.Exposed) }

// Wrap lets a request through to h only when the guard allows it.
func (g *AdminGuard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case g.locked:
			w.Header().Set("WWW-Authenticate", `Bearer realm="pillars admin"`)
			g.tel.WriteError(w, r, http.StatusUnauthorized,
				errors.New("admin endpoints are locked: this service listens beyond loopback and has no admin token (set PILLARS_ADMIN_TOKEN)"))
		case g.token == "" && !LoopbackHost(r.Host):
			g.tel.WriteError(w, r, http.StatusForbidden, fmt.Errorf(
				"admin endpoints without an admin token answer only loopback host names (localhost, 127.0.0.1, [::1]), and this request named %q: call the service as http://127.0.0.1:<port>, or set PILLARS_ADMIN_TOKEN",
				Excerpt(r.Host)))
		case g.crossOrigin.Check(r) != nil:
			g.tel.WriteError(w, r, http.StatusForbidden, errors.New(
				"admin changes from another site's page are refused: the request came from a different origin than the admin API's own (Origin or Sec-Fetch-Site); use the console this service serves, or the command line"))
		case g.token != "" && !g.allows(r):
			w.Header().Set("WWW-Authenticate", `Bearer realm="pillars admin"`)
			g.tel.WriteError(w, r, http.StatusUnauthorized,
				errors.New("admin endpoints need the admin token: send Authorization: Bearer <PILLARS_ADMIN_TOKEN>"))
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// HasToken reports whether the admin endpoints need a token: what drill mode requires, so
// that the reads that would name a fault are closed to whoever lacks it.
func (g *AdminGuard) HasToken() bool { return g.token != "" }

func (g *AdminGuard) allows(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(g.token)) == 1
}

// LoopbackHost reports whether hostport (a Host header: a name or address, with or without a
// port) names this machine's loopback: localhost, 127.0.0.0/8 or [::1]. A rebound name such
// as rebind.attacker.example is not, whatever address it resolved to.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithOperations serves the routes of ops (the admin API, the console and its assets, probes,
// /metrics, profiles) as they are, and every other request through app, the instrumented
// routes. The operations of a service are not its requests: a console polling every few
// seconds, a scenario's admin calls or a scraper would otherwise each make a trace and count
// in the request metrics, the SLOs and the alert rules the contract defines on them.
//
// The admin namespaces (/admin/, /debug/pprof/) stay with ops whatever the method, so a wrong
// method or path there is answered as JSON (405 with Allow, or 404) outside telemetry too.
func (t *Telemetry) WithOperations(ops *http.ServeMux, app http.Handler) http.Handler {
	return &withOperations{ops: ops, notFound: t.fallback(ops), app: app}
}

type withOperations struct {
	ops           *http.ServeMux
	notFound, app http.Handler
}

func (h *withOperations) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.ops.Handler(r); pattern != "" {
		h.ops.ServeHTTP(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/admin/") || strings.HasPrefix(r.URL.Path, "/debug/pprof/") {
		h.notFound.ServeHTTP(w, r)
		return
	}
	h.app.ServeHTTP(w, r)
}

// Profiles serves Go's runtime profiles (/debug/pprof/...) behind the guard: where a
// deployed service spends its CPU and memory, read with `go tool pprof`.
func (g *AdminGuard) Profiles(mux *http.ServeMux) {
	mux.Handle("GET /debug/pprof/", g.Wrap(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/cmdline", g.Wrap(http.HandlerFunc(pprof.Cmdline)))
	mux.Handle("GET /debug/pprof/profile", g.Wrap(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/symbol", g.Wrap(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("GET /debug/pprof/trace", g.Wrap(http.HandlerFunc(pprof.Trace)))
}
