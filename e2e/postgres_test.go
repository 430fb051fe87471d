//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/database/pgtest"
)

// The database service on a real PostgreSQL, a second process beside the stack's own and
// started the same way with --db-url instead of --db-path: it seeds the new database, and a
// request's spans reach Jaeger with db.system.name=postgresql and PostgreSQL's plan, its log
// lines the log store with the trace id.
func TestDatabaseOnPostgreSQL(t *testing.T) {
	server, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	db, err := server.CreateDatabase(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	sqlite := stk.proc("database")
	var args []string
	for _, a := range sqlite.args {
		switch {
		case strings.HasPrefix(a, "--database-addr="):
			a = "--database-addr=" + addr
		case strings.HasPrefix(a, "--db-path="):
			continue
		}
		args = append(args, a)
	}
	p := &proc{name: "database-postgresql", path: sqlite.path, args: args,
		env:     with(sqlite.env, "PILLARS_DB_URL="+server.URL(db)),
		logPath: filepath.Join(stk.logDir, "database-postgresql.log"), ready: "http://" + addr + "/ready"}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := p.waitReady(ctx); err != nil {
		t.Fatal(err)
	}

	traceID, spanID := randomHex(16), randomHex(8)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/db/user/123", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("traceparent", "00-"+traceID+"-"+spanID+"-01")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /db/user/123 on PostgreSQL: %s", resp.Status)
	}

	steps := []string{"transaction_begin", "query_planning", "query_execution", "transaction_commit"}
	tr := waitTrace(t, traceID, append([]string{"database_get_user"}, steps...)...)
	for _, name := range steps {
		for _, s := range tr.ByName(name) {
			if s.Service != "database" || s.Attributes["db.system.name"] != "postgresql" {
				t.Errorf("%s: service %q, db.system.name %q, want database and postgresql", s, s.Service, s.Attributes["db.system.name"])
			}
		}
	}
	if plan := tr.ByName("query_planning")[0].Attributes["db.query.plan"]; !strings.Contains(plan, "Index Scan using users_pkey on users u") {
		t.Errorf("query_planning plan %q: want PostgreSQL's plan", plan)
	}
	if q := tr.ByName("query_execution")[0].Attributes["db.query.text"]; !strings.Contains(q, "WHERE u.id = $1") {
		t.Errorf("query_execution db.query.text %q: want PostgreSQL's placeholders", q)
	}
	waitLogMessages(t, traceID, []string{"database"}, "Querying user 123 from database", "Transaction committed")
}
