package readback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds one call to a backend when the caller passes no HTTP client.
const DefaultTimeout = 10 * time.Second

// maxBody is the most of an answer that is read: a trace or a page of log lines is far
// smaller, and a backend gone wrong must not fill the memory of the one asking.
const maxBody = 64 << 20

// excerptLen is how much of an unexpected body an error quotes.
const excerptLen = 300

// HTTPError is a backend's answer other than the one asked for: a status that is not 2xx,
// or a 2xx whose body is not what the API documents.
type HTTPError struct {
	Method, URL string
	Status      int    // 0 when the status was fine and the body was not
	Body        string // an excerpt of what came back
	Reason      string // what was wrong with it, when the status alone does not say
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.URL)
	if e.Status != 0 {
		fmt.Fprintf(&b, "answered %d %s", e.Status, http.StatusText(e.Status))
	} else {
		b.WriteString("answered 200 OK")
	}
	if e.Reason != "" {
		b.WriteString(", " + e.Reason)
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	return b.String()
}

// UnreachableError is a call that got no HTTP answer at all: nothing listens, the name does
// not resolve, or the deadline passed first.
type UnreachableError struct {
	Method, URL string
	Why         string // in a person's words
	Err         error
}

// NewUnreachableError describes err, returned by an HTTP client for a call to url that got
// no answer, in a person's words.
func NewUnreachableError(ctx context.Context, method, url string, err error) *UnreachableError {
	return &UnreachableError{Method: method, URL: url, Why: unreachableWhy(ctx, err), Err: err}
}

func (e *UnreachableError) Error() string { return fmt.Sprintf("%s %s: %s", e.Method, e.URL, e.Why) }
func (e *UnreachableError) Unwrap() error { return e.Err }

// notLike is the error of a Ping: the URL does not answer like the kind of store asked for.
// When nothing answers at all, that alone is said: "does not answer like Tempo" would suggest
// something else is there.
func notLike(baseURL, kind string, err error) error {
	if _, ok := errors.AsType[*UnreachableError](err); ok {
		return err
	}
	return fmt.Errorf("%s does not answer like %s: %w", baseURL, kind, err)
}

// endpoint is one backend's base URL and the client that reaches it.
type endpoint struct {
	base   *url.URL
	client *http.Client
}

func newEndpoint(what, raw string, client *http.Client) (endpoint, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return endpoint{}, fmt.Errorf("%s URL %q: want http://host:port or https://host:port", what, raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	return endpoint{base: u, client: client}, nil
}

// String is the base URL without credentials, safe to print.
func (e endpoint) String() string {
	u := *e.base
	u.User = nil
	return u.String()
}

// url joins path (which may hold escaped segments) and query onto the base URL.
func (e endpoint) url(path string, q url.Values) string {
	u := *e.base
	u.User = nil
	s := u.String() + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// get requests path and returns the status and body of any HTTP answer; only a call with no
// answer at all is an error.
func (e endpoint) get(ctx context.Context, path string, q url.Values, header http.Header) (int, []byte, error) {
	shown := e.url(path, q)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, shown, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if e.base.User != nil {
		pw, _ := e.base.User.Password()
		req.SetBasicAuth(e.base.User.Username(), pw)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, NewUnreachableError(ctx, http.MethodGet, shown, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, &UnreachableError{Method: http.MethodGet, URL: shown, Why: "the answer broke off: " + rootCause(err).Error(), Err: err}
	}
	if len(body) > maxBody {
		return 0, nil, &HTTPError{Method: http.MethodGet, URL: shown, Status: resp.StatusCode, Reason: fmt.Sprintf("the body is larger than %d MiB", maxBody>>20)}
	}
	return resp.StatusCode, body, nil
}

// getJSON requests path, wants a 2xx, and decodes the JSON body into out.
func (e endpoint) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	status, body, err := e.get(ctx, path, q, nil)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return &HTTPError{Method: http.MethodGet, URL: e.url(path, q), Status: status, Body: excerpt(body)}
	}
	return decodeJSON(e.url(path, q), body, out)
}

func decodeJSON(shownURL string, body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return &HTTPError{Method: http.MethodGet, URL: shownURL, Reason: "the body is not the JSON this API answers (" + err.Error() + ")", Body: excerpt(body)}
	}
	return nil
}

// excerpt is the start of a body on one line, for an error message.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, []byte("?")))), " ")
	if len(s) > excerptLen {
		s = s[:excerptLen] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// unreachableWhy says in plain words why a call got no answer.
func unreachableWhy(ctx context.Context, err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing listens there (connection refused)"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the host name %q does not resolve", dnsErr.Name)
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "no answer before the deadline"
	case errors.Is(ctx.Err(), context.Canceled):
		return "cancelled"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "no answer within the client's timeout"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return "the connection was closed without an HTTP answer (is this port an HTTP server?)"
	}
	return rootCause(err).Error()
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
