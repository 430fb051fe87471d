package readback

import (
	"encoding/json"
	"testing"
	"time"
)

// OTLP JSON in the two spellings Tempo's /api/traces (v1: "batches", base64 ids, enum names)
// and the OTLP specification (/api/v2/traces: "trace"."resourceSpans", hex ids, enum numbers)
// use: both give the same model.
func TestOTLPJSONShapes(t *testing.T) {
	v1 := `{"batches":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},
	  "scopeSpans":[{"scope":{"name":"x"},"spans":[
	    {"traceId":"AAAKGyw9Tl9gcYKTpLXG1w==","spanId":"t61rcWkgMzE=","parentSpanId":"","name":"frontend_get_user",
	     "kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000",
	     "attributes":[{"key":"http.route","value":{"stringValue":"/user/{id}"}},{"key":"http.response.status_code","value":{"intValue":"404"}}],
	     "status":{"code":"STATUS_CODE_ERROR","message":"boom"}}]}]}]}`
	v2 := `{"trace":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},
	  "scopeSpans":[{"spans":[
	    {"traceId":"00000a1b2c3d4e5f60718293a4b5c6d7","spanId":"b7ad6b7169203331","name":"frontend_get_user",
	     "kind":2,"startTimeUnixNano":1700000000000000000,"endTimeUnixNano":"1700000000250000000",
	     "attributes":[{"key":"http.route","value":{"stringValue":"/user/{id}"}},{"key":"http.response.status_code","value":{"intValue":404}}],
	     "status":{"code":2,"message":"boom"}}]}]}]}}`
	for name, doc := range map[string]string{"tempo v1": v1, "otlp v2": v2} {
		var raw otlpTraces
		if err := json.Unmarshal([]byte(doc), &raw); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		traces, err := otlpModel(raw)
		if err != nil || len(traces) != 1 || len(traces[0].Spans) != 1 {
			t.Fatalf("%s: %v, %v", name, traces, err)
		}
		s := traces[0].Spans[0]
		want := Span{TraceID: "00000a1b2c3d4e5f60718293a4b5c6d7", SpanID: "b7ad6b7169203331", Name: "frontend_get_user",
			Kind: KindServer, Service: "frontend", Status: StatusError, StatusMessage: "boom",
			Start: time.Unix(1700000000, 0), Duration: 250 * time.Millisecond}
		if s.TraceID != want.TraceID || s.SpanID != want.SpanID || s.ParentID != "" || s.Name != want.Name || s.Kind != want.Kind ||
			s.Service != want.Service || s.Status != want.Status || s.StatusMessage != want.StatusMessage ||
			!s.Start.Equal(want.Start) || s.Duration != want.Duration {
			t.Errorf("%s: %+v\nwant %+v", name, s, want)
		}
		if s.Attributes["http.route"] != "/user/{id}" || s.Attributes["http.response.status_code"] != "404" {
			t.Errorf("%s: attributes %v", name, s.Attributes)
		}
	}
}

// A Loki value is [time, line] or, with categorized labels, [time, line, {structuredMetadata,
// parsed}]; the trace id is found either way.
func TestLokiValues(t *testing.T) {
	const body = `{"status":"success","data":{"resultType":"streams","result":[
	  {"stream":{"service":"backend","level":"info","trace_id":"484d9"},"values":[["1700000000000000001","{\"msg\":\"Cache hit for user 7\"}"]]},
	  {"stream":{"service":"frontend","level":"warn"},"values":[["1700000000000000000","plain text",
	     {"structuredMetadata":{"trace_id":"000000000000000000000000000484d9","span_id":"b7ad6b7169203331"},"parsed":{"user_id":"7"}}]]}]}}`
	var r lokiStreams
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	var lines []LogLine
	for _, st := range r.Data.Result {
		for _, v := range st.Values {
			l, err := lokiLine(st.Stream, v)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
	}
	if lines[0].Message() != "Cache hit for user 7" || lines[1].Message() != "plain text" {
		t.Errorf("messages %q, %q", lines[0].Message(), lines[1].Message())
	}
	for _, l := range lines {
		if l.TraceID() != "000000000000000000000000000484d9" {
			t.Errorf("%v: trace id %q", l, l.TraceID())
		}
	}
	if v, _ := lines[1].Get("user_id"); v != "7" || lines[1].Level() != "warn" || lines[1].Service() != "frontend" {
		t.Errorf("categorized line: %+v", lines[1])
	}
	if _, err := lokiLine(nil, []json.RawMessage{json.RawMessage(`"x"`)}); err == nil {
		t.Error("a value without a line: want an error")
	}
}

func TestParseStreamLabels(t *testing.T) {
	got, err := parseStreamLabels(`{environment="e2e",level="info",service="a\"b,c"}`)
	if err != nil || len(got) != 3 || got["service"] != `a"b,c` || got["level"] != "info" {
		t.Errorf("parseStreamLabels: %v, %v", got, err)
	}
	for _, bad := range []string{`environment="e2e"`, `{level=info}`, `{="x"}`} {
		if _, err := parseStreamLabels(bad); err == nil {
			t.Errorf("parseStreamLabels(%s): want an error", bad)
		}
	}
	if got, err := parseStreamLabels(""); err != nil || len(got) != 0 {
		t.Errorf("empty stream: %v, %v", got, err)
	}
}
