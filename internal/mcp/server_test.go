package mcp_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pillars-o11y/pillars/internal/mcp"
	"github.com/pillars-o11y/pillars/internal/mcp/mcptest"
)

var fakeStack = mcptest.Stack{
	Selector:    "frontend_requests_total",
	Service:     "frontend",
	LogQuery:    `{service="backend"}`,
	BadLogQuery: `{service="backend"`,
}

func fakeConfig(d mcp.Drills, token string) mcp.Config {
	return mcp.Config{Metrics: fakeMetrics{}, Traces: fakeTraces{}, Logs: fakeLogs{}, Drills: d, AdminToken: token,
		Now: func() time.Time { return fakeNow }}
}

// inMemory connects a client to the server through the SDK's in-memory transport: a session
// without HTTP headers, as over stdio.
func inMemory(t *testing.T, cfg mcp.Config) *sdk.ClientSession {
	t.Helper()
	ctx := t.Context()
	st, ct := sdk.NewInMemoryTransports()
	ss, err := mcp.New(cfg).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// overHTTP serves the server over streamable HTTP on 127.0.0.1 and connects a client that
// presents token.
func overHTTP(t *testing.T, cfg mcp.Config, o mcp.HTTPOptions, token string) (*sdk.ClientSession, error) {
	t.Helper()
	srv := httptest.NewServer(mcp.Handler(mcp.New(cfg), o))
	t.Cleanup(srv.Close)
	cs, err := mcp.Dial(t.Context(), srv.URL, token, srv.Client())
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func TestToolsAgainstFakeStores(t *testing.T) {
	s := fakeStack
	s.DrillsListed = true
	mcptest.CheckAll(t, inMemory(t, fakeConfig(&fakeDrills{}, "tok")), s)
}

func TestDrillToolsAreNotListedWithoutDrills(t *testing.T) {
	mcptest.CheckToolList(t, inMemory(t, fakeConfig(nil, "tok")), fakeStack)
}

func TestToolListSize(t *testing.T) {
	cs := inMemory(t, fakeConfig(&fakeDrills{}, "tok"))
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tools/list: %d tools, %d bytes", len(res.Tools), mcptest.ListBytes(t, res))
}

func TestDrillStartNeedsTheTokenOverHTTP(t *testing.T) {
	for _, c := range []struct {
		name, presented string
		allowed         bool
	}{
		{"no token", "", false},
		{"wrong token", "guess", false},
		{"admin token", "s3cret", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &fakeDrills{}
			cs, err := overHTTP(t, fakeConfig(d, "s3cret"), mcp.HTTPOptions{}, c.presented)
			if err != nil {
				t.Fatal(err)
			}
			out, isErr := mcptest.Call(t, cs, "drill_start", map[string]any{"seed": 42})
			if isErr == c.allowed {
				t.Fatalf("drill_start with %s: tool error %v, want %v: %s", c.name, isErr, !c.allowed, out)
			}
			if c.allowed != (len(d.starts()) == 1) {
				t.Fatalf("drill_start with %s reached the drills: %v", c.name, d.starts())
			}
			if !c.allowed && !strings.Contains(out, "admin token") {
				t.Fatalf("refusal does not say what is missing: %s", out)
			}
			// Reading and answering need no token.
			mcptest.MustCall(t, cs, "drill_status", nil)
			mcptest.MustCall(t, cs, "query", map[string]any{"query": "up"})
			ans := mcptest.MustCall(t, cs, "drill_answer", map[string]any{"service": "database", "kind": "latency", "component": "users"})
			if !strings.Contains(ans, "score.service: true") {
				t.Fatalf("answer not shown as path: value lines:\n%s", ans)
			}
		})
	}
}

func TestDrillStartIsRefusedWhenTheServerHasNoToken(t *testing.T) {
	d := &fakeDrills{}
	cs := inMemory(t, fakeConfig(d, ""))
	if out, isErr := mcptest.Call(t, cs, "drill_start", map[string]any{"seed": 1}); !isErr || len(d.starts()) != 0 {
		t.Fatalf("drill_start without a server token: error %v, starts %v: %s", isErr, d.starts(), out)
	}
	// A stdio session of a process given the token may start episodes.
	d2 := &fakeDrills{}
	mcptest.MustCall(t, inMemory(t, fakeConfig(d2, "tok")), "drill_start", map[string]any{"seed": 9})
	if got := d2.starts(); len(got) != 1 || got[0] != 9 {
		t.Fatalf("starts %v, want [9]", got)
	}
}

func TestAnswerCarriesTheDiagnosis(t *testing.T) {
	d := &fakeDrills{}
	mcptest.MustCall(t, inMemory(t, fakeConfig(d, "")), "drill_answer", map[string]any{"service": "none", "kind": "none"})
	if len(d.answers) != 1 || string(d.answers[0]) != `{"service":"none","kind":"none"}` {
		t.Fatalf("diagnosis passed on as %s", d.answers)
	}
}

func TestEndpointBeyondLoopbackNeedsTheToken(t *testing.T) {
	o := mcp.HTTPOptions{RequireToken: true, Token: "s3cret"}
	if _, err := overHTTP(t, fakeConfig(nil, "s3cret"), o, ""); err == nil {
		t.Fatal("a client without the token connected")
	}
	cs, err := overHTTP(t, fakeConfig(nil, "s3cret"), o, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	mcptest.MustCall(t, cs, "services", nil)
}

func TestUnreachableStoreIsAToolError(t *testing.T) {
	cfg := fakeConfig(nil, "")
	cfg.Traces = downTraces{fakeTraces{}}
	out, isErr := mcptest.Call(t, inMemory(t, cfg), "services", nil)
	if !isErr || !strings.Contains(out, "connection refused") {
		t.Fatalf("unreachable trace store: error %v: %s", isErr, out)
	}
}

type downTraces struct{ fakeTraces }

func (downTraces) Services(ctx context.Context) ([]string, error) {
	return nil, errors.New("GET http://127.0.0.1:1/api/services: connection refused")
}

func TestWaterfallIsATree(t *testing.T) {
	out := mcptest.MustCall(t, inMemory(t, fakeConfig(nil, "")), "trace", map[string]any{"trace_id": "1"})
	rows, _ := mcptest.Rows(t, out, 2)
	want := []string{"frontend GET /user/{id} 30ms @0s", "  backend GET /api/user/{id} 20ms @1ms", "    database query_execution 10ms @2ms"}
	for i, w := range want {
		if !strings.HasPrefix(rows[i], w) {
			t.Errorf("row %d = %q, want prefix %q", i, rows[i], w)
		}
	}
}
