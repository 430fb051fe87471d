package faults

import (
	"context"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"

	"go.opentelemetry.io/otel/attribute"
)

// Transport breaks a service's calls to the next one as its Calls knobs say (for the request
// the call is made for): it waits call_latency first, refuses a share of calls as a callee
// that is down would (connection refused), and drops a share after the request was sent (the
// callee sees its caller go; the caller gets a reset connection). Each is noted on the CLIENT
// span the call belongs to.
func Transport[T CallFaults](base http.RoundTripper, sw *Switch[T]) http.RoundTripper {
	return &faultyTransport[T]{base: base, sw: sw}
}

type faultyTransport[T CallFaults] struct {
	base     http.RoundTripper
	sw       *Switch[T]
	dropOnce sync.Once
	drop     http.RoundTripper
}

func (t *faultyTransport[T]) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	k := (*t.sw.ForRequest(ctx)).CallKnobs()
	if k == (Calls{}) {
		return t.base.RoundTrip(req)
	}
	if k.CallLatency > 0 {
		t.sw.Annotate(ctx, attribute.Int64("pillars.fault.call_latency_ms", k.CallLatency.D().Milliseconds()))
		if err := Sleep(ctx, k.CallLatency.D()); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	if Happens(k.CallRefuseRate) {
		t.sw.Annotate(ctx, attribute.Bool("pillars.fault.call_refused", true))
		closeBody(req)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	if Happens(k.CallDropRate) {
		t.sw.Annotate(ctx, attribute.Bool("pillars.fault.call_dropped", true))
		return t.dropAfterSending(req)
	}
	return t.base.RoundTrip(req)
}

// dropAfterSending sends req for real over a connection of its own, which is closed the moment
// the request has gone out: the callee really gets the request and really sees its caller
// vanish before it could answer, and the caller gets a reset instead of an answer.
func (t *faultyTransport[T]) dropAfterSending(req *http.Request) (*http.Response, error) {
	resp, err := t.dropping().RoundTrip(req)
	if err == nil {
		resp.Body.Close() // an answer that beat the drop is thrown away, as a reset would
	}
	if req.Context().Err() != nil {
		return nil, req.Context().Err() // the caller's own deadline or cancellation, not the drop
	}
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// dropping returns a copy of the base transport whose connections close after their first
// write (the request), never reused.
func (t *faultyTransport[T]) dropping() http.RoundTripper {
	t.dropOnce.Do(func() {
		base, ok := t.base.(*http.Transport)
		if !ok {
			base = http.DefaultTransport.(*http.Transport)
		}
		tr := base.Clone()
		tr.DisableKeepAlives = true
		dial := tr.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &closeAfterWrite{Conn: conn}, nil
		}
		t.drop = tr
	})
	return t.drop
}

// closeAfterWrite closes its connection once the first write (a whole request without a body)
// has gone out.
type closeAfterWrite struct {
	net.Conn
	once sync.Once
}

func (c *closeAfterWrite) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.once.Do(func() { c.Conn.Close() })
	return n, err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
