package readback

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// LogsKind names a log store's query API.
type LogsKind string

const (
	LogsVictoriaLogs LogsKind = "victorialogs"
	LogsLoki         LogsKind = "loki"
)

// LogStore reads log lines back from VictoriaLogs or Loki.
type LogStore interface {
	Kind() LogsKind
	// URL is the store's base URL, without credentials.
	URL() string
	// Ping checks that the URL answers like this kind of store.
	Ping(ctx context.Context) error
	// Query runs a query in the store's own language (LogsQL or LogQL) over [start, end) and
	// returns at most limit lines (100 when 0), oldest first.
	Query(ctx context.Context, query string, start, end time.Time, limit int) ([]LogLine, error)
	// TraceQuery is the store's query for every line of one trace, by the trace_id that the
	// pillars services attach to each line as structured metadata.
	TraceQuery(traceID string) string
	// MessageQuery is the store's query for the lines of a service at a level whose message
	// holds a phrase (either may be empty, the service not). The store's matching is looser
	// than a phrase in the message (Loki's line filter sees the whole line): check the lines
	// found with LogFilter.Matches.
	MessageQuery(f LogFilter) string
}

// LogFilter selects log lines: of a service (its stream label), at a level, whose message
// contains a phrase.
type LogFilter struct {
	Service, Level, Phrase string
}

// Matches reports whether l is a line f selects.
func (f LogFilter) Matches(l LogLine) bool {
	return l.Service() == f.Service && (f.Level == "" || l.Level() == strings.ToLower(f.Level)) &&
		strings.Contains(l.Message(), f.Phrase)
}

func (f LogFilter) String() string {
	s := f.Service
	if f.Level != "" {
		s += " " + strings.ToLower(f.Level)
	}
	if f.Phrase != "" {
		s += " lines saying " + strconv.Quote(f.Phrase)
	} else {
		s += " lines"
	}
	return s
}

// LogLine is one stored log line.
type LogLine struct {
	Time time.Time
	// Line is the line as the store shows it: Loki's log line (the services' JSON record),
	// VictoriaLogs' _msg (the record's message, which the services' push URL selects).
	Line string
	// Stream holds the stream labels (service, level, environment for the pillars services).
	Stream map[string]string
	// Fields holds everything else the store keeps for the line: structured metadata
	// (trace_id, span_id), and fields it parsed from the line.
	Fields map[string]string
}

// Get returns a field or, failing that, a stream label.
func (l LogLine) Get(name string) (string, bool) {
	if v, ok := l.Fields[name]; ok {
		return v, true
	}
	v, ok := l.Stream[name]
	return v, ok
}

// Service is the service label.
func (l LogLine) Service() string { v, _ := l.Get("service"); return v }

// Level is the level label in lower case.
func (l LogLine) Level() string { v, _ := l.Get("level"); return strings.ToLower(v) }

// TraceID is the line's trace_id normalised, or "" when it has none.
func (l LogLine) TraceID() string {
	v, _ := l.Get("trace_id")
	id, err := NormalizeTraceID(v)
	if err != nil {
		return ""
	}
	return id
}

// Message is what the line says: the "msg" of a JSON record (log/slog's key), else the line.
func (l LogLine) Message() string {
	if strings.HasPrefix(l.Line, "{") {
		var rec struct {
			Msg *string `json:"msg"`
		}
		if json.Unmarshal([]byte(l.Line), &rec) == nil && rec.Msg != nil {
			return *rec.Msg
		}
	}
	return l.Line
}

// Contains reports whether the line or any of its fields contains s: an error text may be
// inside Loki's JSON line or in a field VictoriaLogs parsed out of it.
func (l LogLine) Contains(s string) bool {
	if strings.Contains(l.Line, s) {
		return true
	}
	for _, v := range l.Fields {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

func (l LogLine) String() string { return l.Service() + "/" + l.Level() + ": " + l.Message() }

func limitOr100(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}
