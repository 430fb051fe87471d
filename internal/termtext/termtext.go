// Package termtext makes text from outside the process safe to print on a terminal. A span
// name, a log line, a store's error or a request's path can hold escape sequences that
// retitle, clear or rewrite a terminal, or bidirectional overrides that show text in another
// order than it has; every such value goes through Escape before it is printed.
package termtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every rune that acts on a terminal instead of showing on it written
// as a visible Go escape: C0 and C1 control characters (ESC as \x1b, BEL as \a, a newline as
// \n), DEL, format characters such as U+202E (\u202e), line and paragraph separators, and
// each byte of invalid UTF-8 (\xff). Everything else, a backslash included, is kept as it is,
// so text that is already safe comes back unchanged and unallocated.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EscapeText is Escape for text laid out in lines, a stack trace or a multi-line error: its
// newlines and tabs are kept, which move the cursor the way the text means and nothing else;
// every other rune Escape rewrites is rewritten.
func EscapeText(s string) string {
	if firstUnsafe(s) < 0 {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexAny(s, "\n\t")
		if i < 0 {
			b.WriteString(Escape(s))
			return b.String()
		}
		b.WriteString(Escape(s[:i]))
		b.WriteByte(s[i])
		s = s[i+1:]
	}
}

// firstUnsafe is the byte offset of the first rune Escape rewrites, or -1. Printable ASCII,
// nearly all of what passes here, is decided a byte at a time.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// unsafeRune: controls (C0, DEL, C1), format characters (bidirectional overrides and
// isolates, zero-width characters) and the separators some terminals take as a newline.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
