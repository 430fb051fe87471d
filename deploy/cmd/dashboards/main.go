// Command dashboards writes the Grafana dashboards defined in package dashboards as JSON files
// that Grafana provisions. Run it from the deploy module: `cd deploy && go run ./cmd/dashboards`
// (or `make dashboards`), then commit the result.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pillars-o11y/pillars/deploy/dashboards"
)

func main() {
	out := flag.String("out", filepath.Join("grafana", "dashboards"), "directory to write the dashboard JSON files into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "dashboards:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files, err := dashboards.All()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if err := os.WriteFile(path, f.JSON, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}
