// Command benchrun measures what a pillars deployment costs: each service in its own
// process, the load from another, telemetry shipped over loopback. `make bench` runs it;
// `benchrun run --help` lists its flags.
package main

import (
	"os"

	"github.com/pillars-o11y/pillars/bench/harness/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
