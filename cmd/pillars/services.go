package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/frontend"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// service is what every service package's *Service offers.
type service interface {
	Handler() http.Handler
	SetReady(bool)
	Close() error
}

// unit is one running service: its listener, its own telemetry and the service itself.
type unit struct {
	ln  net.Listener
	tel *telemetry.Telemetry
	svc service
}

func runServices(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags(cmd, summaries[cmd], stderr)
	var common commonOptions
	var fo frontendOptions
	var bo backendOptions
	var do databaseOptions
	common.register(f)
	standalone := cmd != "all"
	if cmd == "all" || cmd == "frontend" {
		rate := 0.0
		if cmd == "all" {
			rate = 2
		}
		fo.register(f, rate, standalone)
	}
	if cmd == "all" || cmd == "backend" {
		bo.register(f, standalone)
	}
	if cmd == "all" || cmd == "database" {
		do.register(f)
	}
	if err := f.parse(args, getenv); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	otel.SetErrorHandler(exportErrorHandler(stderr))

	// Listen first, all at once: a port already taken fails the command before anything
	// else starts, and in `all` the callers learn the callees' real addresses.
	var lnDB, lnBE, lnFE net.Listener
	var err error
	listen := func(addr string) net.Listener {
		if err != nil {
			return nil
		}
		var ln net.Listener
		ln, err = net.Listen("tcp", addr)
		return ln
	}
	switch cmd {
	case "all":
		lnDB, lnBE, lnFE = listen(do.addr), listen(bo.addr), listen(fo.addr)
		bo.databaseURL, fo.backendURL = dialURL(lnDB), dialURL(lnBE)
	case "database":
		lnDB = listen(do.addr)
	case "backend":
		lnBE = listen(bo.addr)
	case "frontend":
		lnFE = listen(fo.addr)
	}
	if err != nil {
		closeAll(lnDB, lnBE, lnFE)
		return err
	}

	newTel := func(name string) (*telemetry.Telemetry, error) {
		cfg, err := common.telemetryConfig(name, getenv, stdout, standalone)
		if err != nil {
			return nil, err
		}
		return telemetry.New(ctx, cfg)
	}
	var units []*unit
	start := func(ln net.Listener, name string, build func(*telemetry.Telemetry) (service, error)) error {
		tel, err := newTel(name)
		if err != nil {
			return err
		}
		svc, err := build(tel)
		if err != nil {
			_ = tel.Shutdown(context.WithoutCancel(ctx))
			return fmt.Errorf("%s: %w", name, err)
		}
		units = append(units, &unit{ln: ln, tel: tel, svc: svc})
		return nil
	}
	if lnDB != nil && err == nil {
		err = start(lnDB, "database", func(tel *telemetry.Telemetry) (service, error) {
			return database.New(ctx, database.Config{
				Path:               do.dbPath,
				SlowQueryThreshold: do.slowQueryThreshold,
				Faults: database.Faults{
					Latency:   database.Duration(do.queryLatency),
					Jitter:    database.Duration(do.queryJitter),
					ErrorRate: do.queryErrorRate,
				},
			}, tel)
		})
	}
	if lnBE != nil && err == nil {
		err = start(lnBE, "backend", func(tel *telemetry.Telemetry) (service, error) {
			db := database.NewClient(bo.databaseURL, tel.NewClient())
			return backend.New(ctx, backend.Config{
				CacheTTL:        bo.cacheTTL,
				CacheSize:       bo.cacheSize,
				DatabaseTimeout: bo.databaseTimeout,
			}, tel, db)
		})
	}
	if lnFE != nil && err == nil {
		err = start(lnFE, "frontend", func(tel *telemetry.Telemetry) (service, error) {
			be := backend.NewClient(fo.backendURL, tel.NewClient())
			return frontend.New(ctx, frontend.Config{
				BackendTimeout: fo.backendTimeout,
				MaxUserID:      database.MaxUserID,
				MaxProductID:   database.MaxProductID,
			}, tel, be)
		})
	}
	if err != nil {
		for _, u := range units {
			_ = u.svc.Close()
			_ = u.tel.Shutdown(context.WithoutCancel(ctx))
		}
		closeAll(lnDB, lnBE, lnFE)
		return err
	}

	var wg sync.WaitGroup
	errs := make([]error, len(units))
	for i, u := range units {
		wg.Go(func() {
			errs[i] = u.serve(ctx, common.shutdownTimeout)
			if errs[i] != nil {
				cancel() // one service failing stops the others: better than a half-running `all`
			}
		})
	}
	if lnFE != nil && fo.trafficRate > 0 {
		fe := units[len(units)-1]
		wg.Go(func() {
			_ = frontend.RunTraffic(ctx, frontend.TrafficConfig{
				Rate:         fo.trafficRate,
				Users:        fo.trafficUsers,
				BaseURL:      dialURL(lnFE),
				MaxUserID:    database.MaxUserID,
				MaxProductID: database.MaxProductID,
			}, &http.Client{Timeout: 10 * time.Second}, fe.tel.Logger)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// serve runs one unit until ctx is cancelled, then drains it: not ready, stop accepting,
// finish in-flight requests, close the service, flush spans and logs.
func (u *unit) serve(ctx context.Context, grace time.Duration) error {
	log := u.tel.Logger
	log.Info("listening", "addr", u.ln.Addr().String(), "version", u.tel.Version, "environment", u.tel.Environment)
	stop := context.AfterFunc(ctx, func() {
		u.svc.SetReady(false)
		log.Info("shutting down", "grace", grace.String())
	})
	defer stop()
	err := telemetry.Serve(ctx, u.ln, u.svc.Handler(), log, grace)
	if cerr := u.svc.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	log.Info("stopped")
	// A telemetry backend that is down at exit loses the last batch; that is reported, not
	// turned into a failing exit status.
	if terr := u.tel.Shutdown(context.WithoutCancel(ctx)); terr != nil {
		log.Warn("telemetry flush on shutdown incomplete", "error", terr.Error())
	}
	return err
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

func closeAll(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
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
