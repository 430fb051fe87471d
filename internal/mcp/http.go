package mcp

import (
	"crypto/subtle"
	"net/http"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// HTTPOptions is how the streamable-HTTP endpoint is guarded.
type HTTPOptions struct {
	// RequireToken makes every request present the bearer token, not only the calls of tools
	// that change something: an endpoint reachable beyond loopback shows nothing to strangers.
	RequireToken bool
	Token        string
}

// Handler serves srv over streamable HTTP. It is stateless: every request stands alone, so a
// client that goes away leaves no session behind.
func Handler(srv *sdk.Server, o HTTPOptions) http.Handler {
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, &sdk.StreamableHTTPOptions{
		Stateless: true,
		// A client that gives up on a call stops the store query it started.
		PropagateRequestCancellation: true,
	})
	if !o.RequireToken {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerIs(r.Header, o.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pillars"`)
			http.Error(w, "this MCP endpoint needs the admin token: Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// bearerIs reports whether the request's "Authorization: Bearer" header holds token (never
// when token is empty), in constant time.
func bearerIs(h http.Header, token string) bool {
	tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	return token != "" && ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(token)) == 1
}
