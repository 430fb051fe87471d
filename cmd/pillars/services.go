package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/faults"
	"github.com/pillars-o11y/pillars/internal/frontend"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// service is what every service package's *Service offers.
type service interface {
	Handler() http.Handler
	SetReady(bool)
	Close() error
}

// unit is one running service: its server, its own telemetry and the service itself.
type unit struct {
	name   string
	server *telemetry.Server
	tel    *telemetry.Telemetry
	svc    service
}

// serviceOptions are the parsed flags of a service command.
type serviceOptions struct {
	cmd        string
	common     commonOptions
	frontend   frontendOptions
	backend    backendOptions
	database   databaseOptions
	standalone bool // one service per process, as opposed to `all`
}

func (o *serviceOptions) runs(service string) bool { return o.cmd == "all" || o.cmd == service }

// runServices runs the services cmd names until ctx ends, then stops them in order.
func runServices(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseServiceOptions(cmd, args, getenv, stderr)
	if err != nil {
		return err
	}
	otel.SetErrorHandler(exportErrorHandler(stderr))
	if f, ok := stdout.(*os.File); ok {
		// A file or a pipe: log lines go out in blocks, not a system call each.
		blocks := telemetry.NewBlockWriter(f)
		defer blocks.Close()
		stdout = blocks
	}
	lns, err := listenAll(opts)
	if err != nil {
		return err
	}
	units, err := startUnits(ctx, opts, lns, getenv, stdout)
	if err != nil {
		lns.close()
		return err
	}
	return serve(ctx, opts, units)
}

func parseServiceOptions(cmd string, args []string, getenv func(string) string, stderr io.Writer) (*serviceOptions, error) {
	o := &serviceOptions{cmd: cmd, standalone: cmd != "all"}
	f := newFlags(cmd, summaries[cmd], stderr)
	o.common.register(f)
	if o.runs("frontend") {
		rate := 0.0
		if cmd == "all" {
			rate = 2
		}
		o.frontend.register(f, rate, o.standalone)
	}
	if o.runs("backend") {
		o.backend.register(f, o.standalone)
	}
	if o.runs("database") {
		o.database.register(f)
	}
	if err := f.parse(args, getenv); err != nil {
		return nil, err
	}
	tok, err := adminToken(o.common.adminToken, o.common.adminTokenFile, true)
	if err != nil {
		return nil, err
	}
	o.common.adminToken = tok
	return o, nil
}

// listeners are the sockets of the services a command runs (nil for the others).
type listeners struct {
	database, backend, frontend net.Listener
}

// listenAll opens every listener first, before anything else starts: a port already taken fails
// the command at once with the address in the message, and in `all` the callers learn the
// callees' real addresses (a port of 0 picks a free one).
func listenAll(o *serviceOptions) (*listeners, error) {
	l := &listeners{}
	for _, s := range []struct {
		name, addr string
		into       *net.Listener
	}{
		{"database", o.database.addr, &l.database},
		{"backend", o.backend.addr, &l.backend},
		{"frontend", o.frontend.addr, &l.frontend},
	} {
		if !o.runs(s.name) {
			continue
		}
		ln, err := listen(s.name, s.addr)
		if err != nil {
			l.close()
			return nil, err
		}
		*s.into = ln
	}
	if o.cmd == "all" {
		o.backend.databaseURL, o.frontend.backendURL = dialURL(l.database), dialURL(l.backend)
		o.frontend.databaseURL = o.backend.databaseURL
	}
	if l.frontend != nil {
		o.frontend.selfURL = dialURL(l.frontend) // where its traffic generator sends
	}
	return l, nil
}

// listen opens one service's listener, explaining the usual failures.
func listen(service, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s: address %s is already in use (is another pillars running?): stop what listens there, or choose another with --%s-addr",
			service, addr, service)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("%s: not allowed to listen on %s: ports below 1024 need privileges", service, addr)
	}
	if _, ok := errors.AsType[*net.AddrError](err); ok {
		return nil, usageError{fmt.Errorf("%s: --%s-addr %q is not a host:port address", service, service, addr)}
	}
	return nil, fmt.Errorf("%s: cannot listen on %s: %w", service, addr, err)
}

func (l *listeners) close() {
	for _, ln := range []net.Listener{l.database, l.backend, l.frontend} {
		if ln != nil {
			ln.Close()
		}
	}
}

// startUnits builds each service with its own telemetry, callees first, and returns them in
// the order they stop: callers first (frontend, backend, database).
func startUnits(ctx context.Context, o *serviceOptions, lns *listeners, getenv func(string) string, stdout io.Writer) ([]*unit, error) {
	var units []*unit
	add := func(name string, ln net.Listener, build func(*telemetry.Telemetry, access) (service, error)) error {
		cfg, err := o.common.telemetryConfig(name, getenv, stdout, o.standalone)
		if err != nil {
			return err
		}
		a, err := o.common.access(ln)
		if err != nil {
			return err
		}
		tel, err := telemetry.New(ctx, cfg)
		if err != nil {
			return err
		}
		svc, err := build(tel, a)
		if err != nil {
			_ = tel.Shutdown(context.WithoutCancel(ctx))
			if ue, ok := errors.AsType[usageError](err); ok {
				return ue
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		u := &unit{name: name, tel: tel, svc: svc, server: telemetry.NewServer(ln, svc.Handler(), tel.Logger)}
		units = append([]*unit{u}, units...)
		return nil
	}
	steps := []struct {
		name  string
		ln    net.Listener
		build func(*telemetry.Telemetry, access) (service, error)
	}{
		{"database", lns.database, func(tel *telemetry.Telemetry, a access) (service, error) {
			cfg, err := o.database.config(a)
			if err != nil {
				return nil, err
			}
			return database.New(ctx, cfg, tel)
		}},
		{"backend", lns.backend, func(tel *telemetry.Telemetry, a access) (service, error) {
			cfg, err := o.backend.config(a)
			if err != nil {
				return nil, err
			}
			return backend.New(ctx, cfg, tel)
		}},
		{"frontend", lns.frontend, func(tel *telemetry.Telemetry, a access) (service, error) {
			cfg, err := o.frontend.config(a)
			if err != nil {
				return nil, err
			}
			return frontend.New(ctx, cfg, tel)
		}},
	}
	var err error
	for _, st := range steps {
		if st.ln != nil {
			if err = add(st.name, st.ln, st.build); err != nil {
				break
			}
		}
	}
	if err != nil {
		for _, u := range units {
			_ = u.svc.Close()
			_ = u.tel.Shutdown(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	return units, nil
}

// access is how a service behind ln lets itself be driven: the admin endpoints' guard, and
// whether a request may break itself with X-Pillars-Fault.
type access struct {
	admin         telemetry.AdminConfig
	requestFaults bool
}

func (o *commonOptions) access(ln net.Listener) (access, error) {
	exposed := !ln.Addr().(*net.TCPAddr).IP.IsLoopback()
	a := access{admin: telemetry.AdminConfig{Token: o.adminToken, Exposed: exposed}}
	switch o.requestFaults {
	case "auto", "":
		a.requestFaults = !exposed
	case "on":
		a.requestFaults = true
	case "off":
	default:
		return a, usageError{fmt.Errorf("--request-faults %q: want on, off or auto", o.requestFaults)}
	}
	return a, nil
}

func (o *databaseOptions) config(a access) (database.Config, error) {
	f, err := faults.Parse[faults.Database]("database", o.faults)
	if err != nil {
		return database.Config{}, usageError{fmt.Errorf("--database-faults: %w", err)}
	}
	// The query-* flags of the first version add to the document.
	f.Latency = cmp.Or(faults.Duration(o.queryLatency), f.Latency)
	f.Jitter = cmp.Or(faults.Duration(o.queryJitter), f.Jitter)
	f.ErrorRate = cmp.Or(faults.Rate(o.queryErrorRate), f.ErrorRate)
	return database.Config{
		URL:                o.dbURL,
		Path:               o.dbPath,
		SlowQueryThreshold: o.slowQueryThreshold,
		Faults:             f,
		RequestFaults:      a.requestFaults,
		Admin:              a.admin,
	}, nil
}

func (o *backendOptions) config(a access) (backend.Config, error) {
	f, err := faults.Parse[faults.Backend]("backend", o.faults)
	if err != nil {
		return backend.Config{}, usageError{fmt.Errorf("--backend-faults: %w", err)}
	}
	return backend.Config{
		DatabaseURL: o.databaseURL, CacheTTL: o.cacheTTL, CacheSize: o.cacheSize, DatabaseTimeout: o.databaseTimeout,
		Faults: f, RequestFaults: a.requestFaults, Admin: a.admin,
	}, nil
}

func (o *frontendOptions) config(a access) (frontend.Config, error) {
	f, err := faults.Parse[faults.Frontend]("frontend", o.faults)
	if err != nil {
		return frontend.Config{}, usageError{fmt.Errorf("--frontend-faults: %w", err)}
	}
	if err := frontend.CheckTraceURLTemplate(o.traceURLTemplate); err != nil {
		return frontend.Config{}, usageError{fmt.Errorf("--trace-url-template: %w", err)}
	}
	lib, err := loadScenarios(o.scenarios.dir)
	if err != nil {
		return frontend.Config{}, usageError{err}
	}
	if o.scenarios.start != "" {
		if _, err := lib.Get(o.scenarios.start); err != nil {
			return frontend.Config{}, usageError{fmt.Errorf("--scenario: %w", err)}
		}
	}
	return frontend.Config{
		BackendURL:             o.backendURL,
		SelfURL:                o.selfURL,
		TrafficRate:            o.trafficRate,
		TrafficUsers:           o.trafficUsers,
		BackendTimeout:         o.backendTimeout,
		MaxUserID:              database.MaxUserID,
		MaxProductID:           database.MaxProductID,
		ContinueIncomingTraces: o.continueIncomingTraces,
		Faults:                 f,
		RequestFaults:          a.requestFaults,
		Admin:                  a.admin,
		Scenarios:              lib,
		DatabaseURL:            o.databaseURL,
		Scenario:               o.scenarios.start,
		Chaos:                  o.scenarios.chaos,
		ChaosBlind:             o.scenarios.chaosBlind,
		TraceURLTemplate:       o.traceURLTemplate,
	}, nil
}

// serve runs the units until ctx ends or one of them fails, then shuts everything down.
func serve(ctx context.Context, o *serviceOptions, units []*unit) error {
	failed := make(chan error, len(units))
	for _, u := range units {
		u.tel.Logger.Info("listening", "addr", u.server.Addr().String(), "version", u.tel.Version, "environment", u.tel.Environment)
		u.server.Start()
		go func() {
			if err, ok := <-u.server.Failed(); ok && err != nil {
				failed <- fmt.Errorf("%s: %w", u.name, err)
			}
		}()
	}
	traffic := startTraffic(units)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-failed: // one service failing stops the others: better than a half-running `all`
	}
	return errors.Join(serveErr, shutdown(units, traffic, o.common))
}

// shutdown is the graceful stop, one step after the other, each visible in the logs:
//  1. every service turns unready (/ready answers 503), the built-in traffic stops;
//  2. the drain delay: requests are still served, with "Connection: close", while load
//     balancers notice and stop sending;
//  3. callers before callees (frontend, backend, database): stop accepting, finish what is in
//     flight (within one grace for all), close the service, so that no request in flight
//     finds the next service gone;
//  4. flush each service's spans and logs.
//
// It returns telemetry.ErrGraceExpired when requests were cut off (exit status 1).
func shutdown(units []*unit, traffic func(), o commonOptions) error {
	for _, u := range units {
		u.svc.SetReady(false)
		u.tel.Logger.Info("shutting down: not ready", "drain_delay", o.drainDelay.String(), "grace", o.shutdownTimeout.String())
	}
	traffic()
	for _, u := range units {
		u.server.Drain()
	}
	if o.drainDelay > 0 {
		time.Sleep(o.drainDelay)
	}

	grace, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	var errs []error
	for _, u := range units {
		err := u.server.Shutdown(grace)
		if errors.Is(err, telemetry.ErrGraceExpired) {
			u.tel.Logger.Error("requests still in flight at the end of the grace were cut off", "grace", o.shutdownTimeout.String())
		}
		if cerr := u.svc.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.name, err))
		}
		u.tel.Logger.Info("stopped")
	}
	for _, u := range units {
		// A telemetry backend that is down at exit loses the last batch; that is reported, not
		// turned into a failing exit status.
		if err := u.tel.Shutdown(context.Background()); err != nil {
			u.tel.Logger.Warn("telemetry flush on shutdown incomplete", "error", err.Error())
		}
	}
	return errors.Join(errs...)
}

// startTraffic starts the frontend's built-in traffic generator (idle at rate 0, steered
// through /admin/traffic) when the frontend runs here, and returns the function that stops it
// and waits for its requests in flight.
func startTraffic(units []*unit) (stop func()) {
	for _, u := range units {
		if fe, ok := u.svc.(*frontend.Service); ok {
			fe.StartTraffic()
			return fe.StopTraffic
		}
	}
	return func() {}
}

// dialURL is the URL a caller in this process uses to reach ln: wildcard binds are dialled
// on loopback.
func dialURL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// exportErrorHandler reports OpenTelemetry export failures (a trace backend that is down) at
// most every 30 s: the failure is worth knowing, a line per batch is not.
func exportErrorHandler(stderr io.Writer) otel.ErrorHandler {
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	var last atomic.Int64
	return otel.ErrorHandlerFunc(func(err error) {
		now := time.Now().UnixNano()
		prev := last.Load()
		if now-prev < int64(30*time.Second) || !last.CompareAndSwap(prev, now) {
			return
		}
		logger.Warn("opentelemetry export failing (reported at most every 30s)", "error", err.Error())
	})
}
