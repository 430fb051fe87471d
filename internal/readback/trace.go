package readback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TracesKind names a trace store's query API.
type TracesKind string

const (
	TracesJaeger TracesKind = "jaeger"
	TracesTempo  TracesKind = "tempo"
)

// ErrTraceNotFound is returned (wrapped, with the URL) when the trace store has no trace with
// the id asked for: not yet, or not at all.
var ErrTraceNotFound = errors.New("trace not found")

// TraceStore reads traces back from Jaeger or Tempo.
type TraceStore interface {
	Kind() TracesKind
	// URL is the store's base URL, without credentials.
	URL() string
	// Ping checks that the URL answers like this kind of store.
	Ping(ctx context.Context) error
	// Trace returns every span of one trace. The id may lack its leading zeros.
	Trace(ctx context.Context, traceID string) (Trace, error)
	// Search finds traces that have a span matching q, newest first as the store orders them.
	Search(ctx context.Context, q TraceSearch) ([]TraceSummary, error)
	// FindSpans returns spans matching q from the traces the store finds for it, newest
	// traces first.
	FindSpans(ctx context.Context, q SpanSearch) ([]Span, error)
}

// SpanSearch selects spans: of Service, named Name, started between Start and End, failed
// (Error) and carrying an attribute (Attribute, a span's or its resource's; equal to Value, or
// containing Contains, when either is given). Service and Name are required.
type SpanSearch struct {
	Service, Name              string
	Error                      bool
	Attribute, Value, Contains string
	Start, End                 time.Time
	// Limit is how many matching traces are looked through (20 when 0).
	Limit int
}

// Matches reports whether s is a span q selects.
func (q SpanSearch) Matches(s Span) bool {
	if s.Service != q.Service || s.Name != q.Name || (q.Error && s.Status != StatusError) {
		return false
	}
	if !q.Start.IsZero() && s.Start.Before(q.Start) || !q.End.IsZero() && s.Start.After(q.End) {
		return false
	}
	if q.Attribute == "" {
		return true
	}
	v, ok := s.Attr(q.Attribute)
	return ok && (q.Value == "" || v == q.Value) && strings.Contains(v, q.Contains)
}

// String writes the search as a person would say it.
func (q SpanSearch) String() string {
	var b strings.Builder
	b.WriteString(q.Service + " span " + q.Name)
	if q.Error {
		b.WriteString(" with error status")
	}
	switch {
	case q.Attribute != "" && q.Value != "":
		b.WriteString(" with " + q.Attribute + "=" + q.Value)
	case q.Attribute != "" && q.Contains != "":
		b.WriteString(" with " + q.Attribute + " containing " + strconv.Quote(q.Contains))
	case q.Attribute != "":
		b.WriteString(" with attribute " + q.Attribute)
	}
	return b.String()
}

func (q SpanSearch) check() error {
	if q.Service == "" || q.Name == "" {
		return errors.New("a span search needs a service and a span name")
	}
	return nil
}

// matchingSpans collects the spans of traces that q selects.
func matchingSpans(q SpanSearch, traces []Trace) []Span {
	var out []Span
	for _, tr := range traces {
		for _, s := range tr.Spans {
			if q.Matches(s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// TraceSearch selects traces: those with a span of Service named SpanName (either may be
// empty, but not both) that started between Start and End.
type TraceSearch struct {
	Service, SpanName string
	Start, End        time.Time
	Limit             int // 20 when 0
}

// TraceSummary is one search hit.
type TraceSummary struct {
	TraceID string // normalised: 32 hex digits
	// AnsweredID is the id exactly as the store answered it (Tempo and Jaeger drop leading
	// zeros), for showing what a person clicking through a UI would see.
	AnsweredID  string
	RootService string
	RootName    string
	Start       time.Time
	Duration    time.Duration
}

// SpanKind is the OpenTelemetry span kind in lower case, as Jaeger prints it.
type SpanKind string

const (
	KindUnspecified SpanKind = ""
	KindInternal    SpanKind = "internal"
	KindServer      SpanKind = "server"
	KindClient      SpanKind = "client"
	KindProducer    SpanKind = "producer"
	KindConsumer    SpanKind = "consumer"
)

// SpanStatus is the OpenTelemetry span status code.
type SpanStatus string

const (
	StatusUnset SpanStatus = "unset"
	StatusOK    SpanStatus = "ok"
	StatusError SpanStatus = "error"
)

// Span is one span as the trace store kept it.
type Span struct {
	TraceID  string // 32 hex digits
	SpanID   string // 16 hex digits
	ParentID string // 16 hex digits; empty for a root span
	Name     string
	Kind     SpanKind
	Service  string // the resource's service.name
	Status   SpanStatus
	// StatusMessage is the status description of a failed span.
	StatusMessage string
	Start         time.Time
	Duration      time.Duration
	// Attributes are the span's attributes, every value written as text.
	Attributes map[string]string
	// Resource holds the attributes of the resource that made the span (service.name,
	// service.version, deployment.environment, ...).
	Resource map[string]string
}

// Attr returns a span attribute or, failing that, a resource attribute.
func (s Span) Attr(key string) (string, bool) {
	if v, ok := s.Attributes[key]; ok {
		return v, true
	}
	v, ok := s.Resource[key]
	return v, ok
}

func (s Span) String() string { return fmt.Sprintf("%s/%s(%s)", s.Service, s.Name, s.Kind) }

// Trace is every span of one trace, in the order the store answered them.
type Trace struct {
	ID    string // 32 hex digits
	Spans []Span
}

// ByName returns the spans with that name.
func (t Trace) ByName(name string) []Span {
	var out []Span
	for _, s := range t.Spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Span returns the span with that id.
func (t Trace) Span(id string) (Span, bool) {
	for _, s := range t.Spans {
		if s.SpanID == id {
			return s, true
		}
	}
	return Span{}, false
}

// Roots returns the spans whose parent is not in the trace: the true root, or the entry
// span of a request whose caller's span was not stored (a client that sent traceparent).
func (t Trace) Roots() []Span {
	var out []Span
	for _, s := range t.Spans {
		if _, ok := t.Span(s.ParentID); !ok {
			out = append(out, s)
		}
	}
	return out
}

// Services lists the services that have spans in the trace, sorted.
func (t Trace) Services() []string {
	var out []string
	for _, s := range t.Spans {
		if s.Service != "" && !slices.Contains(out, s.Service) {
			out = append(out, s.Service)
		}
	}
	slices.Sort(out)
	return out
}

// Descends reports whether the span with id ancestor is a parent, grandparent, ... of s.
func (t Trace) Descends(s Span, ancestor string) bool {
	for range len(t.Spans) {
		if s.ParentID == "" {
			return false
		}
		if s.ParentID == ancestor {
			return true
		}
		var ok bool
		if s, ok = t.Span(s.ParentID); !ok {
			return false
		}
	}
	return false
}

// Window is the time from the first span's start to the last span's end.
func (t Trace) Window() (start, end time.Time) {
	for i, s := range t.Spans {
		e := s.Start.Add(s.Duration)
		if i == 0 || s.Start.Before(start) {
			start = s.Start
		}
		if i == 0 || e.After(end) {
			end = e
		}
	}
	return start, end
}

// String lists the spans briefly, for a message.
func (t Trace) String() string {
	names := make([]string, 0, len(t.Spans))
	for _, s := range t.Spans {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}
