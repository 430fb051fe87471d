package frontend

import (
	"go/build"
	"strings"
	"testing"
)

// The frontend reads the backend through the backend's own wire types and judges ids by the
// shared rule (internal/ids): its code imports nothing of the database service, so that a
// change there reaches the frontend only through the backend's API. (Its tests may start a
// real database.)
func TestFrontendDoesNotImportTheDatabase(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.GoFiles) == 0 {
		t.Fatal("no Go files found: is the test run in the package's directory?")
	}
	const database = "github.com/pillars-o11y/pillars/internal/database"
	for _, imp := range pkg.Imports {
		if imp == database || strings.HasPrefix(imp, database+"/") {
			t.Errorf("internal/frontend imports %s", imp)
		}
	}
}
