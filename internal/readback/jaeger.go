package readback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Jaeger reads traces through Jaeger's HTTP query API (the one its UI uses, port 16686):
// /api/traces/{id}, /api/traces?service=..., /api/services.
type Jaeger struct{ ep endpoint }

// NewJaeger returns a client of the Jaeger query API at baseURL; a nil client means one with
// DefaultTimeout.
func NewJaeger(baseURL string, client *http.Client) (*Jaeger, error) {
	ep, err := newEndpoint("Jaeger", baseURL, client)
	if err != nil {
		return nil, err
	}
	return &Jaeger{ep: ep}, nil
}

func (j *Jaeger) Kind() TracesKind { return TracesJaeger }
func (j *Jaeger) URL() string      { return j.ep.String() }

// Ping wants /api/services to answer Jaeger's envelope, {"data":[...],"total":N,...} (data is
// null while Jaeger has no spans yet).
func (j *Jaeger) Ping(ctx context.Context) error {
	_, err := j.Services(ctx)
	if err != nil {
		return notLike(j.URL(), "Jaeger's query API", err)
	}
	return nil
}

// Services lists the services Jaeger has spans of.
func (j *Jaeger) Services(ctx context.Context) ([]string, error) {
	var r struct {
		Data  []string `json:"data"`
		Total *int     `json:"total"`
	}
	if err := j.ep.getJSON(ctx, "/api/services", nil, &r); err != nil {
		return nil, err
	}
	if r.Total == nil {
		return nil, &HTTPError{Method: http.MethodGet, URL: j.ep.url("/api/services", nil), Reason: `not Jaeger's {"data":[...],"total":N} envelope`}
	}
	return r.Data, nil
}

// jaegerTrace is one trace of Jaeger's JSON model (model/json in the Jaeger repository).
type jaegerTrace struct {
	TraceID   string       `json:"traceID"`
	Spans     []jaegerSpan `json:"spans"`
	Processes map[string]struct {
		ServiceName string      `json:"serviceName"`
		Tags        []jaegerTag `json:"tags"`
	} `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64       `json:"startTime"` // microseconds since the epoch
	Duration  int64       `json:"duration"`  // microseconds
	Tags      []jaegerTag `json:"tags"`
	ProcessID string      `json:"processID"`
}

type jaegerTag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type jaegerEnvelope struct {
	Data   []jaegerTrace `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

// Trace reads /api/traces/{id}.
func (j *Jaeger) Trace(ctx context.Context, traceID string) (Trace, error) {
	id, err := NormalizeTraceID(traceID)
	if err != nil {
		return Trace{}, err
	}
	path := "/api/traces/" + id
	status, body, err := j.ep.get(ctx, path, nil, nil)
	if err != nil {
		return Trace{}, err
	}
	shown := j.ep.url(path, nil)
	if status == http.StatusNotFound {
		return Trace{}, fmt.Errorf("GET %s: %w", shown, ErrTraceNotFound)
	}
	if status != http.StatusOK {
		return Trace{}, &HTTPError{Method: http.MethodGet, URL: shown, Status: status, Body: excerpt(body)}
	}
	var r jaegerEnvelope
	if err := decodeJSON(shown, body, &r); err != nil {
		return Trace{}, err
	}
	if len(r.Data) == 0 {
		return Trace{}, fmt.Errorf("GET %s: %w", shown, ErrTraceNotFound)
	}
	if len(r.Data) != 1 {
		return Trace{}, &HTTPError{Method: http.MethodGet, URL: shown, Reason: fmt.Sprintf("%d traces in the answer, want 1", len(r.Data))}
	}
	tr, err := r.Data[0].model()
	if err != nil {
		return Trace{}, &HTTPError{Method: http.MethodGet, URL: shown, Reason: err.Error()}
	}
	if tr.ID != id {
		return Trace{}, &HTTPError{Method: http.MethodGet, URL: shown, Reason: "the answer is trace " + tr.ID}
	}
	return tr, nil
}

// Search reads /api/traces?service=&operation=&start=&end=&limit=. Jaeger needs a service.
func (j *Jaeger) Search(ctx context.Context, q TraceSearch) ([]TraceSummary, error) {
	if q.Service == "" {
		return nil, errors.New("jaeger search needs a service")
	}
	traces, answered, err := j.search(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	out := make([]TraceSummary, len(traces))
	for i, tr := range traces {
		out[i] = summarize(tr, answered[i])
	}
	return out, nil
}

// FindSpans searches Jaeger for traces with the span (with the attribute's value, when q gives
// one: Jaeger's tag search matches span and resource attributes) and picks the matching spans
// out of them: Jaeger's search answers whole traces. A span's status is not searchable in
// Jaeger v2 (neither the error tag nor otel.status_code select anything), so failed spans are
// picked out of the traces found.
func (j *Jaeger) FindSpans(ctx context.Context, q SpanSearch) ([]Span, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	var tags map[string]string
	if q.Attribute != "" && q.Value != "" {
		tags = map[string]string{q.Attribute: q.Value}
	}
	traces, _, err := j.search(ctx, TraceSearch{Service: q.Service, SpanName: q.Name, Start: q.Start, End: q.End, Limit: q.Limit}, tags)
	if err != nil {
		return nil, err
	}
	return matchingSpans(q, traces), nil
}

// search runs /api/traces and returns the traces with the ids as Jaeger wrote them.
func (j *Jaeger) search(ctx context.Context, q TraceSearch, tags map[string]string) ([]Trace, []string, error) {
	v := url.Values{"service": {q.Service}, "limit": {strconv.Itoa(limitOr20(q.Limit))}}
	if q.SpanName != "" {
		v.Set("operation", q.SpanName)
	}
	if !q.Start.IsZero() {
		v.Set("start", strconv.FormatInt(q.Start.UnixMicro(), 10))
	}
	if !q.End.IsZero() {
		v.Set("end", strconv.FormatInt(q.End.UnixMicro(), 10))
	}
	if len(tags) > 0 {
		b, err := json.Marshal(tags)
		if err != nil {
			return nil, nil, err
		}
		v.Set("tags", string(b))
	}
	var r jaegerEnvelope
	if err := j.ep.getJSON(ctx, "/api/traces", v, &r); err != nil {
		return nil, nil, err
	}
	traces := make([]Trace, 0, len(r.Data))
	answered := make([]string, 0, len(r.Data))
	for _, jt := range r.Data {
		tr, err := jt.model()
		if err != nil {
			return nil, nil, &HTTPError{Method: http.MethodGet, URL: j.ep.url("/api/traces", v), Reason: err.Error()}
		}
		traces = append(traces, tr)
		answered = append(answered, jt.TraceID)
	}
	return traces, answered, nil
}

func limitOr20(n int) int {
	if n <= 0 {
		return 20
	}
	return n
}

// summarize makes a search hit of a whole trace: its root is the earliest span without a
// parent in the trace.
func summarize(tr Trace, answeredID string) TraceSummary {
	sum := TraceSummary{TraceID: tr.ID, AnsweredID: answeredID}
	start, end := tr.Window()
	sum.Start, sum.Duration = start, end.Sub(start)
	roots := tr.Roots()
	for i, r := range roots {
		if i == 0 || r.Start.Before(roots[0].Start) {
			sum.RootService, sum.RootName = r.Service, r.Name
		}
	}
	return sum
}

func (jt jaegerTrace) model() (Trace, error) {
	id, err := NormalizeTraceID(jt.TraceID)
	if err != nil {
		return Trace{}, err
	}
	tr := Trace{ID: id, Spans: make([]Span, 0, len(jt.Spans))}
	for _, js := range jt.Spans {
		s, err := js.model()
		if err != nil {
			return Trace{}, err
		}
		proc := jt.Processes[js.ProcessID]
		s.Service = proc.ServiceName
		s.Resource = map[string]string{"service.name": proc.ServiceName}
		for _, t := range proc.Tags {
			s.Resource[t.Key] = tagText(t.Value)
		}
		tr.Spans = append(tr.Spans, s)
	}
	return tr, nil
}

func (js jaegerSpan) model() (Span, error) {
	s := Span{
		Name:       js.OperationName,
		Start:      time.UnixMicro(js.StartTime),
		Duration:   time.Duration(js.Duration) * time.Microsecond,
		Attributes: map[string]string{},
		Status:     StatusUnset,
	}
	var err error
	if s.TraceID, err = NormalizeTraceID(js.TraceID); err != nil {
		return Span{}, err
	}
	if s.SpanID, err = NormalizeSpanID(js.SpanID); err != nil {
		return Span{}, err
	}
	for _, r := range js.References {
		if r.RefType == "CHILD_OF" {
			if s.ParentID, err = NormalizeSpanID(r.SpanID); err != nil {
				return Span{}, err
			}
			break
		}
	}
	// Jaeger keeps the OpenTelemetry kind and status as tags (its OTLP translator's names).
	for _, t := range js.Tags {
		v := tagText(t.Value)
		switch t.Key {
		case "span.kind":
			s.Kind = SpanKind(strings.ToLower(v))
		case "otel.status_code":
			s.Status = SpanStatus(strings.ToLower(v))
		case "otel.status_description":
			s.StatusMessage = v
		case "error":
			if v == "true" {
				s.Status = StatusError
			}
		default:
			s.Attributes[t.Key] = v
		}
	}
	if s.Kind == KindUnspecified {
		s.Kind = KindInternal
	}
	return s, nil
}

// tagText writes a tag's value as text: a number as it was set (an int64 attribute arrives as
// a JSON number, which would otherwise print as 1.048576e+06).
func tagText(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
