package main

import (
	"slices"
	"strings"
	"testing"
)

// The trace id may stand before, between or after the flags.
func TestTraceIDArgument(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, c := range []struct {
		args     []string
		id       string
		flagArgs []string
	}{
		{[]string{id}, id, []string{}},
		{[]string{id, "--wait=3s"}, id, []string{"--wait=3s"}},
		{[]string{"--logs-url", "http://x", id}, id, []string{"--logs-url", "http://x"}},
		{[]string{"--logs-url=http://x", id, "--wait", "1s"}, id, []string{"--logs-url=http://x", "--wait", "1s"}},
		{[]string{"--logs-url", "http://x"}, "", []string{"--logs-url", "http://x"}},
	} {
		got, rest := traceIDArg(c.args)
		if got != c.id || !slices.Equal(rest, c.flagArgs) {
			t.Errorf("traceIDArg(%q) = %q, %q; want %q, %q", c.args, got, rest, c.id, c.flagArgs)
		}
	}
}

// Without an id, or with one that is not hex, the command says how to call it (exit 2).
func TestTraceCommandUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trace"}, "give the id of the trace"},
		{[]string{"trace", "not-an-id"}, "hex digits only"},
		{[]string{"trace", "--wait=0s", "abc"}, "--wait 0s"},
	} {
		var stderr strings.Builder
		err := run(t.Context(), c.args, func(string) string { return "" }, &strings.Builder{}, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != 2 {
			t.Errorf("%q: err %v (exit %d), want a usage error saying %q", c.args, err, exitCode(err), c.want)
		}
	}
}
