package verify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// The repository's provisioning file, read as Grafana reads it ($$ is a literal $), has the
// three links verify follows, pointing at provisioned data sources.
func TestReadsTheRepositoryProvisioningFile(t *testing.T) {
	sources, err := readProvisioningFile(filepath.Join("..", "..", "deploy", "grafana", "provisioning", "datasources", "datasources.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	prom, ok1 := sourceByUID(sources, "prometheus")
	loki, ok2 := sourceByUID(sources, "loki")
	tempo, ok3 := sourceByUID(sources, "tempo")
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("data sources %+v: want uids prometheus, loki, tempo", sources)
	}
	if d := prom.JSONData.ExemplarTraceIDDestinations; len(d) != 1 || d[0].Name != "trace_id" || d[0].DatasourceUID != "tempo" {
		t.Errorf("exemplar destinations %+v", d)
	}
	if f := loki.JSONData.DerivedFields; len(f) != 1 || f[0].MatcherType != "label" || f[0].MatcherRegex != "trace_id" || f[0].URL != "${__value.raw}" {
		t.Errorf("derived fields %+v: the $$ of the file should be one $", f)
	}
	tl := tempo.JSONData.TracesToLogsV2
	if tl == nil || !tl.CustomQuery || tl.Query != `{service=~".+"} | trace_id="${__trace.traceId}"` || tl.DatasourceUID != "loki" {
		t.Fatalf("tracesToLogsV2 %+v", tl)
	}
	// What the link runs for a trace, and its LogsQL for VictoriaLogs.
	q, err := expandLinkVars(tl.Query, map[string]string{"__trace.traceId": "00000a1b2c3d4e5f60718293a4b5c6d7"})
	if err != nil || q != `{service=~".+"} | trace_id="00000a1b2c3d4e5f60718293a4b5c6d7"` {
		t.Errorf("query for a trace: %s, %v", q, err)
	}
	if _, err := readback.LogsQLFromLogQL(q); err != nil {
		t.Errorf("the link's query cannot run on VictoriaLogs: %v", err)
	}
}

// Grafana expands $VAR and ${VAR} in provisioning files: a link written with a single $ is
// emptied, which is the mistake $$ avoids.
func TestGrafanaExpansion(t *testing.T) {
	env := map[string]string{"LOKI_HOST": "loki"}
	getenv := func(k string) string { return env[k] }
	for in, want := range map[string]string{
		"http://$LOKI_HOST:3100":   "http://loki:3100",
		"http://${LOKI_HOST}:3100": "http://loki:3100",
		"$${__value.raw}":          "${__value.raw}",
		"${__value.raw}":           "",
		"no variables":             "no variables",
	} {
		if got := expandGrafanaVars(in, getenv); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := expandLinkVars("${__trace.traceId} ${__span.tags}", map[string]string{"__trace.traceId": "x"}); err == nil || !strings.Contains(err.Error(), "${__span.tags}") {
		t.Errorf("an unknown link variable: %v, want an error naming it", err)
	}
}

func TestNotAProvisioningFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	os.WriteFile(path, []byte("global:\n  scrape_interval: 5s\n"), 0o644)
	if _, err := readProvisioningFile(path, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "not a Grafana data source provisioning file") {
		t.Errorf("a Prometheus config as data sources: %v", err)
	}
	if _, err := readProvisioningFile(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil {
		t.Error("a missing file: no error")
	}
}

// span makes a span of a test trace.
func span(id, parent, service, name string, kind readback.SpanKind) readback.Span {
	return readback.Span{TraceID: "00000a1b2c3d4e5f60718293a4b5c6d7", SpanID: id, ParentID: parent, Service: service, Name: name, Kind: kind}
}

func TestShapeCheck(t *testing.T) {
	const sent = "1111111111111111"
	good := readback.Trace{Spans: []readback.Span{
		span("a000000000000001", sent, "frontend", "frontend_get_user", readback.KindServer),
		span("a000000000000002", "a000000000000001", "frontend", "GET /api/user/{id}", readback.KindClient),
		span("a000000000000003", "a000000000000002", "backend", "backend_get_user", readback.KindServer),
		span("a000000000000004", "a000000000000003", "backend", "GET /db/user/{id}", readback.KindClient),
		span("a000000000000005", "a000000000000004", "database", "database_get_user", readback.KindServer),
	}}
	if why := userShape("miss").check(good, sent); why != "" {
		t.Errorf("a complete miss: %s", why)
	}
	if why := userShape("hit").check(readback.Trace{Spans: good.Spans[:3]}, sent); why != "" {
		t.Errorf("a complete hit: %s", why)
	}
	broken := map[string]readback.Trace{
		"database span missing": {Spans: good.Spans[:4]},
		"database parent wrong": {Spans: append(append([]readback.Span{}, good.Spans[:4]...),
			span("a000000000000005", "a000000000000003", "database", "database_get_user", readback.KindServer))},
		"root has another parent": {Spans: append([]readback.Span{span("a000000000000001", "2222222222222222", "frontend", "frontend_get_user", readback.KindServer)}, good.Spans[1:]...)},
		"backend span of the wrong service": {Spans: append(append(append([]readback.Span{}, good.Spans[:2]...),
			span("a000000000000003", "a000000000000002", "database", "backend_get_user", readback.KindServer)), good.Spans[3:]...)},
	}
	for name, tr := range broken {
		if why := userShape("miss").check(tr, sent); why == "" {
			t.Errorf("%s: passed", name)
		}
	}
}

// The checklist shows every check with its status, and under a failed one its query and the
// answer; the JSON report carries the same.
func TestReportRendering(t *testing.T) {
	rep := Report{Checks: []Check{
		{Signal: SignalTraces, Name: "trace of cache miss", Status: Pass, TraceID: "00000a1b2c3d4e5f60718293a4b5c6d7", Detail: "10 spans"},
		{Signal: SignalLogs, Name: "logs of cache miss", Status: Fail, Detail: "no line from database yet", Query: `trace_id:="00000a1b"`, Answer: "no lines"},
		{Signal: SignalServiceGraph, Name: "service graph edges", Status: Skip, Detail: "not checked"},
	}}
	rep.finish()
	if rep.Passed || rep.Counts.Passed != 1 || rep.Counts.Failed != 1 || rep.Counts.Skipped != 1 {
		t.Fatalf("counts %+v passed %v", rep.Counts, rep.Passed)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PASS  traces", "FAIL  logs", "SKIP  service graph", "[trace 00000a1b2c3d4e5f60718293a4b5c6d7]",
		`query:  trace_id:="00000a1b"`, "answer: no lines", "FAILED: 1 of 3 checks passed; 1 failed, 1 skipped"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("checklist has no %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Passed || len(back.Checks) != 3 || back.Checks[1].Query != `trace_id:="00000a1b"` {
		t.Errorf("JSON report %s: %v", js.String(), err)
	}
}

// A failed check quotes what a store answered; an answer with escape sequences (a log line a
// client wrote, a span name) is shown escaped, so the checklist cannot retitle or clear the
// terminal it is printed on.
func TestReportShowsStoreAnswersEscaped(t *testing.T) {
	const hostile = "\x1b]0;owned\a\x1b[2J\u009b2J\u202eabc"
	rep := Report{Checks: []Check{
		{Signal: SignalLogs, Name: "logs of cache miss", Status: Fail, Detail: "line " + hostile + "\nsecond line",
			Query: `{service="frontend"}`, Answer: hostile},
	}}
	rep.finish()
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(text.String(), "\x1b\a\u009b\u202e") {
		t.Errorf("the checklist holds a control character: %q", text.String())
	}
	if !strings.Contains(text.String(), `answer: \x1b]0;owned\a\x1b[2J\u009b2J\u202eabc`) || !strings.Contains(text.String(), "\n"+strings.Repeat(" ", 4+2+13+2+len("logs of cache miss")+2)+"second line") {
		t.Errorf("the answer is not shown escaped, or the detail lost its layout:\n%s", text.String())
	}
}
