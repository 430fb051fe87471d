package telemetry

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"

	"github.com/felixge/httpsnoop"
	"go.opentelemetry.io/otel/trace"
)

// exchange is what the middleware learns about one request while it is served: the route it
// matched, the span otelhttp started for it, and what the client was really sent. It lives in
// the request's context, so the layers on either side of otelhttp's handler share it.
type exchange struct {
	route, spanName string
	span            trace.SpanContext
	ctx             context.Context // the handler's: the span and its request ids; nil for a request the span never reached

	status   int   // the status the client was sent; 0 while nothing is written
	written  int64 // response body bytes
	read     int64 // request body bytes the handler read
	panicked bool  // the handler panicked (and the panic was answered, if it could be)
	aborted  bool  // the handler panicked with http.ErrAbortHandler: the connection is cut
}

type exchangeKey struct{}

func withExchange(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// record wraps w so that ex learns the status and size of what the client is sent. httpsnoop
// keeps every optional interface of w (Flusher, Hijacker, ReaderFrom, Pusher) visible, as
// otelhttp does: a handler that streams or upgrades the connection still can.
func (ex *exchange) record(w http.ResponseWriter) http.ResponseWriter {
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) {
				if ex.status == 0 && code >= 200 { // 1xx are interim: the final status follows
					ex.status = code
				}
				next(code)
			}
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) {
				ex.wrote()
				n, err := next(b)
				ex.written += int64(n)
				return n, err
			}
		},
		ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
			return func(src io.Reader) (int64, error) {
				ex.wrote()
				n, err := next(src)
				ex.written += n
				return n, err
			}
		},
		Flush: func(next httpsnoop.FlushFunc) httpsnoop.FlushFunc {
			return func() {
				ex.wrote() // a flush sends the header
				next()
			}
		},
		Hijack: func(next httpsnoop.HijackFunc) httpsnoop.HijackFunc {
			return func() (c net.Conn, rw *bufio.ReadWriter, err error) {
				c, rw, err = next()
				if err == nil && ex.status == 0 {
					ex.status = http.StatusSwitchingProtocols // the handler answers on the raw connection
				}
				return c, rw, err
			}
		},
	})
}

func (ex *exchange) wrote() {
	if ex.status == 0 {
		ex.status = http.StatusOK
	}
}

// countBody counts the request body bytes the handler reads.
type countBody struct {
	io.ReadCloser
	n *int64
}

func (b countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	*b.n += int64(n)
	return n, err
}
