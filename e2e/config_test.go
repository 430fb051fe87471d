//go:build e2e

package e2e

import (
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every Prometheus config in the repository (deploy/**/prometheus*.yml), and the one these
// tests derived from deploy/local/prometheus.yml, passes `promtool check config`, which also
// checks the rule files they load.
func TestPromtoolCheckConfig(t *testing.T) {
	configs := []string{filepath.Join(stk.dir, "prometheus.yml")}
	name := regexp.MustCompile(`^prometheus.*\.ya?ml$`)
	err := filepath.WalkDir(filepath.Join(stk.repo, "deploy"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && name.MatchString(d.Name()) {
			configs = append(configs, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) < 2 {
		t.Fatalf("found no Prometheus config under deploy/")
	}
	for _, cfg := range configs {
		rel, err := filepath.Rel(stk.repo, cfg)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = "generated from deploy/local/prometheus.yml"
		}
		t.Run(rel, func(t *testing.T) {
			cmd := exec.Command(stk.tool("promtool"), "check", "config", filepath.Base(cfg))
			cmd.Dir = filepath.Dir(cfg)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool check config %s: %v\n%s", rel, err, out)
			}
		})
	}
}
