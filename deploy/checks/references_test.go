package checks

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fileReference finds a relative path to a file in a config or a comment: at least one folder,
// a file extension, and not part of an absolute path or a URL (those name places inside
// containers or on other hosts). Globs are allowed.
var fileReference = regexp.MustCompile("(?m)(?:^|[\\s\"'(`\\[,=])((?:\\.{1,2}/)*[\\w.*-]+(?:/[\\w.*{}-]+)+\\.(?:ya?ml|json|go|sh|md|txt|tpl))\\b")

// referencingFiles are the stack's configuration files: every path they mention, in a setting
// or in a comment, is one a reader will follow.
func referencingFiles(t *testing.T) []string {
	t.Helper()
	files := []string{path(t, "compose.yaml")}
	for _, dir := range []string{"prometheus", "slo", "local", "loki", "tempo", "grafana"} {
		err := filepath.WalkDir(path(t, "deploy", dir), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// The tool module under slo/ is Go's, not the stack's.
			if d.IsDir() && d.Name() == "sloth" {
				return filepath.SkipDir
			}
			if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// resolves reports whether ref names an existing file (or, for a glob, at least one), relative
// to the referring file's folder or the one above it (where commands such as promtool's run),
// to the repository root, or to deploy/ (where the module's commands run).
func resolves(t *testing.T, from, ref string) bool {
	t.Helper()
	for _, base := range []string{filepath.Dir(from), filepath.Dir(filepath.Dir(from)), repoRoot(t), path(t, "deploy")} {
		candidate := filepath.Join(base, ref)
		if strings.ContainsAny(ref, "*{") {
			if matches, _ := filepath.Glob(candidate); len(matches) > 0 {
				return true
			}
			continue
		}
		if _, err := os.Stat(candidate); err == nil {
			return true
		}
	}
	return false
}

// A comment that sends the reader to a file that is not there (a test file renamed, a script
// moved) is worse than none: every file a config or its comments point at must exist.
func TestReferencedFilesExist(t *testing.T) {
	checked := 0
	for _, f := range referencingFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(repoRoot(t), f)
		for _, m := range fileReference.FindAllStringSubmatch(string(b), -1) {
			ref := m[1]
			// Route templates such as /user/{id}.json are not files.
			if strings.Contains(ref, "{") && !strings.Contains(ref, "*") {
				continue
			}
			checked++
			if !resolves(t, f, ref) {
				t.Errorf("%s mentions %s, which does not exist (relative to the file, its folder's parent, the repository or deploy/)", rel, ref)
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d file references found; the pattern misses them", checked)
	}
	t.Logf("%d file references checked", checked)
}

// The pattern itself: what it must find and what it must leave alone.
func TestFileReferencePattern(t *testing.T) {
	for text, want := range map[string]string{
		"# Each one has a unit test in ../tests/alerts_test.yml (`promtool`).": "../tests/alerts_test.yml",
		"  - rules/*.yml":                                  "rules/*.yml",
		"# mirrors deploy/local/prometheus.yml:":           "deploy/local/prometheus.yml",
		"- ./deploy/loki/loki.yaml:/etc/loki/loki.yaml:ro": "./deploy/loki/loki.yaml",
		"url: http://prometheus:9090/api/v1/write":         "",
		"path: /etc/grafana/dashboards/overview.json":      "",
		"see https://github.com/slok/sloth/blob/main/x.md": "",
	} {
		got := ""
		if m := fileReference.FindStringSubmatch(text); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%q: found %q, want %q", text, got, want)
		}
	}
}
