package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// An MCP endpoint beyond loopback without the admin token would show the telemetry to
// anyone and start drills for them: refused before anything listens.
func TestMCPBeyondLoopbackNeedsTheToken(t *testing.T) {
	for _, c := range []struct {
		listen, token string
		refused       bool
	}{
		{"0.0.0.0:8765", "", true},
		{":8765", "", true},
		{"192.0.2.1:8765", "", true},
		{"0.0.0.0:8765", "s3cret", false},
		{"127.0.0.1:8765", "", false},
		{"localhost:8765", "", false},
		{"[::1]:8765", "", false},
		{"", "", false}, // stdio
	} {
		env := map[string]string{"PILLARS_LISTEN": c.listen, "PILLARS_ADMIN_TOKEN": c.token}
		_, err := parseMCPFlags(nil, func(k string) string { return env[k] }, io.Discard)
		if c.refused != (err != nil) {
			t.Errorf("--listen %q with token %q: error %v, want refused %v", c.listen, c.token, err, c.refused)
		}
		if _, ok := errors.AsType[usageError](err); err != nil && (!ok || !strings.Contains(err.Error(), "admin-token")) {
			t.Errorf("--listen %q: %v is not a usage error naming --admin-token", c.listen, err)
		}
	}
}
