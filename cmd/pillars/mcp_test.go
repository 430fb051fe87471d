package main

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// An MCP endpoint beyond loopback without the admin token would show the telemetry to
// anyone and start drills for them: refused before anything listens.
func TestMCPBeyondLoopbackNeedsTheToken(t *testing.T) {
	for _, c := range []struct {
		listen, token string
		refused       bool
	}{
		{"0.0.0.0:8765", "", true},
		{":8765", "", true},
		{"192.0.2.1:8765", "", true},
		{"0.0.0.0:8765", "s3cret", false},
		{"127.0.0.1:8765", "", false},
		{"localhost:8765", "", false},
		{"[::1]:8765", "", false},
		{"", "", false}, // stdio
	} {
		env := map[string]string{"PILLARS_LISTEN": c.listen, "PILLARS_ADMIN_TOKEN": c.token}
		_, err := parseMCPFlags(nil, func(k string) string { return env[k] }, io.Discard)
		if c.refused != (err != nil) {
			t.Errorf("--listen %q with token %q: error %v, want refused %v", c.listen, c.token, err, c.refused)
		}
		if _, ok := errors.AsType[usageError](err); err != nil && (!ok || !strings.Contains(err.Error(), "admin-token")) {
			t.Errorf("--listen %q: %v is not a usage error naming --admin-token", c.listen, err)
		}
	}
}

// `pillars mcp` over stdio: the client's messages on stdin, the answers on stdout. Stores of a
// given kind that do not answer yet leave the server up, and their tools say so.
func TestMCPOverStdio(t *testing.T) {
	env := map[string]string{
		"PILLARS_PROMETHEUS_URL": "http://127.0.0.1:1", "PILLARS_TRACES_URL": "http://127.0.0.1:1", "PILLARS_TRACES_KIND": "jaeger",
		"PILLARS_LOGS_URL": "http://127.0.0.1:1", "PILLARS_LOGS_KIND": "victorialogs",
	}
	cs, errc := mcpOverStdio(t, env)
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 9 {
		t.Errorf("%d tools over stdio without a drill desk, want the 9 reading tools", len(res.Tools))
	}
	got, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "services", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if text := got.Content[0].(*sdk.TextContent).Text; !got.IsError || !strings.Contains(text, "unreachable") {
		t.Errorf("services with the trace store down: error %v, %q", got.IsError, text)
	}
	closeMCPOverStdio(t, cs, errc)
}

// With the admin token the drill tools are listed and answer from the drill desk: the same
// state directory as `pillars drill`, whose status and score they read.
func TestMCPDrillToolsAnswerFromTheDrillDesk(t *testing.T) {
	env := map[string]string{
		"PILLARS_PROMETHEUS_URL": "http://127.0.0.1:1", "PILLARS_TRACES_URL": "http://127.0.0.1:1", "PILLARS_TRACES_KIND": "jaeger",
		"PILLARS_LOGS_URL": "http://127.0.0.1:1", "PILLARS_LOGS_KIND": "victorialogs",
		"PILLARS_ADMIN_TOKEN": "drill-token", "PILLARS_STATE_DIR": t.TempDir(),
	}
	cs, errc := mcpOverStdio(t, env)
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	for _, want := range []string{"drill_start", "drill_status", "drill_answer", "drill_score"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools %v: no %s with the admin token", names, want)
		}
	}
	// No episode has run in this state directory: the desk says so, in a tool error.
	got, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "drill_answer", Arguments: map[string]any{
		"service": "database", "kind": "latency", "component": "",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if text := got.Content[0].(*sdk.TextContent).Text; !got.IsError || !strings.Contains(strings.ToLower(text), "episode") {
		t.Errorf("an answer with no episode: error %v, %q", got.IsError, text)
	}
	closeMCPOverStdio(t, cs, errc)
}

// mcpOverStdio runs `pillars mcp` in process with env, and connects the SDK's client to it
// over a pair of pipes, as an IDE would over the command's stdin and stdout.
func mcpOverStdio(t *testing.T, env map[string]string) (*sdk.ClientSession, <-chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- runMCP(t.Context(), nil, func(k string) string { return env[k] }, inR, outW, io.Discard)
		outW.Close()
	}()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test"}, nil).Connect(t.Context(), &sdk.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs, errc
}

// closeMCPOverStdio closes the client, which must end the server without an error.
func closeMCPOverStdio(t *testing.T, cs *sdk.ClientSession, errc <-chan error) {
	t.Helper()
	cs.Close()
	if err := <-errc; err != nil {
		t.Fatalf("the server ended with %v when the client closed stdin", err)
	}
}
