package mcp

import (
	"context"
	"errors"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Config is what the server reads from and how it guards the tools that change anything.
type Config struct {
	// The stores; the tools of a store that is nil are left out.
	Metrics Metrics
	Traces  Traces
	Logs    Logs
	// Drills serves the drill tools; nil leaves them out of the tool list.
	Drills Drills
	// AdminToken is what the tools that change anything require: over HTTP as the request's
	// "Authorization: Bearer" header; a session without HTTP headers (stdio) is its process,
	// which holds the token when the server was given one. Empty: those tools are refused.
	AdminToken string
	// Version is the server's version in the MCP handshake.
	Version string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// server holds the configuration the tool handlers share.
type server struct {
	cfg Config
}

// New returns the MCP server with every tool the configuration supports.
func New(cfg Config) *sdk.Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg}
	srv := sdk.NewServer(&sdk.Implementation{Name: "pillars", Version: cfg.Version}, &sdk.ServerOptions{
		Instructions: instructions,
	})
	if cfg.Metrics != nil {
		s.addMetricTools(srv)
	}
	if cfg.Traces != nil {
		s.addTraceTools(srv)
	}
	if cfg.Logs != nil {
		s.addLogTools(srv)
	}
	if cfg.Drills != nil {
		s.addDrillTools(srv)
	}
	return srv
}

// instructions is the one paragraph an agent reads before the tools.
const instructions = "Telemetry of pillars (frontend -> backend -> database). Answers are pages ending in \"-- rows a-b of n; next=k\": call again with offset=k for more. Times: RFC 3339 or an age like 15m."

// errUnauthorized is the refusal of a tool that changes something to a caller without the token.
var errUnauthorized = errors.New("this tool changes the deployment and needs the admin token (HTTP: Authorization: Bearer <token>; stdio: start the server with PILLARS_ADMIN_TOKEN)")

// authorize lets a call through to a tool that changes something when it holds the token.
func (s *server) authorize(req *sdk.CallToolRequest) error {
	if s.cfg.AdminToken == "" {
		return errUnauthorized
	}
	if req.Extra == nil || req.Extra.Header == nil {
		return nil // stdio or in-process: the process was given the token
	}
	if !bearerIs(req.Extra.Header, s.cfg.AdminToken) {
		return errUnauthorized
	}
	return nil
}

// text is a tool's answer: one text block.
func text(s string) *sdk.CallToolResult {
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: s}}}
}

// handler adapts a tool that answers text to the SDK's typed handler: an error becomes a tool
// error (IsError, the message as text), which the agent reads and can act on.
func handler[In any](f func(ctx context.Context, req *sdk.CallToolRequest, in In) (string, error)) sdk.ToolHandlerFor[In, any] {
	return func(ctx context.Context, req *sdk.CallToolRequest, in In) (*sdk.CallToolResult, any, error) {
		out, err := f(ctx, req, in)
		if err != nil {
			return nil, nil, err
		}
		return text(out), nil, nil
	}
}
