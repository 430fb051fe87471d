package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// File is one generated dashboard: its file name under grafana/dashboards and its JSON.
type File struct {
	Name string
	JSON []byte
}

// All builds every dashboard, in a stable order, as the JSON Grafana provisions. The overview
// is overview.json: compose.yaml makes it Grafana's home page by that path.
func All() ([]File, error) {
	builders := []struct {
		name string
		b    *dashboard.DashboardBuilder
	}{
		{"overview.json", Overview()},
		{"frontend.json", Frontend()},
		{"backend.json", Backend()},
		{"database.json", Database()},
		{"slo.json", SLO()},
	}
	files := make([]File, 0, len(builders))
	for _, d := range builders {
		built, err := d.b.Build()
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", d.name, err)
		}
		numberPanels(&built)
		// Show the links and the annotation toggles above the panels, where a visitor looks for
		// them (the SDK's default tucks them into the controls menu).
		for i := range built.Links {
			built.Links[i].Placement = nil
		}
		for i := range built.Annotations.List {
			built.Annotations.List[i].Placement = nil
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		// Keep PromQL's <, > and & readable in the committed files.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(built); err != nil {
			return nil, fmt.Errorf("encode %s: %w", d.name, err)
		}
		files = append(files, File{Name: d.name, JSON: buf.Bytes()})
	}
	return files, nil
}

// numberPanels gives every panel and row an id, unique within the dashboard and stable from one
// generation to the next: Grafana keys panel links (viewPanel=N) and panel state on them.
func numberPanels(d *dashboard.Dashboard) {
	var next uint32
	for i := range d.Panels {
		next++
		switch p := d.Panels[i]; {
		case p.Panel != nil:
			id := next
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = next
			for j := range p.RowPanel.Panels {
				next++
				id := next
				p.RowPanel.Panels[j].Id = &id
			}
		}
	}
}
