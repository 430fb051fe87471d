package stack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is a child process of the harness: a service, a relay hop, a sink or the load.
type Process struct {
	Name string
	cmd  *exec.Cmd
	// stdout counts the bytes the process wrote to stdout: for a service, its JSON log lines,
	// which a container runtime would read the same way.
	stdout  countingWriter
	logPath string
	done    chan struct{}
	err     error
}

type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

// StartProcess runs bin with args and env; stderr goes to dir/name.log, stdout is counted.
func StartProcess(name, bin string, args, env []string, dir string) (*Process, error) {
	return StartProcessTo(name, bin, args, env, dir, nil)
}

// StartProcessTo is StartProcess with stdout going to w as well as being counted.
func StartProcessTo(name, bin string, args, env []string, dir string, w io.Writer) (*Process, error) {
	return StartProcessIO(name, bin, args, env, dir, nil, w)
}

// StartProcessIO is StartProcessTo with stdin read from in.
func StartProcessIO(name, bin string, args, env []string, dir string, in io.Reader, w io.Writer) (*Process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &Process{Name: name, logPath: logPath, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdin = in
	p.cmd.Stdout = &p.stdout
	if w != nil {
		p.cmd.Stdout = io.MultiWriter(&p.stdout, w)
	}
	p.cmd.Stderr = logFile
	// If the harness dies, its children die with it rather than hold the ports and the CPU.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id, for /proc.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// StdoutBytes is what the process has written to stdout so far.
func (p *Process) StdoutBytes() int64 { return p.stdout.n.Load() }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Wait blocks until the process has ended.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Stop asks the process to end (SIGTERM) and kills it if it has not within grace.
func (p *Process) Stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// LogTail is the end of the process's stderr, for error messages.
func (p *Process) LogTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// failed describes a process that ended early.
func (p *Process) failed() error {
	if exited, err := p.Exited(); exited {
		return fmt.Errorf("%s exited (%v): %s", p.Name, err, p.LogTail())
	}
	return nil
}

var errNotReady = errors.New("not ready")
