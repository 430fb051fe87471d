package main

import (
	"fmt"
	"os"

	"github.com/pillars-o11y/pillars/internal/scenarios"
	library "github.com/pillars-o11y/pillars/scenarios"
)

// loadScenarios reads the scenario files of dir, or the library built into the binary when
// dir is empty. A mistake names the file and line.
func loadScenarios(dir string) (*scenarios.Library, error) {
	if dir == "" {
		return scenarios.Load(library.Files())
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--scenarios %s: not a folder of scenario files", dir)
	}
	lib, err := scenarios.Load(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("--scenarios %s: %w", dir, err)
	}
	return lib, nil
}
