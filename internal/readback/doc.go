// Package readback reads the three signals back from the backends that store them, through
// each backend's own query API, the way a person checking a deployment would:
//
//   - metrics from Prometheus: instant and range PromQL, exemplars, series ([Prometheus]);
//   - traces by id and trace search from Jaeger's query API or Tempo's HTTP API ([TraceStore]:
//     [Jaeger], [Tempo]);
//   - log lines from VictoriaLogs (LogsQL) or Loki (LogQL) ([LogStore]: [VictoriaLogs], [Loki]).
//
// Every backend's answer is turned into one model ([Trace] and [Span], [LogLine], [Sample]),
// so that a caller asks "which spans does trace X have" without knowing whose JSON it was.
// Trace and span ids in the model are always lower-case hex of full length: Tempo answers
// base64, and Jaeger and Tempo's search drop leading zeros, so ids are normalised on the way
// in ([NormalizeTraceID]).
//
// [DetectTraces] and [DetectLogs] tell from what a URL answers which kind of backend is
// there; each client's Ping says whether the URL really is that kind. Every call takes a
// context and is bounded by it and by the HTTP client's timeout; every error names the URL
// it called and what came back (status and an excerpt of the body), never a bare "EOF".
//
// Used by `pillars verify`, the end-to-end tests, and anything else that needs to read back
// what the services emitted.
package readback
