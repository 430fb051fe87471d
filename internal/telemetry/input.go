package telemetry

import (
	"strconv"
	"strings"
	"unicode/utf8"
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

// Excerpt returns s cut to MaxEcho bytes on a rune boundary, with "…" when it was cut, and
// with invalid UTF-8 replaced (an OTLP exporter refuses a batch over one invalid string).
// Use it wherever input is echoed: messages, log attributes, span attributes.
func Excerpt(s string) string { return cut(s, MaxEcho) }

// Quote is Excerpt in Go quotes, for error messages: `user id "abc" is not a number`.
func Quote(s string) string {
	e := Excerpt(s)
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
