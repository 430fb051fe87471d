package telemetry

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/http/pprof"
	"strings"
)

// AdminGuard protects a service's admin endpoints (/admin/...): with a token, every call must
// carry "Authorization: Bearer <token>"; without one, they are open only while the service
// listens on loopback alone, and locked otherwise (a fault switch reachable from the network
// must not be open to anyone). Refusals are 401 JSON errors.
type AdminGuard struct {
	tel    *Telemetry
	token  string
	locked bool
}

// AdminConfig is how a service's admin endpoints are protected.
type AdminConfig struct {
	Token   string // PILLARS_ADMIN_TOKEN; empty means none
	Exposed bool   // the service listens beyond loopback
}

// NewAdminGuard returns the guard of a service; loopbackOnly says whether it listens on
// loopback addresses only.
func (t *Telemetry) NewAdminGuard(token string, loopbackOnly bool) *AdminGuard {
	return &AdminGuard{tel: t, token: token, locked: token == "" && !loopbackOnly}
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

// Profiles serves Go's runtime profiles (/debug/pprof/...) behind the guard: where a
// deployed service spends its CPU and memory, read with `go tool pprof`.
func (g *AdminGuard) Profiles(mux *http.ServeMux) {
	mux.Handle("GET /debug/pprof/", g.Wrap(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/cmdline", g.Wrap(http.HandlerFunc(pprof.Cmdline)))
	mux.Handle("GET /debug/pprof/profile", g.Wrap(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/symbol", g.Wrap(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("GET /debug/pprof/trace", g.Wrap(http.HandlerFunc(pprof.Trace)))
}
