package readback

import (
	"bufio"
	"bytes"
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

// VictoriaLogs reads log lines through VictoriaLogs' LogsQL API (port 9428):
// /select/logsql/query answers one JSON object per line.
type VictoriaLogs struct{ ep endpoint }

// NewVictoriaLogs returns a client of VictoriaLogs at baseURL; a nil client means one with
// DefaultTimeout.
func NewVictoriaLogs(baseURL string, client *http.Client) (*VictoriaLogs, error) {
	ep, err := newEndpoint("VictoriaLogs", baseURL, client)
	if err != nil {
		return nil, err
	}
	return &VictoriaLogs{ep: ep}, nil
}

func (v *VictoriaLogs) Kind() LogsKind { return LogsVictoriaLogs }
func (v *VictoriaLogs) URL() string    { return v.ep.String() }

// Ping asks /select/logsql/field_names for the last minute: only VictoriaLogs answers it, with
// {"values":[...]}.
func (v *VictoriaLogs) Ping(ctx context.Context) error {
	q := url.Values{"query": {"*"}, "start": {"1m"}}
	var r struct {
		Values *[]json.RawMessage `json:"values"`
	}
	if err := v.ep.getJSON(ctx, "/select/logsql/field_names", q, &r); err != nil {
		return notLike(v.URL(), "VictoriaLogs", err)
	}
	if r.Values == nil {
		return fmt.Errorf("%s does not answer like VictoriaLogs: %w", v.URL(),
			&HTTPError{Method: http.MethodGet, URL: v.ep.url("/select/logsql/field_names", q), Reason: `no "values" in the answer`})
	}
	return nil
}

// TraceQuery is LogsQL's exact match on the trace_id field.
func (v *VictoriaLogs) TraceQuery(traceID string) string {
	return "trace_id:=" + strconv.Quote(traceID)
}

// MessageQuery is a LogsQL stream filter on the service and level labels and a phrase filter
// on the message (_msg): {service="database",level="warn"} "Slow query detected".
func (v *VictoriaLogs) MessageQuery(f LogFilter) string {
	q := "{service=" + strconv.Quote(f.Service)
	if f.Level != "" {
		q += ",level=" + strconv.Quote(strings.ToLower(f.Level))
	}
	q += "}"
	if f.Phrase != "" {
		q += " " + strconv.Quote(f.Phrase)
	}
	return q
}

// Query runs LogsQL on /select/logsql/query.
func (v *VictoriaLogs) Query(ctx context.Context, query string, start, end time.Time, limit int) ([]LogLine, error) {
	q := url.Values{"query": {query}, "limit": {strconv.Itoa(limitOr100(limit))}}
	if !start.IsZero() {
		q.Set("start", start.UTC().Format(time.RFC3339Nano))
	}
	if !end.IsZero() {
		q.Set("end", end.UTC().Format(time.RFC3339Nano))
	}
	path := "/select/logsql/query"
	shown := v.ep.url(path, q)
	status, body, err := v.ep.get(ctx, path, q, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &HTTPError{Method: http.MethodGet, URL: shown, Status: status, Body: excerpt(body)}
	}
	var lines []LogLine
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), maxBody)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec map[string]string
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: "a line of the answer is not a JSON object of strings (" + err.Error() + ")", Body: excerpt(sc.Bytes())}
		}
		l, err := victoriaLogsLine(rec)
		if err != nil {
			return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: err.Error(), Body: excerpt(sc.Bytes())}
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: err.Error()}
	}
	// VictoriaLogs answers in no particular order.
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	return lines, nil
}

// victoriaLogsLine sorts one record's fields into the model: _msg is the line, _time its time,
// the labels named in _stream the stream, the rest fields.
func victoriaLogsLine(rec map[string]string) (LogLine, error) {
	l := LogLine{Line: rec["_msg"], Stream: map[string]string{}, Fields: map[string]string{}}
	if ts := rec["_time"]; ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return LogLine{}, fmt.Errorf("_time %q: %v", ts, err)
		}
		l.Time = t
	}
	stream, err := parseStreamLabels(rec["_stream"])
	if err != nil {
		return LogLine{}, err
	}
	for name := range stream {
		l.Stream[name] = stream[name]
	}
	for k, val := range rec {
		switch k {
		case "_msg", "_time", "_stream", "_stream_id":
			continue
		}
		if _, isStream := stream[k]; !isStream {
			l.Fields[k] = val
		}
	}
	return l, nil
}

// parseStreamLabels reads a label set written {a="x",b="y"}, as VictoriaLogs' _stream and
// Prometheus print them.
func parseStreamLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" || s == "{}" {
		return out, nil
	}
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("stream %q: want {label=\"value\",...}", s)
	}
	rest := s[1 : len(s)-1]
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || eq+1 >= len(rest) || rest[eq+1] != '"' {
			return nil, fmt.Errorf("stream %q: want {label=\"value\",...}", s)
		}
		name := strings.TrimSpace(rest[:eq])
		quoted, err := strconv.QuotedPrefix(rest[eq+1:])
		if err != nil {
			return nil, fmt.Errorf("stream %q: %v", s, err)
		}
		val, _ := strconv.Unquote(quoted)
		out[name] = val
		rest = strings.TrimPrefix(strings.TrimSpace(rest[eq+1+len(quoted):]), ",")
	}
	return out, nil
}
