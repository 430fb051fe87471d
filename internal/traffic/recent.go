package traffic

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// RecentSize is how many of the generator's last requests it remembers for the console.
const RecentSize = 50

// Sent is one request the generator sent, as the console lists it: what was asked, what came
// back, how long it took, and the trace the frontend made of it.
type Sent struct {
	At   time.Time `json:"at"`
	Path string    `json:"path"` // the generator's own, from a bounded set of shapes
	// Status is the answer's status code, 0 when there was no answer.
	Status     int     `json:"status"`
	Outcome    string  `json:"outcome"`
	DurationMS float64 `json:"duration_ms"`
	// TraceID is the frontend's trace of the request, from its traceresponse header.
	TraceID string `json:"trace_id,omitempty"`
}

// recentRing keeps the last RecentSize requests, oldest overwritten first.
type recentRing struct {
	mu   sync.Mutex
	buf  [RecentSize]Sent
	next int
	n    int
}

func (r *recentRing) add(s Sent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = s
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// list returns the requests remembered, newest first.
func (r *recentRing) list() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Sent, 0, r.n)
	for i := 1; i <= r.n; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}

// Recent returns the generator's last requests (at most RecentSize), newest first.
func (g *Generator) Recent() []Sent { return g.recent.list() }

// sent describes a request sent at start: resp is nil when there was no answer.
func sent(start time.Time, path string, resp *http.Response, o outcome) Sent {
	s := Sent{
		At:         start,
		Path:       path,
		Outcome:    outcomeNames[o],
		DurationMS: float64(time.Since(start).Microseconds()) / 1000,
	}
	if resp != nil {
		s.Status = resp.StatusCode
		s.TraceID = traceIDOf(resp.Header.Get("traceresponse"))
	}
	return s
}

// traceIDOf reads the trace id of a W3C traceresponse header
// (version-traceid-spanid-flags, lowercase hex), "" when it is not one.
func traceIDOf(header string) string {
	parts := strings.Split(header, "-")
	if len(parts) != 4 {
		return ""
	}
	for i, n := range []int{2, 32, 16, 2} {
		if len(parts[i]) != n || strings.Trim(parts[i], "0123456789abcdef") != "" {
			return ""
		}
	}
	if strings.Trim(parts[1], "0") == "" {
		return "" // the invalid all-zero id
	}
	return parts[1]
}

// outcomeOf is the outcome of an answer with status.
func outcomeOf(status int) outcome {
	switch {
	case status < 400:
		return outcomeOK
	case status < 500:
		return outcomeClientError
	}
	return outcomeServerError
}
