package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pillars-o11y/pillars/internal/mcp"
	"github.com/pillars-o11y/pillars/internal/readback"
)

const mcpSummary = `Serves the deployment's telemetry to agents over the Model Context Protocol: PromQL, metric and
label discovery, services and operations, trace search, one trace as a waterfall, log queries,
firing alerts, and the drill tools. Every answer is a bounded page of text. Over stdio by
default (an IDE agent starts it as a command); with --listen, over streamable HTTP at /mcp.
Beyond loopback every request needs the admin token; the tools that change anything always do.`

// mcpFlags are the flags of `pillars mcp`.
type mcpFlags struct {
	listen                                                  string
	prometheusURL, tracesURL, tracesKind, logsURL, logsKind string
	token, tokenFile                                        string
	drill                                                   drillOptions
}

func parseMCPFlags(args []string, getenv func(string) string, stderr io.Writer) (mcpFlags, error) {
	var m mcpFlags
	f := newFlags("mcp", mcpSummary, stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pillars mcp [flags]\n\n%s\n\nFlags (each also read from the environment variable shown):\n", mcpSummary)
		f.fs.PrintDefaults()
	}
	f.String(&m.listen, "listen", "", "serve streamable HTTP on this address (e.g. 127.0.0.1:8765) instead of stdio")
	storeFlags{&m.prometheusURL, &m.tracesURL, &m.tracesKind, &m.logsURL, &m.logsKind}.register(f)
	f.String(&m.token, "admin-token", "", "the admin token: what HTTP clients present as a bearer token to start drills; over stdio, holding it lets the session start them")
	f.String(&m.tokenFile, "admin-token-file", "", "file holding the admin token; --admin-token wins")
	m.drill.registerForMCP(f, getenv)
	if err := f.parse(args, getenv); err != nil {
		return m, err
	}
	tok, err := adminToken(m.token, m.tokenFile, false)
	if err != nil {
		return m, usageError{err}
	}
	m.token = tok
	if m.listen != "" && !loopbackAddr(m.listen) && m.token == "" {
		return m, errExposedWithoutToken(m.listen)
	}
	return m, nil
}

// loopbackAddr reports whether host:port names a loopback host; an empty host (every
// interface) does not.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func errExposedWithoutToken(addr string) error {
	return usageError{fmt.Errorf("--listen %s is beyond loopback: give --admin-token (or --admin-token-file), which every request must then present", addr)}
}

// runMCP serves MCP until ctx ends (HTTP) or the client closes stdin (stdio).
func runMCP(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	m, err := parseMCPFlags(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := openMCPStores(ctx, m, stderr)
	if err != nil {
		return err
	}
	cfg.AdminToken, cfg.Version = m.token, version()
	drills, err := mcpDrills(ctx, m, stderr)
	if err != nil {
		return err
	}
	cfg.Drills = drills
	srv := mcp.New(cfg)
	if m.listen == "" {
		return srv.Run(ctx, &sdk.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}})
	}
	return serveMCP(ctx, srv, m, stderr)
}

// mcpDrills serves the drill tools from a drill desk on the same stores and state directory
// as `pillars drill`. Without the admin token no drill can run (drill mode needs it), so the
// drill tools are then left out.
func mcpDrills(ctx context.Context, m mcpFlags, stderr io.Writer) (mcp.Drills, error) {
	if m.token == "" {
		return nil, nil
	}
	o := m.drill
	o.token = m.token
	o.stores.PrometheusURL, o.stores.TracesURL, o.stores.TracesKind = m.prometheusURL, m.tracesURL, m.tracesKind
	o.stores.LogsURL, o.stores.LogsKind = m.logsURL, m.logsKind
	d, _, err := o.desk(ctx, true, stderr)
	if err != nil {
		return nil, err
	}
	return deskDrills{d}, nil
}

// serveMCP serves streamable HTTP at /mcp. Beyond loopback it needs the admin token, and
// every request must present it.
func serveMCP(ctx context.Context, srv *sdk.Server, m mcpFlags, stderr io.Writer) error {
	ln, err := net.Listen("tcp", m.listen)
	if err != nil {
		return err
	}
	exposed := !ln.Addr().(*net.TCPAddr).IP.IsLoopback()
	if exposed && m.token == "" { // a name that resolved beyond loopback
		ln.Close()
		return errExposedWithoutToken(m.listen)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.Handler(srv, mcp.HTTPOptions{RequireToken: exposed, Token: m.token}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "pillars mcp: serving MCP on http://%s/mcp\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}

// openMCPStores connects to the three stores. A store whose kind is given is used even when
// it does not answer yet (an IDE may start the server before the stack): its tools then
// answer that it is unreachable. A kind left to detection needs the store up.
func openMCPStores(ctx context.Context, m mcpFlags, stderr io.Writer) (mcp.Config, error) {
	client := &http.Client{Timeout: readback.DefaultTimeout}
	ctx, cancel := context.WithTimeout(ctx, readback.DefaultTimeout)
	defer cancel()
	var cfg mcp.Config
	prom, err := readback.NewPrometheus(m.prometheusURL, client)
	if err != nil {
		return cfg, usageError{err}
	}
	cfg.Metrics = prom
	ts, err := readback.OpenTraces(ctx, m.tracesKind, m.tracesURL, client)
	if err != nil && ts == nil {
		return cfg, fmt.Errorf("the trace store at %s is unusable: %w", m.tracesURL, err)
	} else if err != nil {
		fmt.Fprintf(stderr, "pillars mcp: %v\n", err)
	}
	traces, ok := ts.(mcp.Traces)
	if !ok {
		return cfg, fmt.Errorf("the %s trace store cannot list services and operations", ts.Kind())
	}
	cfg.Traces = traces
	logs, err := readback.OpenLogs(ctx, m.logsKind, m.logsURL, client)
	if err != nil && logs == nil {
		return cfg, fmt.Errorf("the log store at %s is unusable: %w", m.logsURL, err)
	} else if err != nil {
		fmt.Fprintf(stderr, "pillars mcp: %v\n", err)
	}
	cfg.Logs = logs
	return cfg, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
