package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/database/pgtest"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The seeded templates, made once for the whole test binary: seeding thousands of rows takes
// seconds under the race detector, copying does not. seededTemplate is a SQLite file;
// pgTemplate a database on pg, a real PostgreSQL server that runs as long as the binary. Each
// test gets its own copy, so tests stay independent.
var (
	seededTemplate string
	pg             *pgtest.Server
	pgTemplate     string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pillars-seed-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	seededTemplate = filepath.Join(dir, "pillars.db")
	if err := seedTemplate(database.Config{Path: seededTemplate}); err != nil {
		fmt.Fprintln(os.Stderr, "seeding the SQLite template:", err)
		return 1
	}
	if pg, err = pgtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pg.Close()
	if pgTemplate, err = pg.CreateDatabase(context.Background(), ""); err == nil {
		err = seedTemplate(database.Config{URL: pg.URL(pgTemplate)})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "seeding the PostgreSQL template:", err)
		return 1
	}
	return m.Run()
}

func seedTemplate(cfg database.Config) error {
	ctx := context.Background()
	tel, err := telemetry.New(ctx, telemetry.Config{Service: "database", Trace: telemetry.TraceConfig{Disabled: true}})
	if err != nil {
		return err
	}
	defer tel.Shutdown(ctx)
	svc, err := database.New(ctx, cfg, tel)
	if err != nil {
		return err
	}
	return svc.Close()
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

// store is one of the database service's stores, as the environment that selects it.
type store struct {
	name string
	env  func(t *testing.T) map[string]string
}

// stores are SQLite (a copy of the seeded file) and PostgreSQL (a copy of the seeded database,
// given by PILLARS_DB_URL as a deployment gives it).
var stores = []store{
	{"sqlite", func(t *testing.T) map[string]string { return map[string]string{"PILLARS_DB_PATH": seededCopy(t)} }},
	{"postgresql", func(t *testing.T) map[string]string {
		return map[string]string{"PILLARS_DB_URL": pg.Database(t, pgTemplate)}
	}},
}

// eachStore runs a test once per store, as subtests named after them, with the environment
// that selects the store.
func eachStore(t *testing.T, test func(t *testing.T, dbEnv map[string]string)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { test(t, s.env(t)) })
	}
}
