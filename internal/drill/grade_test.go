package drill

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestGradeDiagnosis(t *testing.T) {
	ready := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	answered := ready.Add(90 * time.Second)
	slowRoute := Key{Service: Backend, Kind: KindLatency, Component: "/api/user/{id}", Start: ready.Add(-time.Minute)}
	leak := Key{Service: Backend, Kind: KindMemoryLeak}
	none := Key{Service: NoIncident, Kind: NoIncident}
	tests := []struct {
		name string
		key  Key
		d    Diagnosis
		want Grade
	}{
		{"exact", slowRoute, Diagnosis{Service: Backend, Kind: KindLatency, Component: "/api/user/{id}"},
			Grade{Service: 1, Kind: 1, Component: 1, Points: 3, Exact: true}},
		{"wrong component", slowRoute, Diagnosis{Service: Backend, Kind: KindLatency, Component: "/api/product/{id}"},
			Grade{Service: 1, Kind: 1, Points: 2}},
		{"right place, wrong kind", slowRoute, Diagnosis{Service: Backend, Kind: KindErrors, Component: "/api/user/{id}"},
			Grade{Service: 1, Component: 1, Points: 2}},
		{"wrong service", slowRoute, Diagnosis{Service: Database, Kind: KindLatency}, Grade{Kind: 1, Points: 1}},
		{"no component in key: follows kind", leak, Diagnosis{Service: Backend, Kind: KindMemoryLeak},
			Grade{Service: 1, Kind: 1, Component: 1, Points: 3, Exact: true}},
		{"no component in key, wrong kind", leak, Diagnosis{Service: Backend, Kind: KindCPUBurn},
			Grade{Service: 1, Points: 1}},
		{"miss", slowRoute, Diagnosis{Service: NoIncident, Kind: NoIncident}, Grade{Miss: true}},
		{"healthy, said none", none, Diagnosis{Service: NoIncident, Kind: NoIncident},
			Grade{Service: 1, Kind: 1, Component: 1, Points: 3, Exact: true}},
		{"false alarm", none, Diagnosis{Service: Database, Kind: KindLatency}, Grade{FalseAlarm: true}},
		{"start error reported", slowRoute, Diagnosis{Service: Backend, Kind: KindLatency, Component: "/api/user/{id}",
			Start: ready.Add(-30 * time.Second).Format(time.RFC3339)},
			Grade{Service: 1, Kind: 1, Component: 1, Points: 3, Exact: true, StartError: 30 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.TimeToDiagnosis = 90 * time.Second
			if got := GradeDiagnosis(tt.key, tt.d, ready, answered); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTally(t *testing.T) {
	g := func(points int) *Grade { return &Grade{Points: points, Exact: points == 3, Service: min(points, 1)} }
	sb := Tally([]Result{
		{Family: "slow-database", Grade: g(3)},
		{Family: "slow-database", Grade: g(1), Distractors: []string{"cache-flush"}},
		{Family: "", Grade: &Grade{FalseAlarm: true}},
		{Family: "missing-index", Void: true, VoidReason: "not seen"},
	})
	if sb.Overall.Episodes != 3 || sb.Overall.Points != 4 || sb.Overall.FalseAlarms != 1 {
		t.Errorf("overall %+v", sb.Overall)
	}
	if f := sb.ByFamily["slow-database"]; f.Episodes != 2 || f.Score != 4.0/6 {
		t.Errorf("slow-database %+v", f)
	}
	if d := sb.ByDistractor["cache-flush"]; d.Episodes != 1 || d.Points != 1 {
		t.Errorf("cache-flush %+v", d)
	}
	if len(sb.Void) != 1 || !strings.Contains(sb.Markdown("t"), "not seen") {
		t.Errorf("void episodes not reported: %+v", sb.Void)
	}
}

// A bad diagnosis names the field that is wrong.
func TestParseDiagnosisNamesTheField(t *testing.T) {
	tests := []struct{ doc, field string }{
		{`{"kind": "latency"}`, "service"},
		{`{"service": "cache", "kind": "latency"}`, "service"},
		{`{"service": "backend"}`, "kind"},
		{`{"service": "backend", "kind": "slow"}`, "kind"},
		{`{"service": "backend", "kind": "none"}`, "kind"},
		{`{"service": "backend", "kind": "latency", "component": "/nope"}`, "component"},
		{`{"service": "backend", "kind": "latency", "start": "yesterday"}`, "start"},
		{`{"service": "backend", "kind": "latency", "notes": "` + strings.Repeat("x", MaxNotes+1) + `"}`, "notes"},
		{`{"service": "backend", "kind": "latency", "severity": 3}`, "severity"},
		{`{"service": 3, "kind": "latency"}`, "service"},
		{`[1]`, "(document)"},
	}
	for _, tt := range tests {
		_, err := ParseDiagnosis(strings.NewReader(tt.doc))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%.60s: got %v, want an error naming %q", tt.doc, err, tt.field)
		}
	}
	for _, doc := range []string{
		`{"service": "none", "kind": "none"}`,
		`{"service": "database", "kind": "missing-index", "component": "orders", "start": "2026-01-02T15:04:05Z", "notes": "plans"}`,
	} {
		if _, err := ParseDiagnosis(strings.NewReader(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}
