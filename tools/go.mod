// Module tools pins the Go-built programs of the local observability stack.
// Jaeger cannot be installed with `go install pkg@version` (its go.mod has a
// replace directive), so it is recorded here as a tool dependency and built
// with `go build` by scripts/tools.sh.
module github.com/pillars-o11y/pillars/tools

go 1.26.8
