package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ErrGraceExpired is returned by Server.Shutdown when requests were still in flight at the end
// of the grace period: they were cut off.
var ErrGraceExpired = errors.New("shutdown grace expired with requests still in flight")

// Server is one service's HTTP server, with the steps a graceful shutdown takes apart so that
// the caller can order them across services: Drain (still serving, but telling clients to go
// elsewhere), then Shutdown (stop accepting, finish what is in flight).
//
// The timeouts protect the service from slow clients: a client that trickles its headers or
// never reads its answer is cut off.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	served chan error
}

// NewServer returns a server for h on ln; Start runs it.
func NewServer(ln net.Listener, h http.Handler, logger *slog.Logger) *Server {
	return &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			// Requests are never cancelled by the shutdown itself: in-flight work finishes
			// within the grace, or is cut off when it runs out.
			BaseContext: func(net.Listener) context.Context { return context.Background() },
		},
		served: make(chan error, 1),
	}
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Start serves in the background. Failed reports a serving error other than a shutdown.
func (s *Server) Start() {
	go func() {
		err := s.srv.Serve(s.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.served <- err
		close(s.served)
	}()
}

// Failed is closed (after delivering the error, if any) when the server stopped serving.
func (s *Server) Failed() <-chan error { return s.served }

// Drain keeps serving but answers with "Connection: close" and keeps no idle connection, so
// that when the listener closes no client is caught sending on a connection about to go.
func (s *Server) Drain() { s.srv.SetKeepAlivesEnabled(false) }

// Shutdown stops accepting, closes idle connections and waits for the requests in flight until
// ctx ends; then it cuts off whatever is left and returns ErrGraceExpired.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		_ = s.srv.Close()
		err = ErrGraceExpired
	}
	if serveErr := <-s.served; serveErr != nil {
		err = errors.Join(err, fmt.Errorf("serving: %w", serveErr))
	}
	return err
}
