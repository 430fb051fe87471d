package agent

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tools is the MCP client the agents use (*mcp.ClientSession).
type Tools interface {
	CallTool(ctx context.Context, params *sdk.CallToolParams) (*sdk.CallToolResult, error)
}

// call calls a tool and returns its text; a tool error is an error.
func call(ctx context.Context, t Tools, name string, args map[string]any) (string, error) {
	res, err := t.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError {
		return "", fmt.Errorf("%s: %s", name, b.String())
	}
	return b.String(), nil
}

// sample is one row of the query tool's answer: name{labels} value.
type sample struct {
	labels map[string]string
	value  float64
}

var (
	sampleRow = regexp.MustCompile(`^[a-zA-Z_:0-9]*\{(.*)\} (\S+)$`)
	labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parseSamples reads the rows of a query answer, ignoring the page footer. NaN and Inf rows
// (a ratio over no traffic) are left out.
func parseSamples(text string) []sample {
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		m := sampleRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil || v != v || v > 1e300 || v < -1e300 {
			continue
		}
		s := sample{labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[1], -1) {
			if uq, err := strconv.Unquote(`"` + p[2] + `"`); err == nil {
				s.labels[p[1]] = uq
			}
		}
		out = append(out, s)
	}
	return out
}

// prom runs PromQL through the query tool, now and at the baseline's age.
type prom struct {
	tools    Tools
	baseline string // the age of the baseline window, e.g. "15m"
}

func (p prom) at(ctx context.Context, expr, age string) ([]sample, error) {
	args := map[string]any{"query": expr, "limit": 100}
	if age != "" {
		args["time"] = age
	}
	out, err := call(ctx, p.tools, "query", args)
	if err != nil {
		return nil, err
	}
	return parseSamples(out), nil
}

// byLabel is expr now and in the baseline window, keyed by label ("" sums every row).
func (p prom) byLabel(ctx context.Context, expr, label string) (now, base map[string]float64, err error) {
	n, err := p.at(ctx, expr, "")
	if err != nil {
		return nil, nil, err
	}
	b, err := p.at(ctx, expr, p.baseline)
	if err != nil {
		return nil, nil, err
	}
	return keyed(n, label), keyed(b, label), nil
}

func keyed(ss []sample, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range ss {
		out[s.labels[label]] += s.value
	}
	return out
}
