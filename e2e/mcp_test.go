//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pillars-o11y/pillars/internal/mcp"
	"github.com/pillars-o11y/pillars/internal/mcp/mcptest"
	"github.com/pillars-o11y/pillars/internal/readback"
)

// mcpStack is what the stack's stores hold once mcpTraffic has run, for the checks that the
// unit tests run against fake stores.
var mcpStack = mcptest.Stack{
	Selector:    "frontend_requests_total",
	Service:     "frontend",
	LogQuery:    `{service="frontend"}`,
	BadLogQuery: `{service="frontend"`,
}

// The MCP server against the real Prometheus, Jaeger and VictoriaLogs: every tool answers a
// bounded page whose next page holds other rows, malformed PromQL and LogsQL are tool errors
// quoting the store's parse error, and drill_start is refused without the admin token.
func TestMCPServer(t *testing.T) {
	mcpTraffic(t)
	t.Run("stdio command", func(t *testing.T) {
		cmd := exec.Command(stk.pillars, "mcp",
			"--prometheus-url=http://"+stk.prometheus,
			"--traces-url=http://"+stk.jaegerQuery,
			"--logs-url=http://"+stk.victoriaLogs)
		cmd.Env = cleanEnv()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cs, err := sdk.NewClient(&sdk.Implementation{Name: "e2e"}, nil).Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("tools/list over stdio without drills: %d tools, %d bytes", len(res.Tools), mcptest.ListBytes(t, res))
		mcptest.CheckAll(t, cs, mcpStack)
	})
	t.Run("streamable HTTP", func(t *testing.T) {
		desk := &recordingDrills{}
		srv := httptest.NewServer(mcp.Handler(mcp.New(mcp.Config{
			Metrics: stk.prom, Traces: stk.traces, Logs: stk.logs, Drills: desk, AdminToken: scenarioToken,
		}), mcp.HTTPOptions{}))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		anon, err := mcp.Dial(ctx, srv.URL, "", srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		defer anon.Close()
		s := mcpStack
		s.DrillsListed = true
		mcptest.CheckAll(t, anon, s)

		if out, isErr := mcptest.Call(t, anon, "drill_start", map[string]any{"seed": 3}); !isErr || desk.startCount() != 0 {
			t.Fatalf("drill_start without the token: tool error %v, %d starts: %s", isErr, desk.startCount(), out)
		}
		admin, err := mcp.Dial(ctx, srv.URL, scenarioToken, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		mcptest.MustCall(t, admin, "drill_start", map[string]any{"seed": 3})
		if desk.startCount() != 1 {
			t.Fatalf("drill_start with the token: %d starts", desk.startCount())
		}
	})
}

// mcpTraffic sends the requests whose signals the checks page through and waits until every
// store holds at least three of each: series, traces of the frontend, log lines.
func mcpTraffic(t *testing.T) {
	// The bad request first: the waterfall case pages the newest trace, which must have more
	// than the frontend's one span.
	get(t, "/user/not-a-number")
	for i := range 4 {
		getOK(t, fmt.Sprintf("/user/%d", 4100+i))
		getOK(t, fmt.Sprintf("/product/%d", 1+i))
	}
	ctx := context.Background()
	eventually(t, 30*time.Second, "three frontend series, traces and log lines", func() error {
		if s, err := stk.prom.Query(ctx, mcpStack.Selector, time.Time{}); err != nil || len(s) < 3 {
			return fmt.Errorf("%d series of %s (%v)", len(s), mcpStack.Selector, err)
		}
		if tr, err := stk.traces.Search(ctx, readback.TraceSearch{Service: "frontend", Start: time.Now().Add(-10 * time.Minute), End: time.Now(), Limit: 5}); err != nil || len(tr) < 4 {
			return fmt.Errorf("%d frontend traces (%v)", len(tr), err)
		}
		if l, err := stk.logs.Query(ctx, mcpStack.LogQuery, time.Now().Add(-10*time.Minute), time.Now(), 5); err != nil || len(l) < 4 {
			return fmt.Errorf("%d frontend log lines (%v)", len(l), err)
		}
		return nil
	})
}

// recordingDrills stands in for the drill desk: the test is about who may start an episode.
type recordingDrills struct {
	mu     sync.Mutex
	starts int
}

func (d *recordingDrills) Start(context.Context, int64) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.starts++
	return map[string]string{"state": "running"}, nil
}
func (d *recordingDrills) Status(context.Context) (any, error) {
	return map[string]string{"state": "running"}, nil
}
func (d *recordingDrills) Answer(context.Context, json.RawMessage) (any, error) {
	return map[string]string{"graded": "yes"}, nil
}
func (d *recordingDrills) Score(context.Context) (any, error) {
	return map[string]int{"episodes": 0}, nil
}
func (d *recordingDrills) startCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.starts
}
