package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// dataSource is the part of a Grafana data source that links signals: the same fields in a
// provisioning file and in Grafana's /api/datasources answer.
type dataSource struct {
	Name     string   `yaml:"name" json:"name"`
	Type     string   `yaml:"type" json:"type"`
	UID      string   `yaml:"uid" json:"uid"`
	URL      string   `yaml:"url" json:"url"`
	JSONData jsonData `yaml:"jsonData" json:"jsonData"`
}

type jsonData struct {
	// Prometheus: metric → trace.
	ExemplarTraceIDDestinations []exemplarDestination `yaml:"exemplarTraceIdDestinations" json:"exemplarTraceIdDestinations"`
	// Loki: log → trace.
	DerivedFields []derivedField `yaml:"derivedFields" json:"derivedFields"`
	// Tempo or Jaeger: trace → logs.
	TracesToLogsV2 *tracesToLogs `yaml:"tracesToLogsV2" json:"tracesToLogsV2"`
}

type exemplarDestination struct {
	Name          string `yaml:"name" json:"name"` // the exemplar label holding the trace id
	DatasourceUID string `yaml:"datasourceUid" json:"datasourceUid"`
	URL           string `yaml:"url" json:"url"`
}

type derivedField struct {
	Name string `yaml:"name" json:"name"`
	// MatcherType "label" reads the label (or structured metadata) named MatcherRegex;
	// "regex" (the default) takes the first capture group of MatcherRegex in the line.
	MatcherType   string `yaml:"matcherType" json:"matcherType"`
	MatcherRegex  string `yaml:"matcherRegex" json:"matcherRegex"`
	DatasourceUID string `yaml:"datasourceUid" json:"datasourceUid"`
	URL           string `yaml:"url" json:"url"` // the query of the internal link, ${__value.raw}
}

type tracesToLogs struct {
	DatasourceUID      string `yaml:"datasourceUid" json:"datasourceUid"`
	SpanStartTimeShift string `yaml:"spanStartTimeShift" json:"spanStartTimeShift"`
	SpanEndTimeShift   string `yaml:"spanEndTimeShift" json:"spanEndTimeShift"`
	CustomQuery        bool   `yaml:"customQuery" json:"customQuery"`
	Query              string `yaml:"query" json:"query"`
}

func (d dataSource) String() string { return fmt.Sprintf("%s data source %q", d.Type, d.Name) }

// isTraces, isLogs: the data source types whose stores verify can read.
func (d dataSource) isTraces() bool { return d.Type == "tempo" || d.Type == "jaeger" }
func (d dataSource) isLogs() bool {
	return d.Type == "loki" || d.Type == "victoriametrics-logs-datasource"
}

// readProvisioningFile reads a Grafana data source provisioning file, expanding $VAR,
// ${VAR} and $$ in its values as Grafana does when it loads the file.
func readProvisioningFile(path string, getenv func(string) string) ([]dataSource, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	expandScalars(&doc, getenv)
	var file struct {
		APIVersion  int          `yaml:"apiVersion"`
		Datasources []dataSource `yaml:"datasources"`
	}
	if err := doc.Decode(&file); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(file.Datasources) == 0 {
		return nil, fmt.Errorf("%s: no datasources: this is not a Grafana data source provisioning file", path)
	}
	return file.Datasources, nil
}

// grafanaVar matches what Grafana's provisioning expands: $$ (a literal $), ${NAME} and $NAME.
var grafanaVar = regexp.MustCompile(`\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

func expandGrafanaVars(s string, getenv func(string) string) string {
	return grafanaVar.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		return getenv(strings.Trim(m, "${}"))
	})
}

func expandScalars(n *yaml.Node, getenv func(string) string) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!binary" {
		n.Value = expandGrafanaVars(n.Value, getenv)
	}
	for _, c := range n.Content {
		expandScalars(c, getenv)
	}
}

// readGrafanaDatasources reads /api/datasources of a running Grafana, with token as a bearer
// token when given (a service account's), else the credentials in the URL if any.
func readGrafanaDatasources(ctx context.Context, grafanaURL, token string, client *http.Client) ([]dataSource, error) {
	u := strings.TrimSuffix(grafanaURL, "/") + "/api/datasources"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("Grafana URL %q: %v", grafanaURL, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, readback.NewUnreachableError(ctx, http.MethodGet, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	var out []dataSource
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = ": reading data sources needs a token (--grafana-token) or an admin's credentials in the URL"
		}
		return nil, fmt.Errorf("GET %s answered %s%s", req.URL.Redacted(), resp.Status, hint)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("GET %s: not a list of data sources: %v", req.URL.Redacted(), err)
	}
	return out, nil
}

func sourceByUID(sources []dataSource, uid string) (dataSource, bool) {
	for _, d := range sources {
		if d.UID == uid {
			return d, true
		}
	}
	return dataSource{}, false
}
