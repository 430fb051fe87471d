package mcp

import (
	"context"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Dial connects an MCP client to the streamable-HTTP endpoint at url, presenting token (when
// not empty) as the bearer token of every request.
func Dial(ctx context.Context, url, token string, client *http.Client) (*sdk.ClientSession, error) {
	if client == nil {
		client = http.DefaultClient
	}
	hc := *client
	if token != "" {
		hc.Transport = bearer{token: token, next: orDefault(client.Transport)}
	}
	c := sdk.NewClient(&sdk.Implementation{Name: "pillars-agent"}, nil)
	return c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: &hc, DisableStandaloneSSE: true}, nil)
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

func orDefault(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}
