package readback

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Discovery: what a store holds, for someone who does not know the names yet (the MCP
// server's metric, label, service and operation tools).

// LabelNames reads /api/v1/labels: the label names of the series match selects (all series
// when match is empty) between start and end (zero: Prometheus's default window).
func (p *Prometheus) LabelNames(ctx context.Context, match []string, start, end time.Time) ([]string, error) {
	ctx, ans := recordAnswer(ctx)
	names, _, _, err := p.api.LabelNames(ctx, match, start, end)
	if err != nil {
		return nil, p.fail(ctx, ans, "/api/v1/labels", windowValues(match, start, end), err)
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return out, nil
}

// LabelValues reads /api/v1/label/<name>/values: the values label takes in the series match
// selects. LabelValues(ctx, "__name__", nil, ...) lists the metric names.
func (p *Prometheus) LabelValues(ctx context.Context, label string, match []string, start, end time.Time) ([]string, error) {
	ctx, ans := recordAnswer(ctx)
	values, _, _, err := p.api.LabelValues(ctx, label, match, start, end)
	if err != nil {
		return nil, p.fail(ctx, ans, "/api/v1/label/"+url.PathEscape(label)+"/values", windowValues(match, start, end), err)
	}
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out, nil
}

func windowValues(match []string, start, end time.Time) url.Values {
	q := url.Values{}
	if len(match) > 0 {
		q["match[]"] = match
	}
	if !start.IsZero() {
		q.Set("start", promTime(start))
	}
	if !end.IsZero() {
		q.Set("end", promTime(end))
	}
	return q
}

// Operations lists the span names Jaeger holds for service.
func (j *Jaeger) Operations(ctx context.Context, service string) ([]string, error) {
	var r struct {
		Data []string `json:"data"`
	}
	err := j.ep.getJSON(ctx, "/api/services/"+url.PathEscape(service)+"/operations", nil, &r)
	return r.Data, err
}

// Services lists the service.name values Tempo holds spans of.
func (t *Tempo) Services(ctx context.Context) ([]string, error) {
	return t.tagValues(ctx, "resource.service.name", "")
}

// Operations lists the span names Tempo holds for service.
func (t *Tempo) Operations(ctx context.Context, service string) ([]string, error) {
	return t.tagValues(ctx, "name", "{ resource.service.name = "+strconv.Quote(service)+" }")
}

// tagValues reads /api/v2/search/tag/<tag>/values, narrowed by a TraceQL query when given.
func (t *Tempo) tagValues(ctx context.Context, tag, traceQL string) ([]string, error) {
	q := url.Values{}
	if traceQL != "" {
		q.Set("q", traceQL)
	}
	var r struct {
		TagValues []struct {
			Value string `json:"value"`
		} `json:"tagValues"`
	}
	if err := t.ep.getJSON(ctx, "/api/v2/search/tag/"+url.PathEscape(tag)+"/values", q, &r); err != nil {
		return nil, err
	}
	out := make([]string, len(r.TagValues))
	for i, v := range r.TagValues {
		out[i] = v.Value
	}
	return out, nil
}
