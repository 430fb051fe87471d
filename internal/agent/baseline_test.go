package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// healthy is a quiet deployment: the same now as in the baseline window.
func healthy() Observations {
	same := func(v float64) change { return change{Now: v, Base: v} }
	o := Observations{
		ErrorRatio:        map[string]change{"frontend": same(0.01), "backend": same(0.01), "database": same(0)},
		ErrorsByEndpoint:  map[string]map[string]float64{"frontend": {"/user/{id}": 0.01}, "backend": {}, "database": {}},
		Latency:           map[string]change{"frontend": same(0.02), "backend": same(0.015), "database": same(0.005)},
		LatencyByEndpoint: map[string]map[string]change{"frontend": {"/user/{id}": same(0.02), "/product/{id}": same(0.02)}, "backend": {"/api/user/{id}": same(0.015)}},
		TableLatency:      map[string]change{"users": same(0.003), "products": same(0.002), "orders": same(0.002)},
		TableErrors:       map[string]change{"users": same(0)},
		Heap:              map[string]change{"frontend": same(8 << 20), "backend": same(10 << 20), "database": same(12 << 20)},
		CPU:               map[string]change{"frontend": same(0.05), "backend": same(0.05), "database": same(0.05)},
		NewVersion:        map[string]bool{},
		CacheHitRatio:     same(0.7),
		FanOut:            same(0.6),
		PoolActive:        same(1),
	}
	return o
}

func TestBaselineRules(t *testing.T) {
	cases := []struct {
		name   string
		change func(o *Observations)
		want   Diagnosis
	}{
		{"nothing changed", func(o *Observations) {}, NoIncident},
		{"database unavailable", func(o *Observations) {
			o.Unavailable = change{Now: 3}
			o.ErrorRatio["backend"] = change{Now: 0.5, Base: 0.01}
		}, Diagnosis{Service: "backend", Kind: "dependency-down", Component: "database"}},
		{"a new backend version fails one route", func(o *Observations) {
			o.NewVersion["backend"] = true
			o.ErrorRatio["backend"] = change{Now: 0.3, Base: 0.01}
			o.ErrorsByEndpoint["backend"] = map[string]float64{"/api/product/{id}": 2, "/api/user/{id}": 0.1}
		}, Diagnosis{Service: "backend", Kind: "bad-deploy", Component: "/api/product/{id}"}},
		{"a new version that fails nothing is a distractor", func(o *Observations) {
			o.NewVersion["frontend"] = true
		}, NoIncident},
		{"retries multiply calls", func(o *Observations) {
			o.FanOut = change{Now: 1.5, Base: 0.6}
			o.ErrorRatio["backend"] = change{Now: 0.6, Base: 0.01}
		}, Diagnosis{Service: "frontend", Kind: "retry-storm", Component: "backend"}},
		{"a traffic spike alone moves no ratio", func(o *Observations) {
			o.CPU["frontend"] = change{Now: 0.09, Base: 0.05}
		}, NoIncident},
		{"cache bypassed", func(o *Observations) { o.CacheHitRatio = change{Now: 0, Base: 0.7} }, Diagnosis{Service: "backend", Kind: "cache-off"}},
		{"backend heap climbs", func(o *Observations) { o.Heap["backend"] = change{Now: 60 << 20, Base: 10 << 20} }, Diagnosis{Service: "backend", Kind: "memory-leak"}},
		{"backend burns CPU on one route", func(o *Observations) {
			o.CPU["backend"] = change{Now: 0.9, Base: 0.05}
			o.LatencyByEndpoint["backend"] = map[string]change{"/api/product/{id}": {Now: 0.2, Base: 0.01}, "/api/user/{id}": {Now: 0.02, Base: 0.015}}
		}, Diagnosis{Service: "backend", Kind: "cpu-burn", Component: "/api/product/{id}"}},
		{"transactions rolled back", func(o *Observations) {
			o.RolledBack = change{Now: 2, Base: 0}
			o.ErrorRatio["frontend"] = change{Now: 0.2, Base: 0.01}
		}, Diagnosis{Service: "database", Kind: "lock-contention"}},
		{"database requests queue for a lock and time out", func(o *Observations) {
			o.ErrorRatio["database"] = change{Now: 0.4, Base: 0}
			o.Latency["database"] = change{Now: 0.9, Base: 0.005}
			o.ErrorRatio["frontend"] = change{Now: 0.4, Base: 0.01}
		}, Diagnosis{Service: "database", Kind: "lock-contention"}},
		{"fast database failures are errors, not contention", func(o *Observations) {
			o.ErrorRatio["database"] = change{Now: 0.3, Base: 0}
			o.TableErrors = map[string]change{"products": {Now: 2}}
		}, Diagnosis{Service: "database", Kind: "errors", Component: "products"}},
		{"connections held", func(o *Observations) { o.PoolActive = change{Now: 10, Base: 1} }, Diagnosis{Service: "database", Kind: "pool-exhaustion"}},
		{"one table slow", func(o *Observations) { o.TableLatency["users"] = change{Now: 0.02, Base: 0.003} }, Diagnosis{Service: "database", Kind: "missing-index", Component: "users"}},
		{"every table slow", func(o *Observations) {
			for tbl, c := range o.TableLatency {
				o.TableLatency[tbl] = change{Now: c.Base * 100, Base: c.Base}
			}
			o.TableLatency["products"] = change{Now: 0.5, Base: 0.002}
		}, Diagnosis{Service: "database", Kind: "latency", Component: "products"}},
		{"queries fail", func(o *Observations) {
			o.TableErrors = map[string]change{"users": {Now: 3}, "products": {Now: 1}}
			o.ErrorRatio["frontend"] = change{Now: 0.3, Base: 0.01}
		}, Diagnosis{Service: "database", Kind: "errors", Component: "users"}},
		{"the deepest failing service is named", func(o *Observations) {
			o.ErrorRatio["backend"] = change{Now: 0.3, Base: 0.01}
			o.ErrorRatio["frontend"] = change{Now: 0.3, Base: 0.01}
			o.ErrorsByEndpoint["backend"] = map[string]float64{"/api/user/{id}": 1}
		}, Diagnosis{Service: "backend", Kind: "errors", Component: "/api/user/{id}"}},
		{"a slow route", func(o *Observations) {
			o.Latency["frontend"] = change{Now: 0.3, Base: 0.02}
			o.LatencyByEndpoint["frontend"]["/product/{id}"] = change{Now: 0.6, Base: 0.02}
		}, Diagnosis{Service: "frontend", Kind: "latency", Component: "/product/{id}"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := healthy()
			c.change(&o)
			got := Diagnose(o)
			got.Notes = ""
			if got != c.want {
				t.Fatalf("diagnosed %+v, want %+v", got, c.want)
			}
		})
	}
}

// cannedTools answers the query tool from canned text, as the MCP server writes it; unknown
// queries answer no rows.
type cannedTools struct {
	answers map[string]string // "query@time" → text
	calls   []string
}

func (c *cannedTools) CallTool(_ context.Context, p *sdk.CallToolParams) (*sdk.CallToolResult, error) {
	args := p.Arguments.(map[string]any)
	key := fmt.Sprint(args["query"], "@", args["time"])
	c.calls = append(c.calls, p.Name+" "+key)
	text, ok := c.answers[key]
	if !ok {
		text = "no results\n"
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}, nil
}

func TestObserveReadsTheServersAnswers(t *testing.T) {
	heap := "sum by (job) (go_memstats_heap_inuse_bytes)"
	tools := &cannedTools{answers: map[string]string{
		heap + "@<nil>": "{job=\"backend\"} 6.291e+07\n{job=\"frontend\"} 8.389e+06\n-- rows 1-2 of 2\n",
		heap + "@15m":   "{job=\"backend\"} 1.049e+07\n{job=\"frontend\"} 8.389e+06\n-- rows 1-2 of 2\n",
		"count by (job, version) (pillars_build_info)@<nil>":                       "{job=\"backend\",version=\"2.0.0-rc.1\"} 1\n",
		"count by (job, version) (pillars_build_info)@15m":                         "{job=\"backend\",version=\"1.0.0\"} 1\n",
		"sum(rate(database_transactions_total{status=\"rolled_back\"}[2m]))@<nil>": "{} NaN\n",
	}}
	o, err := Observe(t.Context(), tools, "15m")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Heap["backend"]; got.Now != 6.291e7 || got.Base != 1.049e7 {
		t.Fatalf("backend heap read as %+v from %v", got, tools.calls)
	}
	if !o.NewVersion["backend"] || o.NewVersion["frontend"] {
		t.Fatalf("version changes read as %v", o.NewVersion)
	}
	if o.RolledBack.Now != 0 {
		t.Fatalf("NaN read as %v", o.RolledBack.Now)
	}
	if d := Diagnose(o); d.Service != "backend" || d.Kind != "memory-leak" {
		t.Fatalf("diagnosed %+v", d)
	}
	for _, c := range tools.calls {
		if !strings.HasPrefix(c, "query ") {
			t.Fatalf("the baseline called %s: only the query tool reads metrics", c)
		}
	}
}

func TestParseSamplesUnquotesLabels(t *testing.T) {
	got := parseSamples("frontend_requests_total{endpoint=\"/user/{id}\",note=\"a \\\"b\\\"\"} 1.5\n-- rows 1-1 of 1\n")
	if len(got) != 1 || got[0].labels["endpoint"] != "/user/{id}" || got[0].labels["note"] != `a "b"` || got[0].value != 1.5 {
		t.Fatalf("parsed %+v", got)
	}
}
