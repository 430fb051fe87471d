package main

// storeFlags are the addresses of the backends' query APIs, shared by `pillars verify` and
// `pillars trace` so that one environment (PILLARS_PROMETHEUS_URL, ...) serves both. The
// defaults are the addresses of `make up`.
type storeFlags struct {
	prometheusURL, tracesURL, tracesKind, logsURL, logsKind *string
}

func (s storeFlags) register(f *flags) {
	f.String(s.prometheusURL, "prometheus-url", "http://127.0.0.1:19090", "Prometheus HTTP API")
	f.String(s.tracesURL, "traces-url", "http://127.0.0.1:16686", "trace store: Jaeger's query API (make up) or Tempo's HTTP API (http://tempo:3200 in compose)")
	f.String(s.tracesKind, "traces-kind", "auto", "auto, jaeger or tempo")
	f.String(s.logsURL, "logs-url", "http://127.0.0.1:19428", "log store: VictoriaLogs (make up) or Loki (http://loki:3100 in compose)")
	f.String(s.logsKind, "logs-kind", "auto", "auto, victorialogs or loki")
}
