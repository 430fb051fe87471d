//go:build e2e && race

package e2e

// raceEnabled: under `go test -race` the services are built with the race detector too.
const raceEnabled = true
