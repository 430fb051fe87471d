// Command slo writes the Prometheus rules of the journeys' service level objectives, generated
// by package slo with sloth: prometheus/rules/slo.yml, and the time-scaled copy for tests in
// prometheus/timescaled/slo.yml. Run it from the deploy module: `cd deploy && go run ./cmd/slo`
// (or `make slo`), then commit the result. The first run builds sloth, which takes a few minutes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/pillars-o11y/pillars/deploy/slo"
)

func main() {
	dir := flag.String("dir", ".", "the deploy folder")
	timescale := flag.Int("timescale", slo.TestTimescale, "factor the test copy's windows are divided by")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *dir, *timescale); err != nil {
		fmt.Fprintln(os.Stderr, "slo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir string, timescale int) error {
	for _, v := range []struct {
		file      string
		timescale int
	}{
		{slo.RulesFile, 1},
		{slo.TimescaleFile, timescale},
	} {
		fmt.Printf("generating %s (time scale %d)...\n", v.file, v.timescale)
		rules, err := slo.Generate(ctx, dir, v.timescale)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, v.file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, rules, 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}
