package checks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runEntrypoint runs deploy/grafana/entrypoint.sh with /run.sh (Grafana's own start script)
// replaced by a stand-in that prints the password Grafana would start with.
func runEntrypoint(t *testing.T, dataDir string, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	fakeRun := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(fakeRun, []byte("#!/bin/sh\nprintf '%s' \"$GF_SECURITY_ADMIN_PASSWORD\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := string(readFile(t, "deploy", "grafana", "entrypoint.sh"))
	if !strings.Contains(script, "exec /run.sh") {
		t.Fatal("entrypoint.sh no longer hands over to the image's /run.sh")
	}
	wrapper := filepath.Join(dir, "entrypoint.sh")
	if err := os.WriteFile(wrapper, []byte(strings.ReplaceAll(script, "exec /run.sh", "exec "+fakeRun)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", wrapper)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "GF_PATHS_DATA=" + dataDir}, env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("entrypoint.sh: %v", err)
	}
	return string(out)
}

func TestGrafanaEntrypointPassword(t *testing.T) {
	data := t.TempDir()

	given := runEntrypoint(t, data, "GF_SECURITY_ADMIN_PASSWORD=chosen-by-the-caller")
	if given != "chosen-by-the-caller" {
		t.Errorf("with a password given, Grafana starts with %q", given)
	}
	if _, err := os.Stat(filepath.Join(data, "pillars-admin-password")); err == nil {
		t.Error("a password file was written although the caller gave a password")
	}

	first := runEntrypoint(t, data, "GF_SECURITY_ADMIN_PASSWORD=")
	if len(first) < 20 {
		t.Fatalf("generated password %q is too short", first)
	}
	saved, err := os.ReadFile(filepath.Join(data, "pillars-admin-password"))
	if err != nil || strings.TrimSpace(string(saved)) != first {
		t.Fatalf("generated password not kept in the data volume (%v)", err)
	}
	if fi, _ := os.Stat(filepath.Join(data, "pillars-admin-password")); fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("password file mode %v, want readable by its owner only", fi.Mode().Perm())
	}
	// Grafana reads the admin password only when it creates its database, so a restart must
	// reuse the first one, not roll a new one.
	if again := runEntrypoint(t, data); again != first {
		t.Errorf("restart generated a new password %q, want the kept %q", again, first)
	}
	if other := runEntrypoint(t, t.TempDir()); other == first {
		t.Error("two fresh volumes got the same password")
	}
}
