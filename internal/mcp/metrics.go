package mcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// Bounds of a range query's answer.
const (
	// rangePoints is the step a range query takes when the call names none: this many points.
	rangePoints = 30
	// maxRangePoints refuses a step that would make Prometheus compute more points a series.
	maxRangePoints = 500
	// shownPoints is how many values of a series a row shows, picked evenly.
	shownPoints = 24
	rangeLine   = 600
)

type queryIn struct {
	Query string `json:"query" jsonschema:"PromQL"`
	Time  string `json:"time,omitempty" jsonschema:"default now"`
	Page
}

type rangeIn struct {
	Query string `json:"query" jsonschema:"PromQL"`
	Window
	Step string `json:"step,omitempty" jsonschema:"e.g. 30s (default: 30 points)"`
	Page
}

type metricsIn struct {
	Match string `json:"match,omitempty" jsonschema:"regexp on the name"`
	Page
}

type labelsIn struct {
	Metric string `json:"metric,omitempty" jsonschema:"series selector"`
	Label  string `json:"label,omitempty" jsonschema:"list this label's values instead of label names"`
	Page
}

type alertsIn struct {
	Pending bool `json:"pending,omitempty" jsonschema:"include pending alerts"`
	Page
}

func (s *server) addMetricTools(srv *sdk.Server) {
	sdk.AddTool(srv, &sdk.Tool{Name: "query", Description: "PromQL instant query: one row per series, sorted by labels."}, handler(s.query))
	sdk.AddTool(srv, &sdk.Tool{Name: "query_range", Description: "PromQL range query: per series min/max/last and values oldest first."}, handler(s.queryRange))
	sdk.AddTool(srv, &sdk.Tool{Name: "metrics", Description: "Metric names."}, handler(s.metrics))
	sdk.AddTool(srv, &sdk.Tool{Name: "labels", Description: "Label names, or one label's values."}, handler(s.labels))
	sdk.AddTool(srv, &sdk.Tool{Name: "alerts", Description: "Firing alerts."}, handler(s.alerts))
}

func (s *server) query(ctx context.Context, _ *sdk.CallToolRequest, in queryIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Query) == "" {
		return "", errors.New("query: give a PromQL expression")
	}
	now := s.cfg.Now()
	at, err := instant("time", in.Time, now, now)
	if err != nil {
		return "", err
	}
	samples, err := s.cfg.Metrics.Query(ctx, in.Query, at)
	if err != nil {
		return "", toolError("PromQL", err)
	}
	rows := make([]string, len(samples))
	for i, smp := range samples {
		rows[i] = labelSet(smp.Metric) + " " + number(smp.Value)
	}
	slices.Sort(rows)
	var b strings.Builder
	paginate(&b, rows, in.Page, true, maxLine)
	return b.String(), nil
}

func (s *server) queryRange(ctx context.Context, _ *sdk.CallToolRequest, in rangeIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	if strings.TrimSpace(in.Query) == "" {
		return "", errors.New("query: give a PromQL expression")
	}
	start, end, err := in.times(s.cfg.Now())
	if err != nil {
		return "", err
	}
	step, err := rangeStep(in.Step, end.Sub(start))
	if err != nil {
		return "", err
	}
	series, err := s.cfg.Metrics.QueryRange(ctx, in.Query, start, end, step)
	if err != nil {
		return "", toolError("PromQL", err)
	}
	slices.SortFunc(series, func(a, b readback.Series) int { return strings.Compare(labelSet(a.Metric), labelSet(b.Metric)) })
	rows := make([]string, len(series))
	for i, sr := range series {
		rows[i] = seriesRow(sr)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s to %s, step %s\n", start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), step)
	paginate(&b, rows, in.Page, true, rangeLine)
	return b.String(), nil
}

// rangeStep is the step asked for, or the one that gives rangePoints points over the window.
func rangeStep(asked string, window time.Duration) (time.Duration, error) {
	if asked == "" {
		return max(time.Second, (window / rangePoints).Round(time.Second)), nil
	}
	step, err := time.ParseDuration(asked)
	if err != nil || step <= 0 {
		return 0, fmt.Errorf("step %q: want a positive duration like 30s", asked)
	}
	if n := int(window / step); n > maxRangePoints {
		return 0, fmt.Errorf("step %s gives %d points a series; at most %d: take a longer step or a shorter window", step, n, maxRangePoints)
	}
	return step, nil
}

// seriesRow is a series on one line: labels, summary, then at most shownPoints values.
func seriesRow(sr readback.Series) string {
	if len(sr.Points) == 0 {
		return labelSet(sr.Metric) + " (no points)"
	}
	lo, hi := sr.Points[0].Value, sr.Points[0].Value
	for _, p := range sr.Points {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s n=%d min=%s max=%s last=%s |", labelSet(sr.Metric), len(sr.Points), number(lo), number(hi), number(sr.Points[len(sr.Points)-1].Value))
	for _, i := range evenly(len(sr.Points), shownPoints) {
		b.WriteString(" " + number(sr.Points[i].Value))
	}
	return b.String()
}

// evenly picks at most k indexes of n, spread evenly, the first and the last included.
func evenly(n, k int) []int {
	if n <= k {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, k)
	for i := range out {
		out[i] = i * (n - 1) / (k - 1)
	}
	return out
}

func (s *server) metrics(ctx context.Context, _ *sdk.CallToolRequest, in metricsIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	var match []string
	if in.Match != "" {
		match = []string{fmt.Sprintf("{__name__=~%s}", strconv.Quote(".*(?:"+in.Match+").*"))}
	}
	names, err := s.cfg.Metrics.LabelValues(ctx, "__name__", match, time.Time{}, time.Time{})
	if err != nil {
		return "", toolError("metrics", err)
	}
	return sortedPage(names, in.Page), nil
}

func (s *server) labels(ctx context.Context, _ *sdk.CallToolRequest, in labelsIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	var match []string
	if in.Metric != "" {
		match = []string{in.Metric}
	}
	var (
		out []string
		err error
	)
	if in.Label != "" {
		out, err = s.cfg.Metrics.LabelValues(ctx, in.Label, match, time.Time{}, time.Time{})
	} else {
		out, err = s.cfg.Metrics.LabelNames(ctx, match, time.Time{}, time.Time{})
	}
	if err != nil {
		return "", toolError("labels", err)
	}
	return sortedPage(out, in.Page), nil
}

func (s *server) alerts(ctx context.Context, _ *sdk.CallToolRequest, in alertsIn) (string, error) {
	if _, _, err := in.bounds(); err != nil {
		return "", err
	}
	all, err := s.cfg.Metrics.Alerts(ctx)
	if err != nil {
		return "", toolError("alerts", err)
	}
	var rows []string
	for _, a := range all {
		if a.State != "firing" && !in.Pending {
			continue
		}
		rest := maps.Clone(a.Labels)
		delete(rest, "alertname")
		row := fmt.Sprintf("%s %s since %s value=%s %s", a.Name(), a.State, a.ActiveAt.UTC().Format(time.RFC3339), number(a.Value), labelSet(rest))
		if sum := a.Annotations["summary"]; sum != "" {
			row += " " + strconv.Quote(sum)
		}
		rows = append(rows, row)
	}
	slices.Sort(rows)
	var b strings.Builder
	paginate(&b, rows, in.Page, true, maxLine)
	return b.String(), nil
}

func sortedPage(rows []string, p Page) string {
	slices.Sort(rows)
	var b strings.Builder
	paginate(&b, rows, p, true, maxLine)
	return b.String()
}

// labelSet writes labels as PromQL does, sorted: {a="1",b="2"}; the metric name first.
func labelSet(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(m["__name__"])
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// number writes a value with the precision a reader compares by, not a float's 17 digits.
func number(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
