package checks

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// The frontend's trace links open Grafana Explore on the provisioned Tempo data source with
// a TraceQL query for the page's trace id, at Grafana's published port; PILLARS_GRAFANA_URL
// moves them to another address.
func TestFrontendTraceLinksOpenTempoInExplore(t *testing.T) {
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ds := provisionedDatasources(t)
	for _, tc := range []struct {
		env  []string
		base string
	}{
		{nil, "http://localhost:3000"},
		{[]string{"PILLARS_GRAFANA_URL=https://grafana.example"}, "https://grafana.example"},
	} {
		p := loadCompose(t, tc.env...)
		tmpl := env(service(t, p, "frontend"), "PILLARS_TRACE_URL_TEMPLATE")
		if strings.Count(tmpl, "{trace_id}") != 1 {
			t.Fatalf("PILLARS_TRACE_URL_TEMPLATE %q: want {trace_id} once", tmpl)
		}
		u, err := url.Parse(strings.ReplaceAll(tmpl, "{trace_id}", traceID))
		if err != nil {
			t.Fatalf("PILLARS_TRACE_URL_TEMPLATE %q: %v", tmpl, err)
		}
		if got := u.Scheme + "://" + u.Host; got != tc.base || u.Path != "/explore" {
			t.Errorf("with %v: links to %s%s, want %s/explore", tc.env, got, u.Path, tc.base)
		}
		q := u.Query()
		if q.Get("schemaVersion") != "1" || q.Get("orgId") != "1" {
			t.Errorf("Explore URL %s: want schemaVersion=1 and orgId=1", u)
		}
		var panes map[string]struct {
			Datasource string `json:"datasource"`
			Queries    []struct {
				RefID      string `json:"refId"`
				Datasource struct {
					Type string `json:"type"`
					UID  string `json:"uid"`
				} `json:"datasource"`
				QueryType string `json:"queryType"`
				Query     string `json:"query"`
			} `json:"queries"`
			Range struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"range"`
		}
		if err := json.Unmarshal([]byte(q.Get("panes")), &panes); err != nil || len(panes) != 1 {
			t.Fatalf("panes %q: %v, want one pane of JSON", q.Get("panes"), err)
		}
		for _, pane := range panes {
			if d, ok := ds[pane.Datasource]; !ok || d.Type != "tempo" {
				t.Errorf("pane on data source %q, want the provisioned Tempo", pane.Datasource)
			}
			if len(pane.Queries) != 1 {
				t.Fatalf("pane has %d queries, want 1", len(pane.Queries))
			}
			qr := pane.Queries[0]
			if qr.Datasource.UID != pane.Datasource || qr.Datasource.Type != "tempo" || qr.QueryType != "traceql" || qr.Query != traceID || qr.RefID == "" {
				t.Errorf("query %+v: want a TraceQL query of the trace id on Tempo", qr)
			}
			if pane.Range.From == "" || pane.Range.To != "now" {
				t.Errorf("range %+v, want one that ends now", pane.Range)
			}
		}
	}
	grafana := service(t, loadCompose(t), "grafana")
	if len(grafana.Ports) != 1 || grafana.Ports[0].Published != "3000" {
		t.Errorf("grafana publishes %v, the links say port 3000", grafana.Ports)
	}
}
