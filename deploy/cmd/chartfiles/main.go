// Command chartfiles writes the files of the Helm chart and of the observability charts' values
// that come from the Compose stack's own sources, so the two deployments cannot drift apart:
//
//   - helm/pillars/dashboards/*.json: the Grafana dashboards (from grafana/dashboards), which
//     the chart ships as ConfigMaps for Grafana's dashboard sidecar;
//   - helm/pillars/rules/*.yml: the Prometheus rules (from prometheus/rules), which the chart
//     ships as PrometheusRules;
//   - helm/observability/grafana.yaml: values for the grafana/grafana chart whose data sources
//     are grafana/provisioning/datasources/datasources.yaml with in-cluster URLs.
//
// Run it from the deploy module: `cd deploy && go run ./cmd/chartfiles` (or `make chart-files`),
// then commit the result. A test fails while the committed files differ from what it writes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("deploy", ".", "the deploy/ folder: sources are read from it and files written into it")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "chartfiles:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	files, err := generate(os.DirFS(root))
	if err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.content, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return removeStale(root, files)
}

// removeStale deletes generated files whose source is gone (a dashboard or rule file removed).
func removeStale(root string, files []file) error {
	want := map[string]bool{}
	for _, f := range files {
		want[f.path] = true
	}
	for _, pattern := range generatedPatterns {
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil {
			return err
		}
		for _, m := range matches {
			rel, err := filepath.Rel(root, m)
			if err != nil {
				return err
			}
			if !want[filepath.ToSlash(rel)] {
				if err := os.Remove(m); err != nil {
					return err
				}
				fmt.Println("removed", m)
			}
		}
	}
	return nil
}
