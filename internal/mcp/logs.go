package mcp

import (
	"context"
	"errors"
	"slices"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pillars-o11y/pillars/internal/readback"
)

type logsIn struct {
	Query string `json:"query"`
	Window
	Page
}

func (s *server) addLogTools(srv *sdk.Server) {
	lang := "LogsQL"
	if s.cfg.Logs.Kind() == readback.LogsLoki {
		lang = "LogQL"
	}
	// The query's language depends on the store, so the tool says which, with an example
	// that selects the services' lines: the stream labels are service and level.
	example := `{service="backend", level="error"}`
	if lang == "LogsQL" {
		example = `{service="backend"} level:error`
	}
	sdk.AddTool(srv, &sdk.Tool{
		Name:        "logs",
		Description: "Log lines, newest first. Query in " + lang + ", e.g. " + example,
	}, handler(s.logs))
}

func (s *server) logs(ctx context.Context, _ *sdk.CallToolRequest, in logsIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Query) == "" {
		return "", errors.New("query: give a log query")
	}
	start, end, err := in.times(s.cfg.Now())
	if err != nil {
		return "", err
	}
	lines, err := s.cfg.Logs.Query(ctx, in.Query, start, end, in.fetch())
	if err != nil {
		return "", toolError(string(s.cfg.Logs.Kind()), err)
	}
	slices.SortStableFunc(lines, func(a, b readback.LogLine) int { return b.Time.Compare(a.Time) })
	rows := make([]string, len(lines))
	for i, l := range lines {
		rows[i] = logRow(l)
	}
	var b strings.Builder
	paginate(&b, rows, in.Page, len(lines) < in.fetch(), maxLine)
	return b.String(), nil
}

func logRow(l readback.LogLine) string {
	row := l.Time.UTC().Format("15:04:05.000") + " " + l.Service() + " " + l.Level() + " " + printable(l.Message())
	if id := l.TraceID(); id != "" {
		row += " trace_id=" + id
	}
	return row
}
