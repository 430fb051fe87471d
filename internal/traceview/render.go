package traceview

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/termtext"
)

// Layout of the waterfall.
const (
	// BarWidth is the cells of the time axis: the trace's whole duration.
	BarWidth = 40
	// maxLabel bounds the tree-and-name column; longer names are cut with "…".
	maxLabel  = 64
	errorMark = "✗"
)

// row is one span in drawing order, with its tree prefix.
type row struct {
	span   readback.Span
	prefix string
}

// Render writes the view: the waterfall, the log lines, the exemplars. Everything in it came
// from the stores, which hold what any client sent them: each value is escaped
// (termtext.Escape) where it is laid out, so that a span named with escape sequences shows
// them instead of retitling or clearing the reader's terminal and the columns still line up,
// and the whole text once more before it is written, so that nothing missed reaches the
// terminal raw.
func Render(w io.Writer, v View) error {
	var b strings.Builder
	renderWaterfall(&b, v.Trace, v.TracesFrom)
	renderLogs(&b, v)
	renderExemplars(&b, v)
	// No trailing blanks: the bars and the error column pad the lines.
	lines := strings.Split(termtext.EscapeText(b.String()), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

func renderWaterfall(b *strings.Builder, tr readback.Trace, source string) {
	start, end := tr.Window()
	total := end.Sub(start)
	failed := 0
	for _, s := range tr.Spans {
		if s.Status == readback.StatusError {
			failed++
		}
	}
	fmt.Fprintf(b, "trace %s: %d spans from %d services, %s", tr.ID, len(tr.Spans), len(tr.Services()), duration(total))
	if failed > 0 {
		fmt.Fprintf(b, ", %d failed %s", failed, errorMark)
	}
	fmt.Fprintf(b, "\n  from %s, started %s\n\n", source, start.UTC().Format("2006-01-02 15:04:05.000 UTC"))

	rows := treeRows(tr)
	labels := make([]string, len(rows))
	labelWidth, serviceWidth := len("span"), len("service")
	for i, r := range rows {
		labels[i] = cutRunes(r.prefix+termtext.Escape(r.span.Name), maxLabel)
		labelWidth = max(labelWidth, utf8.RuneCountInString(labels[i]))
		serviceWidth = max(serviceWidth, utf8.RuneCountInString(termtext.Escape(r.span.Service)))
	}
	axis := "0" + strings.Repeat(" ", max(1, BarWidth-1-len(duration(total)))) + duration(total)
	fmt.Fprintf(b, "  %s  %s  %9s  %s\n", pad("service", serviceWidth), pad("span", labelWidth), "duration", axis)
	for i, r := range rows {
		mark := " "
		if r.span.Status == readback.StatusError {
			mark = errorMark
		}
		fmt.Fprintf(b, "  %s  %s  %9s  %s %s\n", pad(termtext.Escape(r.span.Service), serviceWidth), pad(labels[i], labelWidth),
			duration(r.span.Duration), bar(r.span.Start.Sub(start), r.span.Duration, total), mark)
		if r.span.Status == readback.StatusError && r.span.StatusMessage != "" {
			fmt.Fprintf(b, "  %s  %s%s %s\n", strings.Repeat(" ", serviceWidth), strings.Repeat(" ", utf8.RuneCountInString(r.prefix)),
				errorMark, cutRunes(termtext.Escape(r.span.StatusMessage), 200))
		}
	}
}

// treeRows orders the spans depth first, children by start time, with box-drawing prefixes.
// A span whose parent is not in the trace starts a tree of its own; every span is drawn
// once, whatever its parent ids say.
func treeRows(tr readback.Trace) []row {
	children := map[string][]readback.Span{}
	for _, s := range tr.Spans {
		children[s.ParentID] = append(children[s.ParentID], s)
	}
	byStart := func(ss []readback.Span) {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].Start.Before(ss[j].Start) })
	}
	roots := tr.Roots()
	byStart(roots)
	var rows []row
	seen := map[string]bool{}
	var walk func(s readback.Span, indent string, prefix string)
	walk = func(s readback.Span, indent, prefix string) {
		if seen[s.SpanID] {
			return
		}
		seen[s.SpanID] = true
		rows = append(rows, row{span: s, prefix: prefix})
		kids := children[s.SpanID]
		byStart(kids)
		for i, k := range kids {
			branch, next := "├─ ", "│  "
			if i == len(kids)-1 {
				branch, next = "└─ ", "   "
			}
			walk(k, indent+next, indent+branch)
		}
	}
	for _, r := range roots {
		walk(r, "", "")
	}
	// Spans in a cycle of parent ids have no root; draw them flat rather than lose them.
	for _, s := range tr.Spans {
		if !seen[s.SpanID] {
			walk(s, "", "")
		}
	}
	return rows
}

// bar draws a span on the time axis: blank until its start, then a cell per BarWidth-th of
// the trace's duration, at least one so that a short span stays visible.
func bar(offset, d, total time.Duration) string {
	if total <= 0 {
		return strings.Repeat("█", BarWidth)
	}
	from := int(math.Floor(float64(offset) / float64(total) * BarWidth))
	to := int(math.Ceil(float64(offset+d) / float64(total) * BarWidth))
	from = min(max(from, 0), BarWidth-1)
	to = min(max(to, from+1), BarWidth)
	return strings.Repeat(" ", from) + strings.Repeat("█", to-from) + strings.Repeat(" ", BarWidth-to)
}

func renderLogs(b *strings.Builder, v View) {
	switch {
	case v.LogsErr != nil && len(v.Logs) == 0:
		fmt.Fprintf(b, "\nlog lines: not read: %s\n", termtext.Escape(v.LogsErr.Error()))
		return
	case len(v.Logs) == 0:
		fmt.Fprintf(b, "\nlog lines: none with this trace id in %s\n", v.LogsFrom)
		return
	}
	fmt.Fprintf(b, "\nlog lines (%d, from %s; times UTC)\n", len(v.Logs), v.LogsFrom)
	serviceWidth := 0
	for _, l := range v.Logs {
		serviceWidth = max(serviceWidth, utf8.RuneCountInString(termtext.Escape(l.Service())))
	}
	for _, l := range v.Logs {
		fmt.Fprintf(b, "  %s  %s  %-5s  %s\n", l.Time.UTC().Format("15:04:05.000"), pad(termtext.Escape(l.Service()), serviceWidth),
			termtext.Escape(l.Level()), cutRunes(termtext.Escape(l.Message()), 300))
	}
}

func renderExemplars(b *strings.Builder, v View) {
	switch {
	case v.ExemplarsErr != nil:
		fmt.Fprintf(b, "\nexemplars: not read: %s\n", termtext.Escape(v.ExemplarsErr.Error()))
		return
	case len(v.Exemplars) == 0:
		fmt.Fprintf(b, "\nexemplars: no metric in %s names this trace (a series keeps only its latest few exemplars until it is scraped or pushed)\n", v.ExemplarsFrom)
		return
	}
	fmt.Fprintf(b, "\nexemplars naming this trace (%d, from %s)\n", len(v.Exemplars), v.ExemplarsFrom)
	for _, e := range v.Exemplars {
		fmt.Fprintf(b, "  %s%s  %s\n", termtext.Escape(e.Metric), labelString(e.Labels), strconv.FormatFloat(e.Value, 'g', -1, 64))
	}
}

// labelString writes labels as PromQL does, sorted: {a="x",b="y"}.
func labelString(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = termtext.Escape(k) + "=" + strconv.Quote(labels[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// duration prints a span's duration with three significant digits: 840µs, 12.3ms, 1.25s.
func duration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return trim3(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return trim3(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return trim3(d.Seconds()) + "s"
	}
}

func trim3(f float64) string {
	switch {
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	default:
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
}

func pad(s string, width int) string {
	return s + strings.Repeat(" ", max(0, width-utf8.RuneCountInString(s)))
}

func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
