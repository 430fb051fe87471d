package checks

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Loki and Tempo are AGPL, so their Go config types are not imported here; their files are
// checked as YAML instead: well formed, no key written twice, every key one their reference
// documentation describes (the lists below, with the doc each key was checked against), and
// the values the rest of the stack relies on.

// Checked against the Loki 3.7 configuration reference ("Grafana Loki configuration
// parameters") and its single-binary example (cmd/loki/loki-local-config.yaml).
var lokiKeys = []string{
	"auth_enabled",
	"server", "server.http_listen_port", "server.grpc_listen_port", "server.log_level",
	"common", "common.instance_addr", "common.path_prefix", "common.replication_factor",
	"common.ring", "common.ring.kvstore", "common.ring.kvstore.store",
	"common.storage", "common.storage.filesystem",
	"common.storage.filesystem.chunks_directory", "common.storage.filesystem.rules_directory",
	"schema_config", "schema_config.configs", "schema_config.configs[]", "schema_config.configs[].from", "schema_config.configs[].store",
	"schema_config.configs[].object_store", "schema_config.configs[].schema",
	"schema_config.configs[].index", "schema_config.configs[].index.prefix", "schema_config.configs[].index.period",
	"limits_config", "limits_config.allow_structured_metadata", "limits_config.volume_enabled",
	"limits_config.retention_period",
	// https://grafana.com/docs/loki/latest/send-data/otel/ (limits_config.otlp_config)
	"limits_config.otlp_config", "limits_config.otlp_config.resource_attributes",
	"limits_config.otlp_config.resource_attributes.attributes_config",
	"limits_config.otlp_config.resource_attributes.attributes_config[]",
	"limits_config.otlp_config.resource_attributes.attributes_config[].action",
	"limits_config.otlp_config.resource_attributes.attributes_config[].attributes",
	"limits_config.otlp_config.resource_attributes.attributes_config[].attributes[]",
	"compactor", "compactor.working_directory", "compactor.retention_enabled", "compactor.delete_request_store",
	"query_range", "query_range.results_cache", "query_range.results_cache.cache",
	"query_range.results_cache.cache.embedded_cache",
	"query_range.results_cache.cache.embedded_cache.enabled",
	"query_range.results_cache.cache.embedded_cache.max_size_mb",
	"analytics", "analytics.reporting_enabled",
}

// Checked against the Tempo 3.0 configuration reference ("Configure Tempo": server, memory,
// distributor, live-store, query-frontend, metrics-generator, backend worker, storage,
// overrides, usage-report) and Tempo's single-binary docker-compose example. remote_write
// entries are Prometheus remote_write configs (url, send_exemplars).
var tempoKeys = []string{
	"stream_over_http_enabled",
	"server", "server.http_listen_port", "server.log_level", "server.graceful_shutdown_timeout",
	"memory", "memory.automemlimit_enabled",
	"distributor", "distributor.receivers", "distributor.receivers.otlp", "distributor.receivers.otlp.protocols",
	"distributor.receivers.otlp.protocols.grpc", "distributor.receivers.otlp.protocols.grpc.endpoint",
	"distributor.receivers.otlp.protocols.http", "distributor.receivers.otlp.protocols.http.endpoint",
	"live_store", "live_store.max_trace_idle", "live_store.flush_check_period", "live_store.max_live_traces_bytes",
	"query_frontend", "query_frontend.query_end_cutoff",
	"querier", "querier.max_concurrent_queries",
	"metrics_generator", "metrics_generator.registry", "metrics_generator.registry.collection_interval",
	"metrics_generator.registry.external_labels", "metrics_generator.registry.external_labels.source",
	"metrics_generator.storage", "metrics_generator.storage.path", "metrics_generator.storage.remote_write",
	"metrics_generator.storage.remote_write[]", "metrics_generator.storage.remote_write[].url",
	"metrics_generator.storage.remote_write[].send_exemplars",
	"backend_worker", "backend_worker.finish_on_shutdown_timeout",
	"backend_worker.compaction", "backend_worker.compaction.block_retention",
	"storage", "storage.trace", "storage.trace.backend", "storage.trace.local", "storage.trace.local.path",
	"storage.trace.wal", "storage.trace.wal.path",
	"storage.trace.pool", "storage.trace.pool.max_workers",
	"storage.trace.search", "storage.trace.search.read_buffer_count",
	"overrides", "overrides.defaults", "overrides.defaults.metrics_generator",
	"overrides.defaults.metrics_generator.processors", "overrides.defaults.metrics_generator.processors[]",
	"overrides.defaults.metrics_generator.trace_id_label_name",
	"usage_report", "usage_report.reporting_enabled",
}

// keyPaths lists every key of a YAML document as a dotted path; list items add "[]".
func keyPaths(t *testing.T, parts ...string) []string {
	t.Helper()
	var doc yaml.Node
	readYAML(t, &doc, parts...)
	var paths []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if prefix != "" {
					p = prefix + "." + p
				}
				paths = append(paths, p)
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			paths = append(paths, prefix+"[]")
			for _, c := range n.Content {
				walk(c, prefix+"[]")
			}
		case yaml.AliasNode:
			t.Errorf("%s: YAML aliases make the key check blind; write the values out", strings.Join(parts, "/"))
		}
	}
	walk(&doc, "")
	return paths
}

func assertDocumentedKeys(t *testing.T, documented []string, parts ...string) {
	t.Helper()
	used := keyPaths(t, parts...)
	for _, k := range used {
		if !slices.Contains(documented, k) {
			t.Errorf("%s: key %s is not in the list of keys checked against the reference documentation; check it there and add it", strings.Join(parts, "/"), k)
		}
	}
	// The list is for the keys in use; an unused entry means the list drifted from the file.
	for _, k := range documented {
		if !slices.Contains(used, k) && !strings.HasSuffix(k, "[]") {
			t.Errorf("%s: documented key %s is no longer used; drop it from the list", strings.Join(parts, "/"), k)
		}
	}
}

func TestLokiConfigUsesDocumentedKeys(t *testing.T) {
	assertDocumentedKeys(t, lokiKeys, "deploy", "loki", "loki.yaml")
}

func TestTempoConfigUsesDocumentedKeys(t *testing.T) {
	assertDocumentedKeys(t, tempoKeys, "deploy", "tempo", "tempo.yaml")
}

type lokiFile struct {
	AuthEnabled bool `yaml:"auth_enabled"`
	Server      struct {
		HTTPListenPort int `yaml:"http_listen_port"`
	} `yaml:"server"`
	SchemaConfig struct {
		Configs []struct {
			Store       string `yaml:"store"`
			ObjectStore string `yaml:"object_store"`
			Schema      string `yaml:"schema"`
			Index       struct {
				Period string `yaml:"period"`
			} `yaml:"index"`
		} `yaml:"configs"`
	} `yaml:"schema_config"`
	Limits struct {
		AllowStructuredMetadata bool `yaml:"allow_structured_metadata"`
	} `yaml:"limits_config"`
}

// Loki accepts what the services send: no tenant header, trace ids as structured metadata
// (TSDB + schema v13 + allowed), on the port compose publishes and the services push to.
func TestLokiAcceptsWhatTheServicesSend(t *testing.T) {
	var l lokiFile
	readYAML(t, &l, "deploy", "loki", "loki.yaml")
	if l.AuthEnabled {
		t.Error("auth_enabled: true would reject the services' pushes, which carry no X-Scope-OrgID")
	}
	if l.Server.HTTPListenPort != 3100 {
		t.Errorf("Loki listens on %d, compose and the services use 3100", l.Server.HTTPListenPort)
	}
	if n := len(l.SchemaConfig.Configs); n != 1 {
		t.Fatalf("%d schema configs, want 1", n)
	}
	c := l.SchemaConfig.Configs[0]
	if c.Store != "tsdb" || c.Schema != "v13" || c.ObjectStore != "filesystem" || c.Index.Period != "24h" {
		t.Errorf("schema %+v, want tsdb, v13, filesystem, 24h index", c)
	}
	if !l.Limits.AllowStructuredMetadata {
		t.Error("structured metadata must be allowed: trace_id and span_id travel there")
	}
	if got := flagValue(service(t, loadCompose(t), "loki").Command, "config.file"); got != "/etc/loki/loki.yaml" {
		t.Errorf("loki -config.file=%s", got)
	}
}

type tempoFile struct {
	Server struct {
		HTTPListenPort int `yaml:"http_listen_port"`
	} `yaml:"server"`
	Distributor struct {
		Receivers struct {
			OTLP struct {
				Protocols struct {
					GRPC struct {
						Endpoint string `yaml:"endpoint"`
					} `yaml:"grpc"`
					HTTP struct {
						Endpoint string `yaml:"endpoint"`
					} `yaml:"http"`
				} `yaml:"protocols"`
			} `yaml:"otlp"`
		} `yaml:"receivers"`
	} `yaml:"distributor"`
	QueryFrontend struct {
		QueryEndCutoff string `yaml:"query_end_cutoff"`
	} `yaml:"query_frontend"`
	MetricsGenerator struct {
		Storage struct {
			RemoteWrite []struct {
				URL           string `yaml:"url"`
				SendExemplars bool   `yaml:"send_exemplars"`
			} `yaml:"remote_write"`
		} `yaml:"storage"`
	} `yaml:"metrics_generator"`
	BackendWorker struct {
		FinishOnShutdownTimeout string `yaml:"finish_on_shutdown_timeout"`
	} `yaml:"backend_worker"`
	Storage struct {
		Trace struct {
			Backend string `yaml:"backend"`
		} `yaml:"trace"`
	} `yaml:"storage"`
	Overrides struct {
		Defaults struct {
			MetricsGenerator struct {
				Processors       []string `yaml:"processors"`
				TraceIDLabelName string   `yaml:"trace_id_label_name"`
			} `yaml:"metrics_generator"`
		} `yaml:"defaults"`
	} `yaml:"overrides"`
}

func tempoConfig(t *testing.T) tempoFile {
	t.Helper()
	var f tempoFile
	readYAML(t, &f, "deploy", "tempo", "tempo.yaml")
	return f
}

// Tempo receives OTLP on the ports compose publishes, feeds the service graph and span metrics
// to Prometheus with exemplars, makes traces searchable at once, and stops quickly.
func TestTempoFeedsTheStack(t *testing.T) {
	f := tempoConfig(t)
	if f.Server.HTTPListenPort != 3200 {
		t.Errorf("Tempo HTTP on %d, compose and Grafana use 3200", f.Server.HTTPListenPort)
	}
	p := f.Distributor.Receivers.OTLP.Protocols
	if p.GRPC.Endpoint != "0.0.0.0:4317" || p.HTTP.Endpoint != "0.0.0.0:4318" {
		t.Errorf("OTLP receivers on %q and %q: they must listen on every interface of the container, on 4317 and 4318", p.GRPC.Endpoint, p.HTTP.Endpoint)
	}
	procs := slices.Clone(f.Overrides.Defaults.MetricsGenerator.Processors)
	sort.Strings(procs)
	if !slices.Equal(procs, []string{"service-graphs", "span-metrics"}) {
		t.Errorf("metrics generator processors %v, want service-graphs and span-metrics", procs)
	}
	rw := f.MetricsGenerator.Storage.RemoteWrite
	if len(rw) != 1 || !rw[0].SendExemplars {
		t.Fatalf("metrics generator remote_write %+v, want one endpoint with exemplars", rw)
	}
	u, err := url.Parse(rw[0].URL)
	if err != nil || u.Host != "prometheus:9090" || u.Path != "/api/v1/write" {
		t.Errorf("remote_write url %q, want http://prometheus:9090/api/v1/write", rw[0].URL)
	}
	if f.QueryFrontend.QueryEndCutoff != "0s" {
		t.Errorf("query_end_cutoff %q: the newest traces would be hidden from search", f.QueryFrontend.QueryEndCutoff)
	}
	if f.BackendWorker.FinishOnShutdownTimeout == "" {
		t.Error("backend_worker.finish_on_shutdown_timeout unset: shutdown waits 30 s")
	}
	if f.Storage.Trace.Backend != "local" {
		t.Errorf("trace storage %q, want local", f.Storage.Trace.Backend)
	}
	tempo := service(t, loadCompose(t), "tempo")
	if got := flagValue(tempo.Command, "target"); got != "all" {
		t.Errorf("tempo -target=%s, want all (monolithic, no Kafka)", got)
	}
	if got := flagValue(tempo.Command, "config.file"); got != "/etc/tempo/tempo.yaml" {
		t.Errorf("tempo -config.file=%s", got)
	}
}
