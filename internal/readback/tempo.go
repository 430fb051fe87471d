package readback

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Tempo reads traces through Tempo's HTTP API (port 3200): /api/traces/{id} for a trace,
// /api/search with TraceQL, /api/echo to tell it is there.
type Tempo struct{ ep endpoint }

// NewTempo returns a client of the Tempo HTTP API at baseURL; a nil client means one with
// DefaultTimeout.
func NewTempo(baseURL string, client *http.Client) (*Tempo, error) {
	ep, err := newEndpoint("Tempo", baseURL, client)
	if err != nil {
		return nil, err
	}
	return &Tempo{ep: ep}, nil
}

func (t *Tempo) Kind() TracesKind { return TracesTempo }
func (t *Tempo) URL() string      { return t.ep.String() }

// Ping wants /api/echo to answer "echo", as Tempo's query frontend does when it is ready.
func (t *Tempo) Ping(ctx context.Context) error {
	status, body, err := t.ep.get(ctx, "/api/echo", nil, nil)
	if err != nil {
		return notLike(t.URL(), "Tempo", err)
	}
	if status != http.StatusOK || strings.TrimSpace(string(body)) != "echo" {
		return fmt.Errorf("%s does not answer like Tempo: %w", t.URL(),
			&HTTPError{Method: http.MethodGet, URL: t.ep.url("/api/echo", nil), Status: status, Body: excerpt(body), Reason: `want the body "echo"`})
	}
	return nil
}

// Trace reads /api/traces/{id}: OTLP JSON with base64 ids.
func (t *Tempo) Trace(ctx context.Context, traceID string) (Trace, error) {
	id, err := NormalizeTraceID(traceID)
	if err != nil {
		return Trace{}, err
	}
	path := "/api/traces/" + id
	shown := t.ep.url(path, nil)
	status, body, err := t.ep.get(ctx, path, nil, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return Trace{}, err
	}
	if status == http.StatusNotFound {
		return Trace{}, fmt.Errorf("GET %s: %w", shown, ErrTraceNotFound)
	}
	if status != http.StatusOK {
		return Trace{}, &HTTPError{Method: http.MethodGet, URL: shown, Status: status, Body: excerpt(body)}
	}
	var r otlpTraces
	if err := decodeJSON(shown, body, &r); err != nil {
		return Trace{}, err
	}
	traces, err := otlpModel(r)
	if err != nil {
		return Trace{}, &HTTPError{Method: http.MethodGet, URL: shown, Reason: err.Error(), Body: excerpt(body)}
	}
	for _, tr := range traces {
		if tr.ID == id {
			return tr, nil
		}
	}
	if len(traces) == 0 {
		return Trace{}, fmt.Errorf("GET %s: no spans in the answer: %w", shown, ErrTraceNotFound)
	}
	return Trace{}, &HTTPError{Method: http.MethodGet, URL: shown, Reason: "the answer holds trace " + traces[0].ID}
}

// Search runs a TraceQL search on /api/search. Tempo answers trace ids without their leading
// zeros; the summaries carry both the normalised id and the one answered.
func (t *Tempo) Search(ctx context.Context, q TraceSearch) ([]TraceSummary, error) {
	var conds []string
	if q.Service != "" {
		conds = append(conds, "resource.service.name = "+strconv.Quote(q.Service))
	}
	if q.SpanName != "" {
		conds = append(conds, "name = "+strconv.Quote(q.SpanName))
	}
	if len(conds) == 0 {
		return nil, fmt.Errorf("tempo search needs a service or a span name")
	}
	return t.searchTraceQL(ctx, "{ "+strings.Join(conds, " && ")+" }", q.Start, q.End, limitOr20(q.Limit))
}

// searchTraceQL runs a TraceQL query on /api/search.
func (t *Tempo) searchTraceQL(ctx context.Context, traceQL string, start, end time.Time, limit int) ([]TraceSummary, error) {
	v := url.Values{
		"q":     {traceQL},
		"limit": {strconv.Itoa(limit)},
	}
	if !start.IsZero() && !end.IsZero() {
		v.Set("start", strconv.FormatInt(start.Unix(), 10))
		// end is whole seconds too: round up so that the last second is inside.
		v.Set("end", strconv.FormatInt(end.Add(time.Second-1).Unix(), 10))
	}
	var r struct {
		Traces []struct {
			TraceID           string  `json:"traceID"`
			RootServiceName   string  `json:"rootServiceName"`
			RootTraceName     string  `json:"rootTraceName"`
			StartTimeUnixNano otlpInt `json:"startTimeUnixNano"`
			DurationMs        int64   `json:"durationMs"`
		} `json:"traces"`
	}
	if err := t.ep.getJSON(ctx, "/api/search", v, &r); err != nil {
		return nil, err
	}
	out := make([]TraceSummary, 0, len(r.Traces))
	for _, h := range r.Traces {
		id, err := NormalizeTraceID(h.TraceID)
		if err != nil {
			return nil, &HTTPError{Method: http.MethodGet, URL: t.ep.url("/api/search", v), Reason: err.Error()}
		}
		out = append(out, TraceSummary{
			TraceID: id, AnsweredID: h.TraceID,
			RootService: h.RootServiceName, RootName: h.RootTraceName,
			Start:    time.Unix(0, int64(h.StartTimeUnixNano)),
			Duration: time.Duration(h.DurationMs) * time.Millisecond,
		})
	}
	return out, nil
}

// FindSpans runs a TraceQL search for the span and fetches the traces found (at most
// q.Limit, 20 by default) to pick the matching spans out of them: Tempo's search answers
// summaries only.
func (t *Tempo) FindSpans(ctx context.Context, q SpanSearch) ([]Span, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	hits, err := t.searchTraceQL(ctx, spanTraceQL(q), q.Start, q.End, limitOr20(q.Limit))
	if err != nil {
		return nil, err
	}
	var traces []Trace
	for _, h := range hits {
		tr, err := t.Trace(ctx, h.TraceID)
		if err != nil {
			return nil, err
		}
		traces = append(traces, tr)
	}
	return matchingSpans(q, traces), nil
}

// spanTraceQL is the TraceQL that selects q's spans. An attribute is unscoped (.name), so that
// a resource attribute such as service.version matches as well as a span's.
func spanTraceQL(q SpanSearch) string {
	conds := []string{"resource.service.name = " + strconv.Quote(q.Service), "name = " + strconv.Quote(q.Name)}
	if q.Error {
		conds = append(conds, "status = error")
	}
	switch {
	case q.Attribute != "" && q.Value != "":
		conds = append(conds, "."+q.Attribute+" = "+strconv.Quote(q.Value))
	case q.Attribute != "" && q.Contains != "":
		conds = append(conds, "."+q.Attribute+" =~ "+strconv.Quote(".*"+regexp.QuoteMeta(q.Contains)+".*"))
	case q.Attribute != "":
		conds = append(conds, "."+q.Attribute+" != nil")
	}
	return "{ " + strings.Join(conds, " && ") + " }"
}
