package proc

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A /proc entry as Linux writes it, for a process whose name has a space and a parenthesis
// (the name is the one field that can), 1234 ticks of user and 56 of system time.
const stat = "4242 (pillars (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 56 0 0 20 0 8 0 100 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"

const status = `Name:	pillars
State:	S (sleeping)
Pid:	4242
VmPeak:	 1300000 kB
VmSize:	 1200000 kB
VmHWM:	   40960 kB
VmRSS:	   30720 kB
Threads:	8
`

// The machine's line of /proc/stat, in ticks: user nice system idle iowait irq softirq steal.
const procStat = `cpu  1000 50 300 9000 200 10 20 30 0 0
cpu0 500 25 150 4500 100 5 10 15 0 0
cpu1 500 25 150 4500 100 5 10 15 0 0
intr 0
ctxt 0
btime 1700000000
processes 10
procs_running 1
procs_blocked 0
softirq 0 0 0 0 0 0 0 0 0 0 0
`

func TestReadParsesProc(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "stat"), []byte(procStat), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "4242")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"stat": stat, "status": status} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewReader(root)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Read(4242)
	if err != nil {
		t.Fatal(err)
	}
	// Ticks are 1/100 s (USER_HZ): 1290 ticks are 12.9 s.
	want := Sample{CPU: 12900 * time.Millisecond, RSS: 30720 * 1024, HWM: 40960 * 1024}
	if s != want {
		t.Fatalf("Read = %+v, want %+v", s, want)
	}
	// Busy: 1000+50+300+10+20+30 ticks, idle and iowait left out.
	if busy, err := r.Busy(); err != nil || busy != 14100*time.Millisecond {
		t.Fatalf("Busy = %v, %v; want 14.1s", busy, err)
	}
	if _, err := r.Read(4243); err == nil {
		t.Fatal("a process that does not exist read without error")
	}
}

// TestReadSelf reads this very process: it has used some CPU and holds some memory, and its
// peak is at least what it holds now.
func TestReadSelf(t *testing.T) {
	r, err := NewReader("/proc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS <= 0 || s.HWM < s.RSS {
		t.Fatalf("self: %+v", s)
	}
}
