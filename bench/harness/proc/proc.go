// Package proc reads what a process costs from Linux's /proc, through prometheus/procfs: CPU
// time (user + system, all threads) and resident memory, current and peak.
package proc

import (
	"time"

	"github.com/prometheus/procfs"
)

// Sample is one reading of one process.
type Sample struct {
	CPU time.Duration // utime + stime since the process started (10 ms ticks)
	RSS int64         // VmRSS, bytes
	HWM int64         // VmHWM: the peak of VmRSS so far, bytes
}

// Reader reads processes from one /proc.
type Reader struct{ fs procfs.FS }

// NewReader reads from mountPoint, usually procfs.DefaultMountPoint ("/proc").
func NewReader(mountPoint string) (Reader, error) {
	fs, err := procfs.NewFS(mountPoint)
	return Reader{fs: fs}, err
}

// Read samples pid.
func (r Reader) Read(pid int) (Sample, error) {
	p, err := r.fs.Proc(pid)
	if err != nil {
		return Sample{}, err
	}
	st, err := p.Stat()
	if err != nil {
		return Sample{}, err
	}
	status, err := p.NewStatus()
	if err != nil {
		return Sample{}, err
	}
	return Sample{
		CPU: time.Duration(st.CPUTime() * float64(time.Second)),
		RSS: int64(status.VmRSS),
		HWM: int64(status.VmHWM),
	}, nil
}

// Busy is the CPU time all processors have spent on anything but idling since boot, steal
// time included (a hypervisor's other guests take from the benchmark too): with the
// benchmark's own processes' CPU subtracted, what everyone else took from it.
func (r Reader) Busy() (time.Duration, error) {
	st, err := r.fs.Stat()
	if err != nil {
		return 0, err
	}
	c := st.CPUTotal
	busy := c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal
	return time.Duration(busy * float64(time.Second)), nil
}
