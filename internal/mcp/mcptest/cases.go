// Package mcptest holds the checks of the MCP server's tools that run both against the small
// fake stores of the unit tests and against the real backends in the end-to-end tests, so
// that the fake cannot drift from what the stores really answer.
package mcptest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Stack names what the stores behind the server hold: a metric selector with at least three
// series, a service with at least three traces in the last 15 minutes, a log query with at
// least three lines, and a malformed log query in the store's language.
type Stack struct {
	Selector     string // e.g. frontend_requests_total
	Service      string // e.g. frontend
	LogQuery     string
	BadLogQuery  string
	DrillsListed bool
}

// MaxToolListBytes is the budget of the tools/list answer: the cost of the tools in every
// agent's context.
const MaxToolListBytes = 5000

// Call calls a tool and returns its text and whether it is a tool error.
func Call(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: protocol error %v", name, args, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// MustCall is Call for a call that must succeed.
func MustCall(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) string {
	t.Helper()
	out, isErr := Call(t, cs, name, args)
	if isErr {
		t.Fatalf("%s %v: tool error: %s", name, args, out)
	}
	return out
}

var footer = regexp.MustCompile(`(?m)^-- rows (\d+)-(\d+) of [^;\n]+(; next=(\d+))?$`)

// Rows splits a paginated answer into its rows (the lines before the footer, after skip
// header lines) and the next offset (-1 on the last page).
func Rows(t *testing.T, out string, skip int) ([]string, int) {
	t.Helper()
	m := footer.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no page footer in:\n%s", out)
	}
	body := strings.TrimSuffix(out[:strings.Index(out, m[0])], "\n")
	lines := strings.Split(body, "\n")[skip:]
	next := -1
	if m[4] != "" {
		fmt.Sscan(m[4], &next)
	}
	return lines, next
}

// CheckAll runs every check.
func CheckAll(t *testing.T, cs *sdk.ClientSession, s Stack) {
	t.Run("tool list is small", func(t *testing.T) { CheckToolList(t, cs, s) })
	t.Run("pages", func(t *testing.T) { CheckPages(t, cs, s) })
	t.Run("bad queries", func(t *testing.T) { CheckBadQueries(t, cs, s) })
}

// CheckToolList: the tools are all there (the drill tools only when drills are served), and
// the whole list costs less than MaxToolListBytes.
func CheckToolList(t *testing.T, cs *sdk.ClientSession, s Stack) {
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alerts", "labels", "logs", "metrics", "query", "query_range", "services", "trace", "traces"}
	if s.DrillsListed {
		want = append(want, "drill_answer", "drill_score", "drill_start", "drill_status")
	}
	got := map[string]bool{}
	for _, tl := range res.Tools {
		got[tl.Name] = true
	}
	for _, n := range want {
		if !got[n] {
			t.Errorf("tool %s is not listed", n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d tools listed, want %d: %v", len(got), len(want), got)
	}
	if n := ListBytes(t, res); n > MaxToolListBytes {
		t.Errorf("tools/list answer is %d bytes, budget %d", n, MaxToolListBytes)
	}
}

// CheckPages: each listing tool respects limit, says where the next page starts, and the
// next page holds other rows.
func CheckPages(t *testing.T, cs *sdk.ClientSession, s Stack) {
	pages := []struct {
		tool string
		args map[string]any
		skip int
	}{
		{"query", map[string]any{"query": s.Selector}, 0},
		{"query_range", map[string]any{"query": s.Selector, "start": "10m"}, 1},
		{"metrics", map[string]any{}, 0},
		{"labels", map[string]any{"metric": s.Selector}, 0},
		{"services", map[string]any{}, 0},
		{"traces", map[string]any{"service": s.Service}, 0},
		{"logs", map[string]any{"query": s.LogQuery}, 0},
	}
	for _, p := range pages {
		t.Run(p.tool, func(t *testing.T) {
			first := withPage(p.args, 2, 0)
			rows, next := Rows(t, MustCall(t, cs, p.tool, first), p.skip)
			if len(rows) != 2 || next != 2 {
				t.Fatalf("limit 2: %d rows, next offset %d; want 2 rows and next 2:\n%s", len(rows), next, strings.Join(rows, "\n"))
			}
			rows2, _ := Rows(t, MustCall(t, cs, p.tool, withPage(p.args, 1, 2)), p.skip)
			if len(rows2) != 1 || rows2[0] == rows[0] || rows2[0] == rows[1] {
				t.Fatalf("offset 2 limit 1 gave %q after %q", rows2, rows)
			}
			for _, r := range append(rows, rows2...) {
				if len(r) > 700 {
					t.Errorf("row of %d bytes: %.80s…", len(r), r)
				}
			}
		})
	}
	t.Run("limit above the maximum is capped", func(t *testing.T) {
		rows, _ := Rows(t, MustCall(t, cs, "metrics", map[string]any{"limit": 100000}), 0)
		if len(rows) > 100 {
			t.Fatalf("%d rows for limit 100000; the cap is 100", len(rows))
		}
	})
	t.Run("trace waterfall pages", func(t *testing.T) {
		rows, _ := Rows(t, MustCall(t, cs, "traces", map[string]any{"service": s.Service, "limit": 1}), 0)
		id := strings.Fields(rows[0])[0]
		out := MustCall(t, cs, "trace", map[string]any{"trace_id": id, "limit": 1})
		spans, next := Rows(t, out, 2)
		if !strings.HasPrefix(out, "trace "+id) || len(spans) != 1 || next != 1 {
			t.Fatalf("trace %s limit 1:\n%s", id, out)
		}
	})
	t.Run("alerts answers a page", func(t *testing.T) {
		out := MustCall(t, cs, "alerts", map[string]any{"limit": 1})
		if out != "no results\n" {
			if rows, _ := Rows(t, out, 0); len(rows) != 1 {
				t.Fatalf("alerts limit 1:\n%s", out)
			}
		}
	})
}

// CheckBadQueries: a malformed query is a tool error quoting the store's parse error, short,
// and without the request URL.
func CheckBadQueries(t *testing.T, cs *sdk.ClientSession, s Stack) {
	for _, c := range []struct{ tool, query string }{
		{"query", "sum(rate(" + s.Selector + "[1m])"},
		{"query_range", "rate(" + s.Selector + "[1m]) by"},
		{"logs", s.BadLogQuery},
	} {
		out, isErr := Call(t, cs, c.tool, map[string]any{"query": c.query})
		if !isErr {
			t.Errorf("%s %q: not a tool error:\n%s", c.tool, c.query, out)
			continue
		}
		if !strings.Contains(strings.ToLower(out), "parse") || strings.Contains(out, "http://") || len(out) > 600 {
			t.Errorf("%s %q: error is not a short parse error without the URL: %s", c.tool, c.query, out)
		}
	}
	if out, isErr := Call(t, cs, "query", map[string]any{"query": s.Selector, "limit": -1}); !isErr {
		t.Errorf("limit -1 accepted: %s", out)
	}
}

func withPage(args map[string]any, limit, offset int) map[string]any {
	out := map[string]any{"limit": limit, "offset": offset}
	for k, v := range args {
		out[k] = v
	}
	return out
}
