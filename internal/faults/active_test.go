package faults_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// A service's faults as GET /admin/faults answers them (every knob, zero when off) read back
// as the knobs that are on, written as PUT takes them.
func TestActiveListsTheKnobsThatAreOn(t *testing.T) {
	sw, err := faults.NewSwitch("database", faults.Database{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Replace(strings.NewReader(`{"latency":"250ms","error_rate":0.2,"missing_index":true}`), 0); err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(sw.Current())
	if err != nil {
		t.Fatal(err)
	}
	got, err := faults.Active("database", doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []faults.Setting{{"latency", "250ms"}, {"error_rate", "0.2"}, {"missing_index", "true"}}
	if !slices.Equal(got, want) {
		t.Errorf("Active(%s) = %v, want %v", doc, got, want)
	}
	if d := sw.Describe(sw.Current()); d != "latency=250ms, error_rate=0.2, missing_index=true" {
		t.Errorf("Describe = %q: the same knobs, written in one line", d)
	}

	none, err := json.Marshal(faults.Database{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := faults.Active("database", none); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Active of no faults = %v, %v: want an empty list", got, err)
	}
	for _, bad := range []struct{ tier, doc string }{
		{"cache", `{}`},
		{"database", `{"latency":"1h"}`},
		{"database", `not json`},
	} {
		if _, err := faults.Active(bad.tier, []byte(bad.doc)); err == nil {
			t.Errorf("Active(%s, %s) accepted it", bad.tier, bad.doc)
		}
	}
}
