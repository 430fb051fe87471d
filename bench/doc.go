// Package bench is the in-process benchmark: the three services in one process under
// parallel load, with every signal on, with telemetry off, and a bare net/http relay with
// the same hops. One process is one profile of all three (-cpuprofile); its figures are not
// a deployment's, which bench/harness (`make bench`) measures. Run with
// `make bench-inprocess`; notes in INPROCESS.md.
package bench
