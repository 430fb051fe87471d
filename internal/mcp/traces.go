package mcp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// maxDepth bounds the indentation of a waterfall row; deeper spans are drawn at this depth.
const maxDepth = 12

type servicesIn struct {
	Service string `json:"service,omitempty" jsonschema:"list this service's operations"`
	Page
}

type tracesIn struct {
	Service   string `json:"service" jsonschema:"service with a span in the trace"`
	Operation string `json:"operation,omitempty" jsonschema:"span name"`
	Window
	Page
}

type traceIn struct {
	TraceID string `json:"trace_id" jsonschema:"hex trace id"`
	Page
}

func (s *server) addTraceTools(srv *sdk.Server) {
	sdk.AddTool(srv, &sdk.Tool{Name: "services", Description: "Services in the trace store, or one service's operations."}, handler(s.services))
	sdk.AddTool(srv, &sdk.Tool{Name: "traces", Description: "Trace search, newest first: id, start, duration, root span."}, handler(s.traces))
	sdk.AddTool(srv, &sdk.Tool{Name: "trace", Description: "One trace as a waterfall: a span a row, indented by depth, ✗ failed."}, handler(s.trace))
}

func (s *server) services(ctx context.Context, _ *sdk.CallToolRequest, in servicesIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	var (
		out []string
		err error
	)
	if in.Service != "" {
		out, err = s.cfg.Traces.Operations(ctx, in.Service)
	} else {
		out, err = s.cfg.Traces.Services(ctx)
	}
	if err != nil {
		return "", toolError("trace store", err)
	}
	return sortedPage(out, in.Page), nil
}

func (s *server) traces(ctx context.Context, _ *sdk.CallToolRequest, in tracesIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	if in.Service == "" {
		return "", errors.New("service: give the service of a span in the traces (see the services tool)")
	}
	start, end, err := in.times(s.cfg.Now())
	if err != nil {
		return "", err
	}
	hits, err := s.cfg.Traces.Search(ctx, readback.TraceSearch{Service: in.Service, SpanName: in.Operation, Start: start, End: end, Limit: in.fetch()})
	if err != nil {
		return "", toolError("trace search", err)
	}
	slices.SortStableFunc(hits, func(a, b readback.TraceSummary) int { return b.Start.Compare(a.Start) })
	rows := make([]string, len(hits))
	for i, h := range hits {
		rows[i] = fmt.Sprintf("%s %s %s %s/%s", h.TraceID, h.Start.UTC().Format("15:04:05.000"), h.Duration.Round(time.Microsecond), h.RootService, h.RootName)
	}
	var b strings.Builder
	paginate(&b, rows, in.Page, len(hits) < in.fetch(), maxLine)
	return b.String(), nil
}

func (s *server) trace(ctx context.Context, _ *sdk.CallToolRequest, in traceIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	id, err := readback.NormalizeTraceID(in.TraceID)
	if err != nil {
		return "", fmt.Errorf("trace_id: %w", err)
	}
	tr, err := s.cfg.Traces.Trace(ctx, id)
	if err != nil {
		if errors.Is(err, readback.ErrTraceNotFound) {
			return "", fmt.Errorf("trace %s is not in the trace store (yet)", id)
		}
		return "", toolError("trace store", err)
	}
	var b strings.Builder
	writeTraceHeader(&b, tr)
	paginate(&b, waterfall(tr), in.Page, true, maxLine)
	return b.String(), nil
}

func writeTraceHeader(b *strings.Builder, tr readback.Trace) {
	start, end := tr.Window()
	failed := 0
	for _, sp := range tr.Spans {
		if sp.Status == readback.StatusError {
			failed++
		}
	}
	fmt.Fprintf(b, "trace %s: %d spans, %s, %s, %d failed, started %s\nrow: service span duration @offset [✗ status] attributes\n",
		tr.ID, len(tr.Spans), strings.Join(tr.Services(), ","), end.Sub(start).Round(time.Microsecond), failed, start.UTC().Format(time.RFC3339Nano))
}

// waterfall is the trace's spans in tree order, each a row indented by its depth.
func waterfall(tr readback.Trace) []string {
	start, _ := tr.Window()
	children := map[string][]readback.Span{}
	var roots []readback.Span
	for _, sp := range tr.Spans {
		if _, ok := tr.Span(sp.ParentID); sp.ParentID == "" || !ok {
			roots = append(roots, sp)
			continue
		}
		children[sp.ParentID] = append(children[sp.ParentID], sp)
	}
	var rows []string
	var walk func(spans []readback.Span, depth int)
	walk = func(spans []readback.Span, depth int) {
		slices.SortStableFunc(spans, func(a, b readback.Span) int { return a.Start.Compare(b.Start) })
		for _, sp := range spans {
			rows = append(rows, spanRow(sp, start, min(depth, maxDepth)))
			walk(children[sp.SpanID], depth+1)
		}
	}
	walk(roots, 0)
	return rows
}

func spanRow(sp readback.Span, traceStart time.Time, depth int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s %s %s @%s", strings.Repeat("  ", depth), sp.Service, sp.Name, sp.Duration.Round(time.Microsecond), sp.Start.Sub(traceStart).Round(time.Microsecond))
	if sp.Status == readback.StatusError {
		fmt.Fprintf(&b, " ✗ %q", cut(sp.StatusMessage, 80))
	}
	keys := make([]string, 0, len(sp.Attributes))
	for k := range sp.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, cut(sp.Attributes[k], 60))
	}
	return b.String()
}
