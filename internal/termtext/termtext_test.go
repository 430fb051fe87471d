package termtext

import (
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"frontend_get_user", "frontend_get_user"},
		{"ü ✗ █ 日本", "ü ✗ █ 日本"},
		{`a\b "q"`, `a\b "q"`},
		{"\x1b]0;owned\a\x1b[2J", `\x1b]0;owned\a\x1b[2J`},
		{"line\nnext\tcol\r", `line\nnext\tcol\r`},
		{"del\x7f", `del\x7f`},
		{"csi\u009b2J", `csi\u009b2J`},
		{"abc\u202edcba", `abc\u202edcba`},
		{"iso\u2066x\u2069 zw\u200b", `iso\u2066x\u2069 zw\u200b`},
		{"sep\u2028", `sep\u2028`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
	} {
		got := Escape(c.in)
		if got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
		if firstUnsafe(got) >= 0 {
			t.Errorf("Escape(%q) = %q still holds an unsafe rune", c.in, got)
		}
		if Escape(got) != got {
			t.Errorf("Escape is not idempotent on %q", got)
		}
	}
}

func TestEscapeTextKeepsNewlinesAndTabs(t *testing.T) {
	got := EscapeText("first \x1b[2J\n\tsecond\a\r")
	if got != "first \\x1b[2J\n\tsecond\\a\\r" {
		t.Errorf("EscapeText = %q", got)
	}
	if strings.ContainsAny(got, "\x1b\a") {
		t.Errorf("control byte left in %q", got)
	}
}

func BenchmarkEscapeSafe(b *testing.B) {
	s := "Processing user request for ID: 123 from the backend"
	for b.Loop() {
		_ = Escape(s)
	}
}
