package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestAgentCommandLine(t *testing.T) {
	noEnv := func(string) string { return "" }
	err := run(t.Context(), []string{"agent"}, noEnv, io.Discard, io.Discard)
	if _, ok := errors.AsType[usageError](err); !ok {
		t.Fatalf("pillars agent without a name: %v, want a usage error", err)
	}
	err = run(t.Context(), []string{"agent", "clever"}, noEnv, io.Discard, io.Discard)
	if _, ok := errors.AsType[usageError](err); !ok {
		t.Fatalf("pillars agent clever: %v, want a usage error", err)
	}
	// The benchmark's environment is read: without PILLARS_MCP_URL the agent says what is missing.
	err = run(t.Context(), []string{"agent", "random"}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PILLARS_MCP_URL") {
		t.Fatalf("pillars agent random without an endpoint: %v", err)
	}
	env := map[string]string{"PILLARS_DRILL_BUDGET": "soon"}
	err = run(t.Context(), []string{"agent", "baseline"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PILLARS_DRILL_BUDGET") {
		t.Fatalf("a bad budget: %v", err)
	}
}
