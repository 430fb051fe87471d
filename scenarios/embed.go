// Package scenarios holds the library of incidents that `pillars` can put a running
// deployment through: one YAML file per scenario (the format is described in
// internal/scenarios and in docs/incidents/README.md), built into the binary.
package scenarios

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

// Files returns the scenario files.
func Files() fs.FS { return files }
