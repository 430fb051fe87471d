package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pillars-o11y/pillars/internal/drill"
	"github.com/pillars-o11y/pillars/internal/mcp"
)

// deskDrills serves the MCP server's drill tools from a drill desk: the same desk, state
// directory and answer key as `pillars drill`, so an episode started from either is answered
// from either. The key stays in the desk; the tools see only what the desk's answers hold.
type deskDrills struct{ d *drill.Desk }

func (a deskDrills) Start(ctx context.Context, seed int64) (any, error) { return a.d.Start(ctx, seed) }
func (a deskDrills) Status(ctx context.Context) (any, error)            { return a.d.Status(ctx) }
func (a deskDrills) Score(ctx context.Context) (any, error)             { return a.d.Score(ctx) }
func (a deskDrills) Answer(ctx context.Context, diagnosis json.RawMessage) (any, error) {
	return a.d.Answer(ctx, bytes.NewReader(diagnosis))
}

var _ mcp.Drills = deskDrills{}

// registerDrillFlags adds to `pillars mcp` the flags of the drill desk that its own store
// and token flags do not already give.
func (o *drillOptions) registerForMCP(f *flags, getenv func(string) string) {
	f.String(&o.stateDir, "state-dir", defaultDrillDir(getenv), "where drill episodes, their answer keys and the results are kept (0700), as for pillars drill")
	f.String(&o.frontendURL, "frontend-url", "http://127.0.0.1:8001", "the frontend's base URL (the drill tools)")
	f.String(&o.backendURL, "backend-url", "http://127.0.0.1:8002", "the backend's base URL (the drill tools)")
	f.String(&o.databaseURL, "database-url", "http://127.0.0.1:8003", "the database service's base URL (the drill tools)")
	f.Float(&o.timescale, "drill-timescale", 1, "run a drill episode's timing this many times faster")
	f.Duration(&o.manifestWithin, "manifest-within", 4*time.Minute, "how long a drill's symptoms may take to show before the episode is void")
	f.Duration(&o.poll, "poll", 5*time.Second, "how often a drill's symptoms and state are read")
}

// serveBenchMCP serves an MCP server over streamable HTTP on a free loopback port for the
// agents of `pillars drill bench`, on the bench's own desk and stores, until ctx ends. It
// returns the endpoint.
func serveBenchMCP(ctx context.Context, d *drill.Desk, o drillOptions, stderr io.Writer) (string, error) {
	m := mcpFlags{
		prometheusURL: o.stores.PrometheusURL, tracesURL: o.stores.TracesURL, tracesKind: o.stores.TracesKind,
		logsURL: o.stores.LogsURL, logsKind: o.stores.LogsKind, token: o.token,
	}
	cfg, err := openMCPStores(ctx, m, stderr)
	if err != nil {
		return "", err
	}
	cfg.AdminToken, cfg.Version, cfg.Drills = o.token, version(), deskDrills{d}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.Handler(mcp.New(cfg), mcp.HTTPOptions{Token: o.token}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with Close below
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	url := fmt.Sprintf("http://%s/mcp", ln.Addr())
	fmt.Fprintf(stderr, "drill bench: agents reach the MCP server at %s\n", url)
	return url, nil
}
