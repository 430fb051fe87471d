package telemetry

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pillars-o11y/pillars/internal/termtext"
)

// Bounds on what a caller's input can put into the signals. A request may carry kilobytes in
// its path or query; repeated into every log line and span attribute of the request, that
// would multiply one request into megabytes of telemetry, and a single oversized export batch
// is rejected by the trace store whole, ordinary spans included.
const (
	// MaxEcho is how many bytes of one input value an error message, a log attribute or a span
	// attribute repeats.
	MaxEcho = 64
	// maxLogValue is the hard bound on any string in a log line (the message included), for
	// values that did not pass through Excerpt: the last line of defence, not the first.
	maxLogValue = 2048
)

// Excerpt returns s with its control and format characters written as visible escapes
// (termtext.Escape: ESC as \x1b, U+202E as \u202e, invalid UTF-8 byte by byte; an OTLP
// exporter refuses a batch over one invalid string), cut to MaxEcho bytes on a rune boundary,
// with "…" when it was cut. Use it wherever input is echoed: messages, log attributes, span
// attributes; whoever reads them later, on a terminal too, gets text that only shows.
func Excerpt(s string) string { return cut(termtext.Escape(s), MaxEcho) }

// Quote is s cut like Excerpt, in Go quotes (which escape what Excerpt escapes), for error
// messages: `user id "abc" is not a number`.
func Quote(s string) string {
	e := cut(s, MaxEcho)
	if len(e) < len(s) {
		return strconv.Quote(e[:len(e)-len("…")]) + "…"
	}
	return strconv.Quote(e)
}

func cut(s string, limit int) string {
	if len(s) <= limit && utf8.ValidString(s) {
		return s
	}
	if len(s) > limit {
		n := limit
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}
