package drill

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An export writes the episode's key beside its telemetry (none here: no stores), and is
// refused for a seed the state directory never ran.
func TestExportWritesKey(t *testing.T) {
	dir := t.TempDir()
	d, err := NewDesk(Config{StateDir: filepath.Join(dir, "state"), Timescale: 1e4, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	seed := int64(1)
	for Generate(seed).Incident() {
		seed++
	}
	if _, err := d.Start(t.Context(), seed); err != nil {
		t.Fatal(err)
	}
	waitReady(t, d)
	if _, err := d.Answer(t.Context(), strings.NewReader(`{"service":"none","kind":"none"}`)); err != nil {
		t.Fatal(err)
	}
	d.Wait()
	out := filepath.Join(dir, "export")
	m, err := d.Export(t.Context(), ExportConfig{Seed: seed, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "key.json"))
	var rec record
	if err != nil || json.Unmarshal(data, &rec) != nil || rec.Episode.Seed != seed || rec.Episode.Key.Service != NoIncident || rec.Result == nil {
		t.Errorf("key.json: %v %s", err, data)
	}
	if len(m.Files) < 2 || m.From.After(rec.Started) || m.To.Before(rec.Started) {
		t.Errorf("manifest: %+v", m)
	}
	if _, err := d.Export(t.Context(), ExportConfig{Seed: seed + 10000, Dir: filepath.Join(dir, "x")}); err == nil {
		t.Error("an export of a seed never run succeeded")
	}
}

// waitReady polls the desk until its episode is ready, failing after 10 s.
func waitReady(t *testing.T, d *Desk) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st, err := d.Status(t.Context()); err != nil || !st.Ready; st, err = d.Status(t.Context()) {
		if time.Now().After(deadline) {
			t.Fatalf("the episode not ready after 10s: %+v %v", st, err)
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by the deadline
	}
}
