package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// seededTemplate is a database file seeded once for the whole test binary: seeding thousands
// of rows takes seconds under the race detector, copying a file does not. Each test gets its
// own copy, so tests stay independent.
var seededTemplate string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pillars-seed-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seededTemplate, err = seedTemplate(filepath.Join(dir, "pillars.db"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "seeding the template database:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func seedTemplate(path string) (string, error) {
	ctx := context.Background()
	tel, err := telemetry.New(ctx, telemetry.Config{Service: "database", Trace: telemetry.TraceConfig{Disabled: true}})
	if err != nil {
		return "", err
	}
	defer tel.Shutdown(ctx)
	svc, err := database.New(ctx, database.Config{Path: path}, tel)
	if err != nil {
		return "", err
	}
	return path, svc.Close()
}

// seededCopy returns the path of a fresh copy of the seeded database in the test's temp dir.
func seededCopy(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pillars.db")
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(seededTemplate + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(dst + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
