package checks

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type datasource struct {
	Name     string         `yaml:"name"`
	Type     string         `yaml:"type"`
	UID      string         `yaml:"uid"`
	URL      string         `yaml:"url"`
	JSONData map[string]any `yaml:"jsonData"`
}

func provisionedDatasources(t *testing.T) map[string]datasource {
	t.Helper()
	var file struct {
		APIVersion  int          `yaml:"apiVersion"`
		Datasources []datasource `yaml:"datasources"`
	}
	readYAML(t, &file, "deploy", "grafana", "provisioning", "datasources", "datasources.yaml")
	if file.APIVersion != 1 {
		t.Fatalf("datasources.yaml: apiVersion %d, want 1", file.APIVersion)
	}
	out := map[string]datasource{}
	for _, ds := range file.Datasources {
		if ds.UID == "" {
			t.Fatalf("data source %q has no fixed uid", ds.Name)
		}
		out[ds.UID] = ds
	}
	return out
}

// remarshal turns a decoded YAML map into a typed struct.
func remarshal(t *testing.T, in any, out any) {
	t.Helper()
	b, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}

func TestDatasourcesHaveFixedUIDsAndReachTheStack(t *testing.T) {
	ds := provisionedDatasources(t)
	p := loadCompose(t)
	for uid, want := range map[string]struct{ typ, host, port string }{
		"prometheus": {"prometheus", "prometheus", "9090"},
		"loki":       {"loki", "loki", "3100"},
		"tempo":      {"tempo", "tempo", "3200"},
	} {
		d, ok := ds[uid]
		if !ok {
			t.Errorf("no data source with uid %s", uid)
			continue
		}
		if d.Type != want.typ {
			t.Errorf("%s: type %s, want %s", uid, d.Type, want.typ)
		}
		assertURL(t, p, "data source "+uid, "url", d.URL, want.host, want.port, "")
	}
	if len(ds) != 3 {
		t.Errorf("%d data sources, want 3", len(ds))
	}
}

// Every data source a dashboard refers to is provisioned.
func TestDashboardsUseProvisionedDatasources(t *testing.T) {
	ds := provisionedDatasources(t)
	for name, d := range dashboardFiles(t) {
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if ref, ok := v["datasource"].(map[string]any); ok {
					uid, _ := ref["uid"].(string)
					typ, _ := ref["type"].(string)
					if p, ok := ds[uid]; !ok {
						t.Errorf("%s: data source uid %q is not provisioned", name, uid)
					} else if typ != "" && typ != p.Type {
						t.Errorf("%s: data source %s has type %s, the dashboard says %s", name, uid, p.Type, typ)
					}
				}
				for _, e := range v {
					walk(e)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		walk(d)
	}
}

// Every link between data sources points at a provisioned uid.
func TestDatasourceLinksPointAtProvisionedUIDs(t *testing.T) {
	ds := provisionedDatasources(t)
	for uid, d := range ds {
		var walk func(v any, key string)
		walk = func(v any, key string) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					walk(e, k)
				}
			case []any:
				for _, e := range v {
					walk(e, key)
				}
			case string:
				if key == "datasourceUid" {
					if _, ok := ds[v]; !ok {
						t.Errorf("data source %s links to uid %q, which is not provisioned", uid, v)
					}
				}
			}
		}
		walk(d.JSONData, "")
	}
}

// The links that make the pillars one system: metric -> trace, log -> trace, trace -> logs,
// trace -> metrics, and the service graph.
func TestSignalsLinkToEachOther(t *testing.T) {
	ds := provisionedDatasources(t)

	var prom struct {
		Exemplars []struct {
			Name          string `yaml:"name"`
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"exemplarTraceIdDestinations"`
	}
	remarshal(t, ds["prometheus"].JSONData, &prom)
	if len(prom.Exemplars) != 1 || prom.Exemplars[0].Name != "trace_id" || prom.Exemplars[0].DatasourceUID != "tempo" {
		t.Errorf("prometheus exemplarTraceIdDestinations %+v, want trace_id -> tempo", prom.Exemplars)
	}
	// Tempo's generated metrics must label exemplars the same way, or their dots lead nowhere.
	if got := tempoConfig(t).Overrides.Defaults.MetricsGenerator.TraceIDLabelName; got != "trace_id" {
		t.Errorf("tempo.yaml trace_id_label_name %q, want trace_id (the exemplar label Grafana links on)", got)
	}

	var loki struct {
		DerivedFields []struct {
			Name          string `yaml:"name"`
			MatcherType   string `yaml:"matcherType"`
			MatcherRegex  string `yaml:"matcherRegex"`
			DatasourceUID string `yaml:"datasourceUid"`
			URL           string `yaml:"url"`
		} `yaml:"derivedFields"`
	}
	remarshal(t, ds["loki"].JSONData, &loki)
	if len(loki.DerivedFields) != 1 {
		t.Fatalf("loki derivedFields %+v, want one", loki.DerivedFields)
	}
	if f := loki.DerivedFields[0]; f.MatcherType != "label" || f.MatcherRegex != "trace_id" || f.DatasourceUID != "tempo" || f.URL != "$${__value.raw}" {
		t.Errorf("loki derived field %+v: want the trace_id structured metadata (matcherType label) linked to tempo with url $${__value.raw}", f)
	}

	var tempo struct {
		TracesToLogs struct {
			DatasourceUID string `yaml:"datasourceUid"`
			Start         string `yaml:"spanStartTimeShift"`
			End           string `yaml:"spanEndTimeShift"`
			CustomQuery   bool   `yaml:"customQuery"`
			Query         string `yaml:"query"`
		} `yaml:"tracesToLogsV2"`
		TracesToMetrics struct {
			DatasourceUID string `yaml:"datasourceUid"`
			Tags          []struct {
				Key   string `yaml:"key"`
				Value string `yaml:"value"`
			} `yaml:"tags"`
		} `yaml:"tracesToMetrics"`
		ServiceMap struct {
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"serviceMap"`
		NodeGraph struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"nodeGraph"`
		LokiSearch struct {
			DatasourceUID string `yaml:"datasourceUid"`
		} `yaml:"lokiSearch"`
	}
	remarshal(t, ds["tempo"].JSONData, &tempo)
	tl := tempo.TracesToLogs
	if tl.DatasourceUID != "loki" || !tl.CustomQuery || !strings.Contains(tl.Query, `trace_id="$${__trace.traceId}"`) {
		t.Errorf("tempo tracesToLogsV2 %+v: want a custom Loki query on the trace_id structured metadata", tl)
	}
	for _, shift := range []struct {
		name, value string
		sign        float64
	}{{"spanStartTimeShift", tl.Start, -1}, {"spanEndTimeShift", tl.End, 1}} {
		d, err := time.ParseDuration(shift.value)
		if err != nil || float64(d)*shift.sign < float64(time.Minute) {
			t.Errorf("tempo tracesToLogsV2 %s=%q: want at least a minute outwards, log lines are shipped in batches", shift.name, shift.value)
		}
	}
	if tempo.TracesToMetrics.DatasourceUID != "prometheus" || len(tempo.TracesToMetrics.Tags) != 1 ||
		tempo.TracesToMetrics.Tags[0].Key != "service.name" || tempo.TracesToMetrics.Tags[0].Value != "job" {
		t.Errorf("tempo tracesToMetrics %+v: want prometheus, with service.name mapped to the job label", tempo.TracesToMetrics)
	}
	if tempo.ServiceMap.DatasourceUID != "prometheus" || !tempo.NodeGraph.Enabled || tempo.LokiSearch.DatasourceUID != "loki" {
		t.Errorf("tempo serviceMap/nodeGraph/lokiSearch: %+v %+v %+v", tempo.ServiceMap, tempo.NodeGraph, tempo.LokiSearch)
	}
}

// Grafana expands $VAR in provisioning files: its own variables must be written $$.
func TestDatasourceProvisioningEscapesGrafanaVariables(t *testing.T) {
	raw := string(readFile(t, "deploy", "grafana", "provisioning", "datasources", "datasources.yaml"))
	unescaped := regexp.MustCompile(`(^|[^$])\$\{?__`)
	for i, line := range strings.Split(raw, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if unescaped.MatchString(line) {
			t.Errorf("datasources.yaml:%d: a Grafana variable written with a single $ would be expanded (to nothing) at provisioning: %s", i+1, strings.TrimSpace(line))
		}
	}
}

func TestDashboardProviderLoadsIntoOneFolder(t *testing.T) {
	var file struct {
		Providers []struct {
			Folder         string `yaml:"folder"`
			FolderUID      string `yaml:"folderUid"`
			Type           string `yaml:"type"`
			AllowUIUpdates bool   `yaml:"allowUiUpdates"`
		} `yaml:"providers"`
	}
	readYAML(t, &file, "deploy", "grafana", "provisioning", "dashboards", "dashboards.yaml")
	for _, p := range file.Providers {
		if p.Type != "file" || p.Folder == "" || p.FolderUID == "" || p.AllowUIUpdates {
			t.Errorf("dashboard provider %+v: want a read-only file provider into a named folder", p)
		}
	}
}
