package traceview

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

func TestParseTraceID(t *testing.T) {
	full := "0af7651916cd43dd8448eb211c80319c"
	for _, c := range []struct{ in, want string }{
		{full, full},
		{"  " + strings.ToUpper(full) + "\n", full},
		{"af7651916cd43dd8448eb211c80319c", full},     // as Jaeger's search prints it
		{"00-" + full + "-b7ad6b7169203331-01", full}, // a traceresponse header
		{"1", "00000000000000000000000000000001"},
	} {
		got, err := ParseTraceID(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseTraceID(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "xyz", full + "0", "00000000000000000000000000000000", "00-" + full + "-nothex"} {
		if id, err := ParseTraceID(bad); err == nil {
			t.Errorf("ParseTraceID(%q) = %q, want an error", bad, id)
		}
	}
}

// A request's trace: the frontend's 100 ms span over the backend's, whose database call
// failed in its last 10 ms.
func sampleView() View {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	id := "0af7651916cd43dd8448eb211c80319c"
	spans := []readback.Span{
		// Out of order on purpose: stores answer in no particular order.
		{SpanID: "0000000000000004", ParentID: "0000000000000003", Name: "GET /db/user/{id}", Service: "backend", Start: at(40), Duration: ms(50),
			Status: readback.StatusError, StatusMessage: "database unavailable"},
		{SpanID: "0000000000000001", Name: "frontend_get_user", Service: "frontend", Start: at(0), Duration: ms(100)},
		{SpanID: "0000000000000003", ParentID: "0000000000000002", Name: "backend_get_user", Service: "backend", Start: at(20), Duration: ms(75)},
		{SpanID: "0000000000000005", ParentID: "0000000000000003", Name: "validate_user_id", Service: "backend", Start: at(21), Duration: 800 * time.Microsecond},
		{SpanID: "0000000000000002", ParentID: "0000000000000001", Name: "GET /api/user/{id}", Service: "frontend", Start: at(10), Duration: ms(88)},
	}
	for i := range spans {
		spans[i].TraceID = id
	}
	return View{
		Trace:      readback.Trace{ID: id, Spans: spans},
		TracesFrom: "jaeger at http://127.0.0.1:16686",
		Logs: []readback.LogLine{
			{Time: at(1), Line: "Fetching user 123", Stream: map[string]string{"service": "frontend", "level": "info"}},
			{Time: at(92), Line: `{"msg":"request failed"}`, Stream: map[string]string{"service": "backend", "level": "error"}},
		},
		LogsFrom: "victorialogs at http://127.0.0.1:19428",
		Exemplars: []Exemplar{{Metric: "frontend_requests_total",
			Labels: map[string]string{"endpoint": "/user/{id}", "job": "frontend", "method": "GET", "status": "502"}, Value: 1}},
		ExemplarsFrom: "Prometheus at http://127.0.0.1:19090",
	}
}

func TestRenderWaterfall(t *testing.T) {
	var b strings.Builder
	if err := Render(&b, sampleView()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	t.Logf("\n%s", out)

	if !strings.HasPrefix(lines[0], "trace 0af7651916cd43dd8448eb211c80319c: 5 spans from 2 services, 100ms, 1 failed ✗") {
		t.Errorf("header %q", lines[0])
	}
	// The tree, depth first, children by start; each row: service, tree and name, duration, bar.
	want := []struct{ service, label, duration, bar string }{
		{"frontend", "frontend_get_user", "100ms", strings.Repeat("█", 40)},
		{"frontend", "└─ GET /api/user/{id}", "88.0ms", "    " + strings.Repeat("█", 36)}, // 10..98 ms: cells 4..40
		{"backend", "   └─ backend_get_user", "75.0ms", "        " + strings.Repeat("█", 30) + "  "},
		{"backend", "      ├─ validate_user_id", "800µs", "        " + "█" + strings.Repeat(" ", 31)},
		{"backend", "      └─ GET /db/user/{id}", "50.0ms", strings.Repeat(" ", 16) + strings.Repeat("█", 20) + "    "},
	}
	var rows []string
	for _, l := range lines {
		if strings.Contains(l, "█") {
			rows = append(rows, l)
		}
	}
	if len(rows) != len(want) {
		t.Fatalf("%d span rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		fields := strings.Fields(strings.SplitN(r, "█", 2)[0])
		if fields[0] != w.service || !strings.Contains(r, "  "+w.label+" ") || !strings.Contains(r, " "+w.duration+"  ") {
			t.Errorf("row %d = %q, want service %s, %q, %s", i, r, w.service, w.label, w.duration)
		}
		// The bar: where it starts relative to the axis (the root's bar), and how long it is.
		col := func(s string) int { return len([]rune(s[:strings.Index(s, "█")])) }
		gotStart, wantStart := col(r)-col(rows[0]), len(w.bar)-len(strings.TrimLeft(w.bar, " "))
		if gotStart != wantStart || strings.Count(r, "█") != strings.Count(w.bar, "█") {
			t.Errorf("row %d bar starts at cell %d with %d cells, want %d with %d:\n%s",
				i, gotStart, strings.Count(r, "█"), wantStart, strings.Count(w.bar, "█"), r)
		}
	}
	if !strings.HasSuffix(rows[4], "✗") || strings.Contains(strings.Join(rows[:4], ""), "✗") {
		t.Errorf("only the failed span is marked:\n%s", strings.Join(rows, "\n"))
	}
	if !strings.Contains(out, "✗ database unavailable") {
		t.Errorf("the failed span's status message is missing:\n%s", out)
	}
	for _, s := range []string{
		"log lines (2, from victorialogs at http://127.0.0.1:19428; times UTC)",
		"10:00:00.001  frontend  info   Fetching user 123",
		"10:00:00.092  backend   error  request failed",
		"exemplars naming this trace (1, from Prometheus at http://127.0.0.1:19090)",
		`frontend_requests_total{endpoint="/user/{id}",job="frontend",method="GET",status="502"}  1`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// A store that could not be read, or had nothing, says so instead of printing nothing.
func TestRenderSaysWhatIsMissing(t *testing.T) {
	v := sampleView()
	v.Logs, v.LogsErr = nil, errors.New("GET http://127.0.0.1:1/select/logsql/query: nothing listens there")
	v.Exemplars = nil
	var b strings.Builder
	if err := Render(&b, v); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"log lines: not read: GET http://127.0.0.1:1/select/logsql/query: nothing listens there",
		"exemplars: no metric in Prometheus at http://127.0.0.1:19090 names this trace",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, b.String())
		}
	}
}

func TestBarStaysWithinTheAxis(t *testing.T) {
	total := 100 * time.Millisecond
	for _, c := range []struct{ off, d time.Duration }{{0, 0}, {total, 0}, {99 * time.Millisecond, 5 * time.Millisecond}, {-time.Millisecond, total}} {
		b := bar(c.off, c.d, total)
		if n := len([]rune(b)); n != BarWidth || !strings.Contains(b, "█") {
			t.Errorf("bar(%v, %v) = %q (%d cells), want %d cells with at least one filled", c.off, c.d, b, n, BarWidth)
		}
	}
}
