//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// The readback clients against the real Jaeger and VictoriaLogs, and the same cases against
// Tempo and Loki as their documented HTTP APIs answer (neither can run here). Those two are
// served by minimal fakes built from what the real stores returned for the same request, in
// Tempo's encoding (protobuf JSON: base64 ids, enum names, search ids without leading zeros)
// and Loki's (query_range streams with categorized labels), so a parser that disagrees with
// either shape fails here.
func TestReadbackStores(t *testing.T) {
	// A trace id with eight leading zeros: Jaeger prints it without them. The request is a
	// cache hit (the same user was just asked for), so its trace and lines are complete once
	// the last span and the last line of each service are in.
	traceID, spanID := "00000000"+randomHex(12), randomHex(8)
	getOK(t, "/user/4321")
	r := getWithTraceparent(t, "/user/4321", traceID, spanID)
	if r.traceID != traceID {
		t.Fatalf("the frontend answered trace %s, want the traceparent's %s", r.traceID, traceID)
	}
	want := waitTrace(t, traceID, "frontend_get_user", "GET /api/user/{id}", "backend_get_user", "validate_user_id")
	lines := waitLogMessages(t, traceID, []string{"frontend", "backend"},
		"Fetching user 4321", "Cache hit for user 4321", "User 4321 request completed", "User 4321 fetch completed")

	tempo := httptest.NewServer(tempoShapes(t, want))
	t.Cleanup(tempo.Close)
	loki := httptest.NewServer(lokiShapes(t, lines))
	t.Cleanup(loki.Close)
	tempoStore, err := readback.NewTempo(tempo.URL, client)
	if err != nil {
		t.Fatal(err)
	}
	lokiStore, err := readback.NewLoki(loki.URL, client)
	if err != nil {
		t.Fatal(err)
	}

	for _, store := range []readback.TraceStore{stk.traces, tempoStore} {
		t.Run(string(store.Kind()), func(t *testing.T) { traceStoreCases(t, store, want, spanID) })
	}
	for _, store := range []readback.LogStore{stk.logs, lokiStore} {
		t.Run(string(store.Kind()), func(t *testing.T) { logStoreCases(t, store, traceID, lines) })
	}
}

// traceStoreCases: the trace by its full id and by the id without leading zeros, a missing
// trace, and the trace found by search, every id normalised.
func traceStoreCases(t *testing.T, store readback.TraceStore, want readback.Trace, sentSpanID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{want.ID, strings.TrimLeft(want.ID, "0"), strings.ToUpper(want.ID)} {
		tr, err := store.Trace(ctx, id)
		if err != nil {
			t.Fatalf("Trace(%s): %v", id, err)
		}
		if tr.ID != want.ID {
			t.Errorf("Trace(%s).ID = %s, want %s", id, tr.ID, want.ID)
		}
		if got, exp := spanSummary(tr), spanSummary(want); !slices.Equal(got, exp) {
			t.Errorf("Trace(%s) spans\n%v\nwant\n%v", id, got, exp)
		}
		root := tr.ByName("frontend_get_user")
		if len(root) != 1 || root[0].ParentID != sentSpanID || root[0].Kind != readback.KindServer || root[0].Service != "frontend" {
			t.Errorf("Trace(%s): frontend_get_user %v, want the frontend's server span below the sent span %s", id, root, sentSpanID)
		}
		if root[0].Attributes["http.route"] != "/user/{id}" {
			t.Errorf("Trace(%s): frontend_get_user attributes %v, want http.route /user/{id}", id, root[0].Attributes)
		}
	}
	if _, err := store.Trace(ctx, randomHex(16)); !errors.Is(err, readback.ErrTraceNotFound) {
		t.Errorf("a trace nobody sent: %v, want ErrTraceNotFound", err)
	}
	start, end := want.Window()
	hits, err := store.Search(ctx, readback.TraceSearch{Service: "frontend", SpanName: "frontend_get_user",
		Start: start.Add(-time.Minute), End: end.Add(time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(hits, func(h readback.TraceSummary) bool { return h.TraceID == want.ID })
	if i < 0 {
		t.Fatalf("search found %d traces, not %s: %v", len(hits), want.ID, hits)
	}
	if h := hits[i]; h.RootService != "frontend" || h.RootName != "frontend_get_user" {
		t.Errorf("search hit %+v: want the root span frontend/frontend_get_user", h)
	}

	// Spans by service, name and attribute: the request's entry span, with its resource.
	q := readback.SpanSearch{Service: "frontend", Name: "frontend_get_user", Attribute: "http.route", Value: "/user/{id}",
		Start: start.Add(-time.Minute), End: end.Add(time.Minute), Limit: 100}
	spans, err := store.FindSpans(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(spans, func(s readback.Span) bool { return s.TraceID == want.ID })
	if j < 0 {
		t.Fatalf("FindSpans(%s) found %d spans, none of trace %s", q, len(spans), want.ID)
	}
	if v, ok := spans[j].Attr("service.version"); !ok || v == "" || spans[j].Resource["service.name"] != "frontend" {
		t.Errorf("span found %v: want its resource's service.name and service.version", spans[j].Resource)
	}
	q.Value, q.Contains = "", "/user/"
	if spans, err := store.FindSpans(ctx, q); err != nil || !slices.ContainsFunc(spans, func(s readback.Span) bool { return s.TraceID == want.ID }) {
		t.Errorf("FindSpans(%s): %d spans, %v; want the request's", q, len(spans), err)
	}
	for _, none := range []readback.SpanSearch{
		{Service: "frontend", Name: "frontend_get_user", Error: true, Start: q.Start, End: q.End},
		{Service: "frontend", Name: "frontend_get_user", Attribute: "http.route", Value: "/product/{id}", Start: q.Start, End: q.End},
	} {
		spans, err := store.FindSpans(ctx, none)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(spans, func(s readback.Span) bool { return s.TraceID == want.ID }) {
			t.Errorf("FindSpans(%s) found the request's span, which does not match", none)
		}
	}
}

// spanSummary is what two stores must agree on about a trace, in a stable order.
func spanSummary(tr readback.Trace) []string {
	var out []string
	for _, s := range tr.Spans {
		out = append(out, strings.Join([]string{s.TraceID, s.SpanID, s.ParentID, s.Service, s.Name, string(s.Kind), string(s.Status)}, " "))
	}
	slices.Sort(out)
	return out
}

// logStoreCases: the lines of the trace by the store's trace query, each with the trace id,
// its service and level, and the message.
func logStoreCases(t *testing.T, store readback.LogStore, traceID string, want []readback.LogLine) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lines, err := store.Query(ctx, store.TraceQuery(traceID), time.Now().Add(-time.Hour), time.Now().Add(time.Minute), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, exp := lineSummary(lines), lineSummary(want); !slices.Equal(got, exp) {
		t.Errorf("lines\n%v\nwant\n%v", got, exp)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].Time.Before(lines[i-1].Time) {
			t.Errorf("lines not oldest first: %s before %s", lines[i-1].Time, lines[i].Time)
		}
	}

	// Lines by service, level and a phrase of the message.
	f := readback.LogFilter{Service: "backend", Level: "info", Phrase: "Cache hit for user 4321"}
	found, err := store.Query(ctx, store.MessageQuery(f), time.Now().Add(-time.Hour), time.Now().Add(time.Minute), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(found, func(l readback.LogLine) bool { return f.Matches(l) && l.TraceID() == traceID }) {
		t.Errorf("%s: %d lines, none of trace %s: %v", store.MessageQuery(f), len(found), traceID, found)
	}
}

func lineSummary(lines []readback.LogLine) []string {
	var out []string
	for _, l := range lines {
		span, _ := l.Get("span_id")
		out = append(out, strings.Join([]string{l.TraceID(), span, l.Service(), l.Level(), l.Message()}, " "))
	}
	slices.Sort(out)
	return out
}

// tempoShapes serves a trace as Tempo's HTTP API does: /api/echo, /api/traces/{id} as
// {"batches": [ResourceSpans...]} in protobuf's JSON mapping (base64 ids), and /api/search
// with the id stripped of its leading zeros.
func tempoShapes(t *testing.T, tr readback.Trace) http.Handler {
	byService := map[string]*tracepb.ResourceSpans{}
	var order []string
	for _, s := range tr.Spans {
		rs, ok := byService[s.Service]
		if !ok {
			rs = &tracepb.ResourceSpans{
				Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
					stringAttr("service.name", s.Service), stringAttr("service.version", s.Resource["service.version"])}},
				ScopeSpans: []*tracepb.ScopeSpans{{}},
			}
			byService[s.Service] = rs
			order = append(order, s.Service)
		}
		rs.ScopeSpans[0].Spans = append(rs.ScopeSpans[0].Spans, otlpSpan(t, s))
	}
	var batches []json.RawMessage
	for _, svc := range order {
		b, err := protojson.Marshal(byService[svc])
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	traceJSON, err := json.Marshal(map[string]any{"batches": batches})
	if err != nil {
		t.Fatal(err)
	}
	start, end := tr.Window()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/echo", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "echo") })
	mux.HandleFunc("GET /api/traces/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, err := readback.NormalizeTraceID(r.PathValue("id")); err != nil || id != tr.ID {
			http.Error(w, "trace not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(traceJSON)
	})
	mux.HandleFunc("GET /api/search", func(w http.ResponseWriter, r *http.Request) {
		// The searches the trace store cases make, as Tempo would answer them for this trace.
		const entry = `{ resource.service.name = "frontend" && name = "frontend_get_user"`
		q := r.URL.Query().Get("q")
		switch q {
		case entry + " }", entry + ` && .http.route = "/user/{id}" }`, entry + ` && .http.route =~ ".*/user/.*" }`:
		case entry + ` && status = error }`, entry + ` && .http.route = "/product/{id}" }`:
			json.NewEncoder(w).Encode(map[string]any{"traces": []any{}})
			return
		default:
			http.Error(w, "this fake does not know the query "+q, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"traces": []map[string]any{{
			"traceID":           strings.TrimLeft(tr.ID, "0"),
			"rootServiceName":   "frontend",
			"rootTraceName":     "frontend_get_user",
			"startTimeUnixNano": fmt.Sprint(start.UnixNano()),
			"durationMs":        end.Sub(start).Milliseconds(),
		}}})
	})
	return mux
}

func otlpSpan(t *testing.T, s readback.Span) *tracepb.Span {
	kinds := map[readback.SpanKind]tracepb.Span_SpanKind{
		readback.KindInternal: tracepb.Span_SPAN_KIND_INTERNAL, readback.KindServer: tracepb.Span_SPAN_KIND_SERVER,
		readback.KindClient: tracepb.Span_SPAN_KIND_CLIENT,
	}
	codes := map[readback.SpanStatus]tracepb.Status_StatusCode{
		readback.StatusUnset: tracepb.Status_STATUS_CODE_UNSET, readback.StatusOK: tracepb.Status_STATUS_CODE_OK,
		readback.StatusError: tracepb.Status_STATUS_CODE_ERROR,
	}
	sp := &tracepb.Span{
		TraceId: mustHex(t, s.TraceID), SpanId: mustHex(t, s.SpanID), Name: s.Name, Kind: kinds[s.Kind],
		StartTimeUnixNano: uint64(s.Start.UnixNano()), EndTimeUnixNano: uint64(s.Start.Add(s.Duration).UnixNano()),
		Status: &tracepb.Status{Code: codes[s.Status], Message: s.StatusMessage},
	}
	if s.ParentID != "" {
		sp.ParentSpanId = mustHex(t, s.ParentID)
	}
	for k, v := range s.Attributes {
		sp.Attributes = append(sp.Attributes, stringAttr(k, v))
	}
	return sp
}

func stringAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// lokiShapes serves log lines as Loki's query_range does for the one query it knows, with
// the categorize-labels encoding: stream labels in "stream", structured metadata in each
// value's third element. The lines' text is the JSON record, as the services push it.
func lokiShapes(t *testing.T, lines []readback.LogLine) http.Handler {
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	var result []stream
	traceID := ""
	for _, l := range lines {
		traceID = l.TraceID()
		span, _ := l.Get("span_id")
		record, err := json.Marshal(map[string]string{"msg": l.Message(), "level": strings.ToUpper(l.Level()), "trace_id": traceID, "span_id": span})
		if err != nil {
			t.Fatal(err)
		}
		result = append(result, stream{Stream: l.Stream, Values: [][]any{{
			fmt.Sprint(l.Time.UnixNano()), string(record),
			map[string]any{"structuredMetadata": map[string]string{"trace_id": traceID, "span_id": span}, "parsed": map[string]string{}},
		}}})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /loki/api/v1/status/buildinfo", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"version":"3.7.8","revision":"","branch":"","buildUser":"","buildDate":"","goVersion":""}`)
	})
	mux.HandleFunc("GET /loki/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Loki-Response-Encoding-Flags") != "categorize-labels" {
			http.Error(w, "this fake answers with categorized labels only", http.StatusBadRequest)
			return
		}
		answer := result
		switch q := r.URL.Query().Get("query"); q {
		case `{service=~".+"} | trace_id="` + traceID + `"`:
		case `{service="backend", level="info"} |= "Cache hit for user 4321"`:
			// Loki's line filter looks at the whole line: the stream and the text must match.
			answer = nil
			for _, st := range result {
				if st.Stream["service"] == "backend" && st.Stream["level"] == "info" && strings.Contains(st.Values[0][1].(string), "Cache hit for user 4321") {
					answer = append(answer, st)
				}
			}
		default:
			http.Error(w, "this fake does not know the query "+q, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "streams", "result": answer, "stats": map[string]any{}}})
	})
	return mux
}

func mustHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// getWithTraceparent requests a frontend path as the child of a remote span.
func getWithTraceparent(t *testing.T, path, traceID, spanID string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+stk.frontend+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("traceparent", "00-"+traceID+"-"+spanID+"-01")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	if m := traceresponse.FindStringSubmatch(resp.Header.Get("traceresponse")); m != nil {
		r.traceID = m[1]
	}
	return r
}
