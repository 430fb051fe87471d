package readback

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OTLP traces as JSON, the subset that the model needs. Tempo's /api/traces/{id} answers this
// shape (under "batches"; /api/v2/traces under "trace"."resourceSpans") with ids in base64;
// the OTLP specification's own JSON has hex ids and "resourceSpans". Both are accepted.
type otlpTraces struct {
	Batches       []otlpResourceSpans `json:"batches"`
	ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	Trace         *otlpTraces         `json:"trace"`
}

func (t otlpTraces) resourceSpans() []otlpResourceSpans {
	if t.Trace != nil {
		return t.Trace.resourceSpans()
	}
	return append(t.Batches, t.ResourceSpans...)
}

type otlpResourceSpans struct {
	Resource struct {
		Attributes []otlpKeyValue `json:"attributes"`
	} `json:"resource"`
	ScopeSpans []struct {
		Spans []otlpSpan `json:"spans"`
	} `json:"scopeSpans"`
}

type otlpSpan struct {
	TraceID           string         `json:"traceId"`
	SpanID            string         `json:"spanId"`
	ParentSpanID      string         `json:"parentSpanId"`
	Name              string         `json:"name"`
	Kind              otlpEnum       `json:"kind"`
	StartTimeUnixNano otlpInt        `json:"startTimeUnixNano"`
	EndTimeUnixNano   otlpInt        `json:"endTimeUnixNano"`
	Attributes        []otlpKeyValue `json:"attributes"`
	Status            struct {
		Code    otlpEnum `json:"code"`
		Message string   `json:"message"`
	} `json:"status"`
}

type otlpKeyValue struct {
	Key   string       `json:"key"`
	Value otlpAnyValue `json:"value"`
}

type otlpAnyValue struct {
	StringValue *string  `json:"stringValue"`
	BoolValue   *bool    `json:"boolValue"`
	IntValue    *otlpInt `json:"intValue"`
	DoubleValue *float64 `json:"doubleValue"`
	BytesValue  *string  `json:"bytesValue"`
	ArrayValue  *struct {
		Values []otlpAnyValue `json:"values"`
	} `json:"arrayValue"`
	KvlistValue *struct {
		Values []otlpKeyValue `json:"values"`
	} `json:"kvlistValue"`
}

// text writes any attribute value as text: arrays as [a, b], maps as {k=v}.
func (v otlpAnyValue) text() string {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.BoolValue != nil:
		return strconv.FormatBool(*v.BoolValue)
	case v.IntValue != nil:
		return strconv.FormatInt(int64(*v.IntValue), 10)
	case v.DoubleValue != nil:
		return strconv.FormatFloat(*v.DoubleValue, 'g', -1, 64)
	case v.BytesValue != nil:
		return *v.BytesValue
	case v.ArrayValue != nil:
		parts := make([]string, len(v.ArrayValue.Values))
		for i, e := range v.ArrayValue.Values {
			parts[i] = e.text()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case v.KvlistValue != nil:
		parts := make([]string, len(v.KvlistValue.Values))
		for i, kv := range v.KvlistValue.Values {
			parts[i] = kv.Key + "=" + kv.Value.text()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return ""
}

// otlpInt is a 64-bit integer, which protobuf's JSON mapping writes as a string ("123") and
// some encoders as a number.
type otlpInt int64

func (n *otlpInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// uint64 nanosecond timestamps fit in int64 until 2262.
		return fmt.Errorf("integer %s: %w", b, err)
	}
	*n = otlpInt(v)
	return nil
}

// otlpEnum is an enum written by name ("SPAN_KIND_SERVER") or by number (2).
type otlpEnum struct {
	name string
	num  int
}

func (e *otlpEnum) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.name)
	}
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &e.num)
}

// spanKinds and statusCodes follow opentelemetry/proto/trace/v1/trace.proto.
var (
	spanKindNames = map[string]SpanKind{
		"SPAN_KIND_UNSPECIFIED": KindUnspecified, "SPAN_KIND_INTERNAL": KindInternal,
		"SPAN_KIND_SERVER": KindServer, "SPAN_KIND_CLIENT": KindClient,
		"SPAN_KIND_PRODUCER": KindProducer, "SPAN_KIND_CONSUMER": KindConsumer,
	}
	spanKindNumbers = []SpanKind{KindUnspecified, KindInternal, KindServer, KindClient, KindProducer, KindConsumer}
	statusNames     = map[string]SpanStatus{
		"STATUS_CODE_UNSET": StatusUnset, "STATUS_CODE_OK": StatusOK, "STATUS_CODE_ERROR": StatusError,
	}
	statusNumbers = []SpanStatus{StatusUnset, StatusOK, StatusError}
)

func (e otlpEnum) kind() (SpanKind, error) {
	if e.name != "" {
		k, ok := spanKindNames[e.name]
		if !ok {
			return "", fmt.Errorf("unknown span kind %q", e.name)
		}
		return k, nil
	}
	if e.num < 0 || e.num >= len(spanKindNumbers) {
		return "", fmt.Errorf("unknown span kind %d", e.num)
	}
	return spanKindNumbers[e.num], nil
}

func (e otlpEnum) status() (SpanStatus, error) {
	if e.name != "" {
		s, ok := statusNames[e.name]
		if !ok {
			return "", fmt.Errorf("unknown status code %q", e.name)
		}
		return s, nil
	}
	if e.num < 0 || e.num >= len(statusNumbers) {
		return "", fmt.Errorf("unknown status code %d", e.num)
	}
	return statusNumbers[e.num], nil
}

// otlpModel turns OTLP JSON into traces, grouped by trace id in order of first appearance.
func otlpModel(t otlpTraces) ([]Trace, error) {
	var traces []Trace
	index := map[string]int{}
	for _, rs := range t.resourceSpans() {
		service := ""
		resource := map[string]string{}
		for _, kv := range rs.Resource.Attributes {
			resource[kv.Key] = kv.Value.text()
			if kv.Key == "service.name" {
				service = kv.Value.text()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				s, err := sp.model()
				if err != nil {
					return nil, err
				}
				s.Service, s.Resource = service, resource
				i, ok := index[s.TraceID]
				if !ok {
					i = len(traces)
					index[s.TraceID] = i
					traces = append(traces, Trace{ID: s.TraceID})
				}
				traces[i].Spans = append(traces[i].Spans, s)
			}
		}
	}
	return traces, nil
}

func (sp otlpSpan) model() (Span, error) {
	s := Span{Name: sp.Name, Attributes: map[string]string{}, StatusMessage: sp.Status.Message}
	var err error
	if s.TraceID, err = decodeOTLPID(sp.TraceID, traceIDLen/2); err != nil || s.TraceID == "" {
		return Span{}, fmt.Errorf("span %q: trace %v", sp.Name, orMissing(err))
	}
	if s.SpanID, err = decodeOTLPID(sp.SpanID, spanIDLen/2); err != nil || s.SpanID == "" {
		return Span{}, fmt.Errorf("span %q: span %v", sp.Name, orMissing(err))
	}
	if s.ParentID, err = decodeOTLPID(sp.ParentSpanID, spanIDLen/2); err != nil {
		return Span{}, fmt.Errorf("span %q: parent %v", sp.Name, err)
	}
	if s.Kind, err = sp.Kind.kind(); err != nil {
		return Span{}, fmt.Errorf("span %q: %v", sp.Name, err)
	}
	if s.Status, err = sp.Status.Code.status(); err != nil {
		return Span{}, fmt.Errorf("span %q: %v", sp.Name, err)
	}
	s.Start = time.Unix(0, int64(sp.StartTimeUnixNano))
	s.Duration = time.Duration(sp.EndTimeUnixNano - sp.StartTimeUnixNano)
	for _, kv := range sp.Attributes {
		s.Attributes[kv.Key] = kv.Value.text()
	}
	return s, nil
}

func orMissing(err error) any {
	if err == nil {
		return "id is missing"
	}
	return err
}
