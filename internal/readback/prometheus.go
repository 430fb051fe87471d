package readback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Prometheus reads metrics through Prometheus' HTTP API (/api/v1/query, query_range,
// query_exemplars, series, alerts, status/buildinfo) with client_golang's API client
// (api/prometheus/v1); this type keeps the answers in the shapes its callers use and says
// what went wrong in their terms: which URL, what it answered, or that nothing did.
type Prometheus struct {
	ep  endpoint
	api v1.API
}

// NewPrometheus returns a client of the Prometheus HTTP API at baseURL; a nil client means one
// with DefaultTimeout. Credentials in the URL are sent as basic auth.
func NewPrometheus(baseURL string, client *http.Client) (*Prometheus, error) {
	ep, err := newEndpoint("Prometheus", baseURL, client)
	if err != nil {
		return nil, err
	}
	watched := *ep.client
	watched.Transport = answerRecorder{next: ep.client.Transport}
	c, err := api.NewClient(api.Config{Address: ep.base.String(), Client: &watched})
	if err != nil {
		return nil, fmt.Errorf("Prometheus URL %q: %w", ep.String(), err)
	}
	return &Prometheus{ep: ep, api: v1.NewAPI(c)}, nil
}

// URL is the base URL, without credentials.
func (p *Prometheus) URL() string { return p.ep.String() }

// Sample is one value of an instant vector (or the one value of a scalar).
type Sample struct {
	Metric map[string]string
	Time   time.Time
	Value  float64
}

// Series is one series of a range query.
type Series struct {
	Metric map[string]string
	Points []Point
}

// Point is one value at one time.
type Point struct {
	Time  time.Time
	Value float64
}

// Exemplar is one exemplar Prometheus stored: its labels (trace_id for the pillars services
// and Tempo's generated metrics), value and time.
type Exemplar struct {
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// ExemplarSeries is the exemplars of one series.
type ExemplarSeries struct {
	SeriesLabels map[string]string
	Exemplars    []Exemplar
}

// BuildInfo is what /api/v1/status/buildinfo says.
type BuildInfo struct {
	Version, Revision, GoVersion string
}

// Ping wants /api/v1/status/buildinfo to answer like Prometheus and returns what it says.
func (p *Prometheus) Ping(ctx context.Context) (BuildInfo, error) {
	ctx, ans := recordAnswer(ctx)
	d, err := p.api.Buildinfo(ctx)
	if err != nil {
		return BuildInfo{}, notLike(p.URL(), "Prometheus", p.fail(ctx, ans, "/api/v1/status/buildinfo", nil, err))
	}
	// A Prometheus built with plain `go install` reports an empty version, but always the Go
	// version it was built with.
	if d.Version == "" && d.GoVersion == "" {
		return BuildInfo{}, fmt.Errorf("%s does not answer like Prometheus: no build information in /api/v1/status/buildinfo", p.URL())
	}
	return BuildInfo{Version: d.Version, Revision: d.Revision, GoVersion: d.GoVersion}, nil
}

// Query runs an instant query; a zero at means now.
func (p *Prometheus) Query(ctx context.Context, query string, at time.Time) ([]Sample, error) {
	q := url.Values{"query": {query}}
	if !at.IsZero() {
		q.Set("time", promTime(at))
	}
	ctx, ans := recordAnswer(ctx)
	v, _, _, err := p.api.Query(ctx, query, at)
	if err != nil {
		return nil, p.fail(ctx, ans, "/api/v1/query", q, err)
	}
	switch v := v.(type) {
	case model.Vector:
		out := make([]Sample, len(v))
		for i, s := range v {
			out[i] = Sample{Metric: labelMap(model.LabelSet(s.Metric)), Time: s.Timestamp.Time(), Value: float64(s.Value)}
		}
		return out, nil
	case *model.Scalar:
		return []Sample{{Metric: map[string]string{}, Time: v.Timestamp.Time(), Value: float64(v.Value)}}, nil
	}
	return nil, &HTTPError{Method: ans.method(), URL: p.ep.url("/api/v1/query", q), Reason: "result type " + strconv.Quote(v.Type().String()) + ", want vector or scalar"}
}

// Sum is sum(query) now: 0 when the query selects nothing.
func (p *Prometheus) Sum(ctx context.Context, query string) (float64, error) {
	res, err := p.Query(ctx, "sum("+query+")", time.Time{})
	if err != nil || len(res) == 0 {
		return 0, err
	}
	return res[0].Value, nil
}

// QueryRange runs a range query.
func (p *Prometheus) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	q := url.Values{"query": {query}, "start": {promTime(start)}, "end": {promTime(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	ctx, ans := recordAnswer(ctx)
	v, _, _, err := p.api.QueryRange(ctx, query, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, p.fail(ctx, ans, "/api/v1/query_range", q, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, &HTTPError{Method: ans.method(), URL: p.ep.url("/api/v1/query_range", q), Reason: "result type " + strconv.Quote(v.Type().String()) + ", want matrix"}
	}
	out := make([]Series, len(m))
	for i, s := range m {
		out[i] = Series{Metric: labelMap(model.LabelSet(s.Metric)), Points: make([]Point, len(s.Values))}
		for j, pt := range s.Values {
			out[i].Points[j] = Point{Time: pt.Timestamp.Time(), Value: float64(pt.Value)}
		}
	}
	return out, nil
}

// Exemplars reads /api/v1/query_exemplars for the series query selects between start and end.
func (p *Prometheus) Exemplars(ctx context.Context, query string, start, end time.Time) ([]ExemplarSeries, error) {
	q := url.Values{"query": {query}, "start": {promTime(start)}, "end": {promTime(end)}}
	ctx, ans := recordAnswer(ctx)
	res, err := p.api.QueryExemplars(ctx, query, start, end)
	if err != nil {
		return nil, p.fail(ctx, ans, "/api/v1/query_exemplars", q, err)
	}
	out := make([]ExemplarSeries, len(res))
	for i, s := range res {
		out[i] = ExemplarSeries{SeriesLabels: labelMap(s.SeriesLabels), Exemplars: make([]Exemplar, len(s.Exemplars))}
		for j, e := range s.Exemplars {
			out[i].Exemplars[j] = Exemplar{Labels: labelMap(e.Labels), Value: float64(e.Value), Time: e.Timestamp.Time()}
		}
	}
	return out, nil
}

// Series reads /api/v1/series: the label sets of the series any of match selects.
func (p *Prometheus) Series(ctx context.Context, match []string, start, end time.Time) ([]map[string]string, error) {
	q := url.Values{"match[]": match}
	if !start.IsZero() {
		q.Set("start", promTime(start))
	}
	if !end.IsZero() {
		q.Set("end", promTime(end))
	}
	ctx, ans := recordAnswer(ctx)
	res, _, _, err := p.api.Series(ctx, match, start, end)
	if err != nil {
		return nil, p.fail(ctx, ans, "/api/v1/series", q, err)
	}
	out := make([]map[string]string, len(res))
	for i, ls := range res {
		out[i] = labelMap(ls)
	}
	return out, nil
}

// Alert is one alert Prometheus holds active: pending (its condition is true, its `for` not
// over yet) or firing.
type Alert struct {
	Labels      map[string]string
	Annotations map[string]string
	State       string // pending, firing
	ActiveAt    time.Time
	Value       float64
}

// Name is the alertname label.
func (a Alert) Name() string { return a.Labels["alertname"] }

// Alerts reads /api/v1/alerts: every alert pending or firing now.
func (p *Prometheus) Alerts(ctx context.Context) ([]Alert, error) {
	ctx, ans := recordAnswer(ctx)
	res, err := p.api.Alerts(ctx)
	if err != nil {
		return nil, p.fail(ctx, ans, "/api/v1/alerts", nil, err)
	}
	out := make([]Alert, len(res.Alerts))
	for i, a := range res.Alerts {
		out[i] = Alert{Labels: labelMap(a.Labels), Annotations: labelMap(a.Annotations), State: string(a.State), ActiveAt: a.ActiveAt}
		// The value is the sample of the alert's expression, written as a float ("1.5e+01").
		if v, err := strconv.ParseFloat(a.Value, 64); err == nil {
			out[i].Value = v
		}
	}
	return out, nil
}

func labelMap(ls model.LabelSet) map[string]string {
	out := make(map[string]string, len(ls))
	for k, v := range ls {
		out[string(k)] = string(v)
	}
	return out
}

// fail says in the caller's terms why a call failed: the API's own error (bad_data: parse
// error ...) with the status and the start of the body that carried it, an answer that is not
// the API's, or no answer at all.
func (p *Prometheus) fail(ctx context.Context, ans *answer, path string, q url.Values, err error) error {
	shown := p.ep.url(path, q)
	if ans.status == 0 {
		return NewUnreachableError(ctx, ans.method(), shown, err)
	}
	he := &HTTPError{Method: ans.method(), URL: shown, Body: excerpt(ans.head.Bytes())}
	if ans.status/100 != 2 {
		he.Status = ans.status
	}
	if apiErr, ok := errors.AsType[*v1.Error](err); ok {
		switch env := errorEnvelope(apiErr.Detail); {
		case env.Status == "error":
			// The API's own error under a status the client takes for a generic one (503).
			he.Reason, he.Body = env.ErrorType+": "+env.Error, ""
		case apiErr.Type == v1.ErrBadResponse || apiErr.Type == v1.ErrClient || apiErr.Type == v1.ErrServer:
			// Not the API's envelope: the status and the body say what came back instead.
			he.Reason = `not the Prometheus API's {"status":...,"data":...}`
		default:
			he.Reason, he.Body = string(apiErr.Type)+": "+apiErr.Msg, ""
		}
	} else {
		he.Reason = "the answer broke off: " + rootCause(err).Error() // never the URL with its credentials
	}
	return he
}

func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// errorEnvelope reads the API's error envelope out of a body, if it is one.
func errorEnvelope(body string) (env struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}) {
	_ = json.Unmarshal([]byte(body), &env)
	return env
}

// answer is what the HTTP exchange of one call answered, recorded by answerRecorder for the
// error message: the API client keeps neither the status nor the body of a failed call.
type answer struct {
	mu     sync.Mutex
	verb   string // GET or POST: the client posts queries, and falls back to GET
	status int    // 0: no answer
	head   bytes.Buffer
}

func (a *answer) method() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.verb == "" {
		return http.MethodGet
	}
	return a.verb
}

type answerKey struct{}

// recordAnswer returns ctx carrying a new answer that the transport fills.
func recordAnswer(ctx context.Context) (context.Context, *answer) {
	a := &answer{}
	return context.WithValue(ctx, answerKey{}, a), a
}

// answerRecorder is the API client's transport: it records the method, the status and the
// first bytes of the body of each answer into the request's answer, and bounds the body at
// maxBody, so that a backend gone wrong cannot fill the memory of the one asking.
type answerRecorder struct{ next http.RoundTripper }

func (r answerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	next := r.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	a, _ := req.Context().Value(answerKey{}).(*answer)
	if err != nil || a == nil {
		return resp, err
	}
	a.mu.Lock()
	a.verb, a.status = req.Method, resp.StatusCode
	a.head.Reset()
	a.mu.Unlock()
	resp.Body = &recordedBody{body: resp.Body, rest: io.LimitReader(resp.Body, maxBody), a: a}
	return resp, nil
}

// recordedBody copies the first excerptLen bytes read into the answer.
type recordedBody struct {
	body io.Closer
	rest io.Reader
	a    *answer
}

func (b *recordedBody) Read(p []byte) (int, error) {
	n, err := b.rest.Read(p)
	b.a.mu.Lock()
	if room := excerptLen - b.a.head.Len(); room > 0 {
		b.a.head.Write(p[:min(n, room)])
	}
	b.a.mu.Unlock()
	return n, err
}

func (b *recordedBody) Close() error { return b.body.Close() }
