package checks

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// repoRoot is the repository's top folder: this package lives in deploy/checks.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "compose.yaml")); err != nil {
		t.Fatalf("expected the repository root at %s: %v", root, err)
	}
	return root
}

// path joins parts onto the repository root.
func path(t *testing.T, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{repoRoot(t)}, parts...)...)
}

func readFile(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(path(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readYAML decodes a YAML file into v. yaml.v3 rejects duplicate keys, so a key written twice
// (the second silently winning, in some loaders) fails here.
func readYAML(t *testing.T, v any, parts ...string) {
	t.Helper()
	if err := yaml.Unmarshal(readFile(t, parts...), v); err != nil {
		t.Fatalf("%s: %v", filepath.Join(parts...), err)
	}
}

// loadCompose loads compose.yaml the way `docker compose` does, with exactly the given
// variables in the environment (none of the test process's own).
func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env),
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return s
}

// env returns a service's environment variable, "" when unset.
func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

// hostPath maps a path inside a service's container to the host file bind-mounted there.
func hostPath(t *testing.T, s types.ServiceConfig, containerPath string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if containerPath == v.Target {
			return v.Source
		}
		if rel, ok := strings.CutPrefix(containerPath, v.Target+"/"); ok {
			return filepath.Join(v.Source, rel)
		}
	}
	t.Fatalf("%s: no bind mount provides %s", s.Name, containerPath)
	return ""
}

// flagValue returns the value of -name=value or --name=value in a command line.
func flagValue(command []string, name string) string {
	for _, arg := range command {
		for _, prefix := range []string{"--" + name + "=", "-" + name + "="} {
			if v, ok := strings.CutPrefix(arg, prefix); ok {
				return v
			}
		}
	}
	return ""
}

// knownMetrics reads deploy/metrics/known.txt: metric name -> section ([services], ...).
func knownMetrics(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(path(t, "deploy", "metrics", "known.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		case section == "":
			t.Fatalf("known.txt:%d: %q is outside any [section]", n, line)
		default:
			if prev, dup := known[line]; dup {
				t.Fatalf("known.txt:%d: %s listed twice (first in [%s])", n, line, prev)
			}
			known[line] = section
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return known
}

// promtool is the binary `make tools` builds (scripts/tools.sh), under $PILLARS_TOOLS/bin.
// A missing promtool fails the test: these checks are part of `make test` and must not pass
// by skipping.
func promtool(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("PILLARS_TOOLS")
	if tools == "" {
		tools = path(t, ".tools")
	}
	bin := filepath.Join(tools, "bin", "promtool")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("promtool not found at %s: run `make tools` first (it builds Prometheus and promtool into $PILLARS_TOOLS/bin)", bin)
	}
	return bin
}
