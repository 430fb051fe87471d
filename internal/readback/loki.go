package readback

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Loki reads log lines through Loki's HTTP API (port 3100): LogQL on
// /loki/api/v1/query_range.
type Loki struct{ ep endpoint }

// NewLoki returns a client of Loki at baseURL; a nil client means one with DefaultTimeout.
func NewLoki(baseURL string, client *http.Client) (*Loki, error) {
	ep, err := newEndpoint("Loki", baseURL, client)
	if err != nil {
		return nil, err
	}
	return &Loki{ep: ep}, nil
}

func (l *Loki) Kind() LogsKind { return LogsLoki }
func (l *Loki) URL() string    { return l.ep.String() }

// Ping wants /loki/api/v1/status/buildinfo to answer Loki's build information.
func (l *Loki) Ping(ctx context.Context) error {
	var r struct {
		Version string `json:"version"`
	}
	if err := l.ep.getJSON(ctx, "/loki/api/v1/status/buildinfo", nil, &r); err != nil {
		return notLike(l.URL(), "Loki", err)
	}
	if r.Version == "" {
		return fmt.Errorf("%s does not answer like Loki: %w", l.URL(),
			&HTTPError{Method: http.MethodGet, URL: l.ep.url("/loki/api/v1/status/buildinfo", nil), Reason: "no version in the build information"})
	}
	return nil
}

// TraceQuery selects every stream of the services and filters on the trace_id structured
// metadata, as the Grafana data sources do.
func (l *Loki) TraceQuery(traceID string) string {
	return `{service=~".+"} | trace_id=` + strconv.Quote(traceID)
}

// MessageQuery is a LogQL stream selector on the service and level labels with a line filter
// for the phrase: {service="database", level="warn"} |= "Slow query detected".
func (l *Loki) MessageQuery(f LogFilter) string {
	q := "{service=" + strconv.Quote(f.Service)
	if f.Level != "" {
		q += ", level=" + strconv.Quote(strings.ToLower(f.Level))
	}
	q += "}"
	if f.Phrase != "" {
		q += " |= " + strconv.Quote(f.Phrase)
	}
	return q
}

// lokiStreams is a query_range answer for a log query. With the categorize-labels encoding
// flag each value has a third element that separates structured metadata and parsed labels
// from the stream labels; without it they are all in "stream".
type lokiStreams struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Stream map[string]string   `json:"stream"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

type lokiCategories struct {
	StructuredMetadata map[string]string `json:"structuredMetadata"`
	Parsed             map[string]string `json:"parsed"`
}

// Query runs LogQL on /loki/api/v1/query_range, oldest line first.
func (l *Loki) Query(ctx context.Context, query string, start, end time.Time, limit int) ([]LogLine, error) {
	q := url.Values{
		"query":     {query},
		"limit":     {strconv.Itoa(limitOr100(limit))},
		"direction": {"forward"},
	}
	if !start.IsZero() {
		q.Set("start", strconv.FormatInt(start.UnixNano(), 10))
	}
	if !end.IsZero() {
		q.Set("end", strconv.FormatInt(end.UnixNano(), 10))
	}
	path := "/loki/api/v1/query_range"
	shown := l.ep.url(path, q)
	status, body, err := l.ep.get(ctx, path, q, http.Header{"X-Loki-Response-Encoding-Flags": {"categorize-labels"}})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &HTTPError{Method: http.MethodGet, URL: shown, Status: status, Body: excerpt(body)}
	}
	var r lokiStreams
	if err := decodeJSON(shown, body, &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: "status " + strconv.Quote(r.Status) + ": " + r.Error}
	}
	if r.Data.ResultType != "streams" {
		return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: fmt.Sprintf("result type %q: a metric query, not a log query", r.Data.ResultType)}
	}
	var lines []LogLine
	for _, st := range r.Data.Result {
		for _, v := range st.Values {
			line, err := lokiLine(st.Stream, v)
			if err != nil {
				return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: err.Error()}
			}
			lines = append(lines, line)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	return lines, nil
}

// lokiLine reads one value: ["<ns>", "<line>"] or ["<ns>", "<line>", {categories}].
func lokiLine(stream map[string]string, v []json.RawMessage) (LogLine, error) {
	if len(v) < 2 {
		return LogLine{}, fmt.Errorf("a value has %d elements, want [time, line, ...]", len(v))
	}
	var ts, text string
	if err := json.Unmarshal(v[0], &ts); err != nil {
		return LogLine{}, fmt.Errorf("time %s: %v", v[0], err)
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return LogLine{}, fmt.Errorf("time %q: %v", ts, err)
	}
	if err := json.Unmarshal(v[1], &text); err != nil {
		return LogLine{}, fmt.Errorf("line %s: %v", v[1], err)
	}
	l := LogLine{Time: time.Unix(0, ns), Line: text, Stream: map[string]string{}, Fields: map[string]string{}}
	for k, val := range stream {
		l.Stream[k] = val
	}
	if len(v) > 2 {
		var c lokiCategories
		if err := json.Unmarshal(v[2], &c); err != nil {
			return LogLine{}, fmt.Errorf("labels of a line %s: %v", v[2], err)
		}
		for k, val := range c.StructuredMetadata {
			l.Fields[k] = val
		}
		for k, val := range c.Parsed {
			l.Fields[k] = val
		}
	}
	return l, nil
}
