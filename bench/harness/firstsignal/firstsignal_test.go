package firstsignal

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTraceID(t *testing.T) {
	id, err := TraceID("00-9d93a6ef432dbec9e52068483fef7dae-c0774a361f3046d7-01")
	if err != nil || id != "9d93a6ef432dbec9e52068483fef7dae" {
		t.Fatalf("TraceID = %q, %v", id, err)
	}
	for _, bad := range []string{"", "00-abc-def-01", "garbage"} {
		if _, err := TraceID(bad); err == nil {
			t.Errorf("TraceID(%q) accepted", bad)
		}
	}
}

func TestMeasureWithoutBackends(t *testing.T) {
	o := Defaults()
	o.Tools, o.LogDir = t.TempDir(), t.TempDir()
	f := Measure(context.Background(), o)
	if f.Measured || !strings.Contains(f.Why, "make tools") {
		t.Fatalf("no backends built: %+v", f)
	}
	// A built set of backends but a port taken: another stack is running.
	for _, b := range []string{"prometheus", "victoria-logs", "jaeger"} {
		if err := os.MkdirAll(filepath.Join(o.Tools, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(o.Tools, "bin", b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	o.Ports = []string{strings.TrimPrefix(srv.URL, "http://")}
	if f := Measure(context.Background(), o); f.Measured || !strings.Contains(f.Why, "in use") {
		t.Fatalf("port taken: %+v", f)
	}
}
