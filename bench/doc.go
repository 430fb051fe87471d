// Package bench measures what the instrumentation costs: the same request path with every
// signal on (100 % sampling, exemplars, logs shipped), with telemetry off, and a bare net/http
// relay with the same number of hops. Run with `make bench`; results are in RESULTS.md.
package bench
