package verify

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// request is one request verify sent, and what its signals must show.
type request struct {
	name string // "cache miss", ...
	path string
	// sentTraceID and sentSpanID are the traceparent verify sent. Sending one makes the trace
	// id known before the request, keeps the request sampled under a parent-based sampler, and
	// lets one request carry a trace id with leading zeros, which some stores print without.
	sentTraceID, sentSpanID string

	ok      bool   // answered as expected; the signal checks run only then
	traceID string // from the traceresponse header (the sent id, unless the frontend ignored it)
	status  int
	cache   string // "hit" or "miss" from the JSON answer
	errText string // the error message of a failing request's JSON answer
	shape   shape  // what its trace must look like
}

// The seed data has users 1…5000 and products 1…1000; users from 900000 on never exist.
const (
	seedUsers       = 5000
	seedProducts    = 1000
	missingUser     = 999999
	maxMissAttempts = 20
)

var traceresponseHeader = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)

// sendRequests sends the four requests in order: a user until one is answered from the
// database, the same user again (from the cache), a product from the database, and a user
// who does not exist.
func (r *runner) sendRequests(ctx context.Context) []Check {
	miss := &request{name: "cache miss"}
	hit := &request{name: "cache hit"}
	product := &request{name: "product"}
	failing := &request{name: "failing request"}
	r.requests = []*request{miss, hit, product, failing}

	checks := make([]Check, 0, 4)
	c := r.sendUntilMiss(ctx, miss, "/user/%d", seedUsers, userShape)
	checks = append(checks, c)
	if miss.ok {
		hit.path = miss.path
		checks = append(checks, r.send(ctx, hit, func(a answer) string {
			if a.status != http.StatusOK || a.cache != "hit" {
				return fmt.Sprintf("answered %d, cache %q: want 200 from the cache (is the cache TTL shorter than a second?)", a.status, a.cache)
			}
			return ""
		}, userShape))
	} else {
		checks = append(checks, Check{Signal: SignalRequests, Name: hit.name, Status: Skip, Detail: "not sent: the cache miss failed"})
	}
	checks = append(checks, r.sendUntilMiss(ctx, product, "/product/%d", seedProducts, productShape))
	failing.path = fmt.Sprintf("/user/%d", missingUser)
	checks = append(checks, r.send(ctx, failing, func(a answer) string {
		if a.status != http.StatusNotFound || a.errText == "" || a.bodyTraceID != a.traceID {
			return fmt.Sprintf("answered %d %s: want 404 with the error JSON {\"error\":…,\"trace_id\":…}", a.status, a.excerpt)
		}
		return ""
	}, userShape))
	return checks
}

// sendUntilMiss requests random ids until the backend answers from the database: the built-in
// traffic may have cached any id already.
func (r *runner) sendUntilMiss(ctx context.Context, req *request, pathFormat string, ids int, sh func(cache string) shape) Check {
	var c Check
	for attempt := range maxMissAttempts {
		req.path = fmt.Sprintf(pathFormat, 1+rand.IntN(ids))
		c = r.send(ctx, req, func(a answer) string {
			if a.status != http.StatusOK {
				return fmt.Sprintf("answered %d: want 200; body %s", a.status, a.excerpt)
			}
			if a.cache != "miss" {
				return fmt.Sprintf("answered from the cache %d times in a row", attempt+1)
			}
			return ""
		}, sh)
		if req.ok || req.status != http.StatusOK {
			return c
		}
	}
	return c
}

// answer is what the frontend said.
type answer struct {
	status               int
	traceID, bodyTraceID string
	cache, errText       string
	excerpt              string
}

// send requests req.path with a fresh traceparent and judges the answer with bad, which says
// what is wrong with it ("" when nothing is).
func (r *runner) send(ctx context.Context, req *request, bad func(answer) string, sh func(cache string) shape) Check {
	c := Check{Signal: SignalRequests, Name: req.name}
	// The first request's trace id starts with zeros: stores that print ids without them must
	// still be matched.
	req.sentTraceID, req.sentSpanID = newIDs(req.name == "cache miss")
	c.TraceID = req.sentTraceID
	a, err := r.get(ctx, req)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	req.status, req.traceID, req.cache, req.errText = a.status, a.traceID, a.cache, a.errText
	c.TraceID = a.traceID
	if a.traceID == "" {
		c.Status, c.Detail = Fail, fmt.Sprintf("GET %s answered %d without a valid traceresponse header: without the trace id nothing can be followed", req.path, a.status)
		return c
	}
	if why := bad(a); why != "" {
		c.Status, c.Detail = Fail, "GET "+req.path+" "+why
		return c
	}
	req.ok = true
	req.shape = sh(a.cache)
	c.Status = Pass
	c.Detail = fmt.Sprintf("GET %s answered %d", req.path, a.status)
	if a.cache != "" {
		c.Detail += ", cache " + a.cache
	}
	if a.traceID != req.sentTraceID {
		c.Detail += " (the frontend started its own trace instead of continuing the traceparent sent)"
	}
	return c
}

func (r *runner) get(ctx context.Context, req *request) (answer, error) {
	u := strings.TrimSuffix(r.cfg.FrontendURL, "/") + req.path
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return answer{}, fmt.Errorf("frontend URL %q: %v", r.cfg.FrontendURL, err)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("traceparent", "00-"+req.sentTraceID+"-"+req.sentSpanID+"-01")
	resp, err := r.client.Do(hr)
	if err != nil {
		return answer{}, readback.NewUnreachableError(ctx, http.MethodGet, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, fmt.Errorf("GET %s: reading the answer: %v", u, err)
	}
	a := answer{status: resp.StatusCode, excerpt: oneLine(string(body), 200)}
	if m := traceresponseHeader.FindStringSubmatch(resp.Header.Get("traceresponse")); m != nil {
		a.traceID = m[1]
	}
	var fields struct {
		Cache   string `json:"cache"`
		Error   string `json:"error"`
		TraceID string `json:"trace_id"`
	}
	if json.Unmarshal(body, &fields) == nil {
		a.cache, a.errText, a.bodyTraceID = fields.Cache, fields.Error, fields.TraceID
	}
	return a, nil
}

// newIDs makes a random trace id and span id; leadingZeros makes the trace id start with four
// zero digits.
func newIDs(leadingZeros bool) (traceID, spanID string) {
	b := make([]byte, 24)
	_, _ = crand.Read(b) // crypto/rand.Read never fails
	if leadingZeros {
		b[0], b[1] = 0, 0
	}
	if b[2] == 0 {
		b[2] = 1 // never all zeros
	}
	if b[16] == 0 {
		b[16] = 1
	}
	return hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:])
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
