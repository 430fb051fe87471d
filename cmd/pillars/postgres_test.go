package main

import (
	"bytes"
	"strings"
	"testing"
)

// --db-url (PILLARS_DB_URL) selects PostgreSQL; a URL that is wrong or names a server that
// cannot be reached stops the command with a message that never holds the password.
func TestDatabaseURL(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"database", "--help"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"-db-url", "PILLARS_DB_URL", "-db-path"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("database --help does not mention %s", want)
		}
	}

	const password = "hunter2-pw"
	for _, c := range []struct{ url, want string }{
		{"mysql://u:" + password + "@127.0.0.1/db", "must start with postgres://"},
		{"postgres://u:" + password + "@" + freeAddr(t) + "/db?sslmode=disable", "failed to connect"},
	} {
		out.Reset()
		errOut.Reset()
		err := run(t.Context(), []string{"database", "--database-addr", "127.0.0.1:0"},
			func(k string) string {
				return map[string]string{"PILLARS_DB_URL": c.url, "OTEL_SDK_DISABLED": "true"}[k]
			},
			&out, &errOut)
		if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != 1 {
			t.Errorf("PILLARS_DB_URL=%s: %v (exit %d), want an error mentioning %q", c.url, err, exitCode(err), c.want)
		}
		if strings.Contains(err.Error()+out.String()+errOut.String(), password) {
			t.Errorf("the password reached the error or the output: %v\n%s%s", err, out.String(), errOut.String())
		}
	}
}
