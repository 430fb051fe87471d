// Package pgtest runs a real PostgreSQL server for tests: initialised in a temporary directory,
// listening on a free loopback port, its unix socket in that directory, stopped and removed
// when the test binary is done. One server serves a whole test binary (start it in TestMain);
// each test gets its own database, copied from a seeded template with CREATE DATABASE ...
// TEMPLATE, which is a file copy and takes milliseconds.
//
// PostgreSQL refuses to run as root. Run as root (as CI does), the server runs as the
// `postgres` user that the distribution's package creates; otherwise as the current user.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the role initdb creates; tests connect as it, without a password (trust
// authentication on a loopback-only server).
const Superuser = "postgres"

// settings make a throwaway server fast and small: nothing a test writes needs to survive a
// crash. max_connections covers every pool a test binary has open at once.
var settings = []string{
	"fsync=off",
	"synchronous_commit=off",
	"full_page_writes=off",
	"shared_buffers=32MB",
	"max_connections=200",
	"log_min_messages=warning",
}

// Server is one running PostgreSQL.
type Server struct {
	dir  string // owns data/, the socket and the log
	bin  string
	port int
	cred *syscall.Credential // whom the server runs as (nil: as this process)

	mu     sync.Mutex
	done   chan error // the running postmaster's exit; nil while stopped
	stop   chan struct{}
	nextDB int
}

// Start initialises a new cluster in a temporary directory and starts it. Close removes it.
func Start() (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if s.dir, err = os.MkdirTemp("", "pillars-pgtest-"); err != nil {
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.initdb(); err != nil {
		s.Close()
		return nil, err
	}
	// The free port is found by listening on it and letting go: another process may take it
	// in between, so a start that fails tries another.
	for attempt := 0; ; attempt++ {
		if s.port, err = freePort(); err == nil {
			if err = s.Restart(); err == nil {
				return s, nil
			}
		}
		if attempt == 2 {
			s.Close()
			return nil, err
		}
	}
}

// findBinaries finds initdb and postgres: on the PATH, else where Debian and Ubuntu install
// them (/usr/lib/postgresql/<major>/bin, the newest major).
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return majorOf(a) - majorOf(b) })
	if len(found) == 0 {
		return "", errors.New("pgtest: PostgreSQL's initdb is neither on the PATH nor in /usr/lib/postgresql/*/bin: install PostgreSQL (Debian: apt-get install postgresql)")
	}
	return filepath.Dir(found[len(found)-1]), nil
}

func majorOf(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and PostgreSQL refuses to run as root; the postgres user its package creates is missing: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	// A clean environment: PG* variables of the developer's shell must not steer the server.
	cmd.Env = []string{"LC_ALL=C", "TZ=UTC", "PATH=" + os.Getenv("PATH")}
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

func (s *Server) initdb() error {
	cmd := s.command("initdb", "-D", filepath.Join(s.dir, "data"), "-U", Superuser, "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return nil
}

// Restart starts the server again after Stop, on the same port and data: what a server that
// went away and came back looks like to its clients.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		return errors.New("pgtest: server already running")
	}
	args := []string{"-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + s.dir}
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := s.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The server must not outlive a test binary that crashes or is killed: the kernel sends
	// SIGQUIT (immediate shutdown) when the thread that started it ends, so that thread is
	// kept for as long as the server runs.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	started, done, stop := make(chan error, 1), make(chan error, 1), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			done <- err
		case <-stop:
			_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown: clients are disconnected
			done <- <-waited
		}
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.done, s.stop = done, stop
	if err := s.waitAccepting(done); err != nil {
		s.stopLocked()
		return fmt.Errorf("%w\n%s", err, tail(logPath))
	}
	return nil
}

// waitAccepting polls until the server accepts connections, or it exits.
func (s *Server) waitAccepting(exited chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		cancel()
		if err == nil {
			return conn.Close(context.Background())
		}
		select {
		case err := <-exited:
			exited <- err // Stop reads it too
			return fmt.Errorf("pgtest: postgres exited at start: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres does not accept connections after 30s: %w", err)
		}
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Stop shuts the server down (fast: open connections are cut) and keeps its data.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if s.done == nil {
		return nil
	}
	close(s.stop)
	err := <-s.done
	s.done, s.stop = nil, nil
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.Exited() && ee.ExitCode() == 0 {
		err = nil
	}
	return err
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	err := s.Stop()
	if s.dir != "" {
		err = errors.Join(err, os.RemoveAll(s.dir))
	}
	return err
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the postgres:// URL of database db on this server, as the superuser.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(Superuser), Host: s.Addr(), Path: "/" + db,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// Exec runs statements as the superuser in database db.
func (s *Server) Exec(ctx context.Context, db, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL(db))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// CreateDatabase creates an empty database (from template, when not "") and returns its name.
func (s *Server) CreateDatabase(ctx context.Context, template string) (string, error) {
	s.mu.Lock()
	s.nextDB++
	name := "pillars_test_" + strconv.Itoa(s.nextDB)
	s.mu.Unlock()
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if err := s.Exec(ctx, "postgres", stmt); err != nil {
		return "", fmt.Errorf("pgtest: %s: %w", stmt, err)
	}
	return name, nil
}

// DropDatabase drops a database, disconnecting whoever is still connected to it.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.Exec(ctx, "postgres", "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// Database creates a database for one test (a copy of template, or empty when template is
// "") and returns its URL; it is dropped when the test ends.
func (s *Server) Database(tb testing.TB, template string) string {
	tb.Helper()
	name, err := s.CreateDatabase(tb.Context(), template)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.DropDatabase(context.Background(), name); err != nil {
			tb.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return s.URL(name)
}
