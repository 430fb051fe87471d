package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The server is a real PostgreSQL: a test database copied from a template holds the
// template's rows, and the server survives a stop and a restart with its data.
func TestServer(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx := t.Context()
	tmpl, err := s.CreateDatabase(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, tmpl, "CREATE TABLE t (n integer); INSERT INTO t VALUES (1), (2), (3)"); err != nil {
		t.Fatal(err)
	}
	url := s.Database(t, tmpl)
	count := func() int {
		t.Helper()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Errorf("copy of the template has %d rows, want 3", n)
	}

	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if n := count(); n != 3 {
		t.Errorf("after a restart the copy has %d rows, want 3", n)
	}
}
