package readback

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Prometheus reads metrics through Prometheus' HTTP API: /api/v1/query, /api/v1/query_range,
// /api/v1/query_exemplars, /api/v1/series, /api/v1/alerts.
type Prometheus struct{ ep endpoint }

// NewPrometheus returns a client of the Prometheus HTTP API at baseURL; a nil client means one
// with DefaultTimeout.
func NewPrometheus(baseURL string, client *http.Client) (*Prometheus, error) {
	ep, err := newEndpoint("Prometheus", baseURL, client)
	if err != nil {
		return nil, err
	}
	return &Prometheus{ep: ep}, nil
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

// apiEnvelope is every answer of the Prometheus API, success or error.
type apiEnvelope struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// call requests path and returns the data of a successful answer. A failed query is answered
// 4xx/5xx with an error in the envelope; that error is what the message shows.
func (p *Prometheus) call(ctx context.Context, path string, q url.Values, data any) error {
	shown := p.ep.url(path, q)
	status, body, err := p.ep.get(ctx, path, q, nil)
	if err != nil {
		return err
	}
	var env apiEnvelope
	if jerr := json.Unmarshal(body, &env); jerr != nil || env.Status == "" {
		if status/100 != 2 {
			return &HTTPError{Method: http.MethodGet, URL: shown, Status: status, Body: excerpt(body)}
		}
		return &HTTPError{Method: http.MethodGet, URL: shown, Reason: `not the Prometheus API's {"status":...,"data":...}`, Body: excerpt(body)}
	}
	if env.Status != "success" {
		return &HTTPError{Method: http.MethodGet, URL: shown, Status: status, Reason: env.ErrorType + ": " + env.Error}
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return &HTTPError{Method: http.MethodGet, URL: shown, Reason: "unexpected data (" + err.Error() + ")", Body: excerpt(env.Data)}
	}
	return nil
}

// Ping wants /api/v1/status/buildinfo to answer like Prometheus and returns what it says.
func (p *Prometheus) Ping(ctx context.Context) (BuildInfo, error) {
	var d struct {
		Version   string `json:"version"`
		Revision  string `json:"revision"`
		GoVersion string `json:"goVersion"`
	}
	if err := p.call(ctx, "/api/v1/status/buildinfo", nil, &d); err != nil {
		return BuildInfo{}, notLike(p.URL(), "Prometheus", err)
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
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.call(ctx, "/api/v1/query", q, &d); err != nil {
		return nil, err
	}
	shown := p.ep.url("/api/v1/query", q)
	switch d.ResultType {
	case "vector":
		var res []struct {
			Metric map[string]string `json:"metric"`
			Value  promPoint         `json:"value"`
		}
		if err := json.Unmarshal(d.Result, &res); err != nil {
			return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: err.Error()}
		}
		out := make([]Sample, len(res))
		for i, r := range res {
			out[i] = Sample{Metric: r.Metric, Time: r.Value.Time, Value: r.Value.Value}
		}
		return out, nil
	case "scalar":
		var pt promPoint
		if err := json.Unmarshal(d.Result, &pt); err != nil {
			return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: err.Error()}
		}
		return []Sample{{Metric: map[string]string{}, Time: pt.Time, Value: pt.Value}}, nil
	}
	return nil, &HTTPError{Method: http.MethodGet, URL: shown, Reason: "result type " + strconv.Quote(d.ResultType) + ", want vector or scalar"}
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
	var d struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Values []promPoint       `json:"values"`
		} `json:"result"`
	}
	if err := p.call(ctx, "/api/v1/query_range", q, &d); err != nil {
		return nil, err
	}
	if d.ResultType != "matrix" {
		return nil, &HTTPError{Method: http.MethodGet, URL: p.ep.url("/api/v1/query_range", q), Reason: "result type " + strconv.Quote(d.ResultType) + ", want matrix"}
	}
	out := make([]Series, len(d.Result))
	for i, r := range d.Result {
		out[i] = Series{Metric: r.Metric, Points: make([]Point, len(r.Values))}
		for j, v := range r.Values {
			out[i].Points[j] = Point(v)
		}
	}
	return out, nil
}

// Exemplars reads /api/v1/query_exemplars for the series query selects between start and end.
func (p *Prometheus) Exemplars(ctx context.Context, query string, start, end time.Time) ([]ExemplarSeries, error) {
	q := url.Values{"query": {query}, "start": {promTime(start)}, "end": {promTime(end)}}
	var d []struct {
		SeriesLabels map[string]string `json:"seriesLabels"`
		Exemplars    []struct {
			Labels    map[string]string `json:"labels"`
			Value     string            `json:"value"`
			Timestamp float64           `json:"timestamp"`
		} `json:"exemplars"`
	}
	if err := p.call(ctx, "/api/v1/query_exemplars", q, &d); err != nil {
		return nil, err
	}
	out := make([]ExemplarSeries, len(d))
	for i, s := range d {
		out[i] = ExemplarSeries{SeriesLabels: s.SeriesLabels, Exemplars: make([]Exemplar, len(s.Exemplars))}
		for j, e := range s.Exemplars {
			v, err := strconv.ParseFloat(e.Value, 64)
			if err != nil {
				return nil, &HTTPError{Method: http.MethodGet, URL: p.ep.url("/api/v1/query_exemplars", q), Reason: "exemplar value " + strconv.Quote(e.Value)}
			}
			out[i].Exemplars[j] = Exemplar{Labels: e.Labels, Value: v, Time: floatTime(e.Timestamp)}
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
	var d []map[string]string
	if err := p.call(ctx, "/api/v1/series", q, &d); err != nil {
		return nil, err
	}
	return d, nil
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
	var d struct {
		Alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			State       string            `json:"state"`
			ActiveAt    *time.Time        `json:"activeAt"`
			Value       string            `json:"value"`
		} `json:"alerts"`
	}
	if err := p.call(ctx, "/api/v1/alerts", nil, &d); err != nil {
		return nil, err
	}
	out := make([]Alert, len(d.Alerts))
	for i, a := range d.Alerts {
		out[i] = Alert{Labels: a.Labels, Annotations: a.Annotations, State: a.State}
		if a.ActiveAt != nil {
			out[i].ActiveAt = *a.ActiveAt
		}
		// The value is the sample of the alert's expression, written as a float ("1.5e+01").
		if v, err := strconv.ParseFloat(a.Value, 64); err == nil {
			out[i].Value = v
		}
	}
	return out, nil
}

// promPoint is [<unix seconds as a number>, "<value as a string>"].
type promPoint Point

func (pt *promPoint) UnmarshalJSON(b []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("sample %s: %w", b, err)
	}
	var ts float64
	if err := json.Unmarshal(raw[0], &ts); err != nil {
		return fmt.Errorf("sample time %s: %w", raw[0], err)
	}
	var s string
	if err := json.Unmarshal(raw[1], &s); err != nil {
		return fmt.Errorf("sample value %s: %w", raw[1], err)
	}
	v, err := strconv.ParseFloat(s, 64) // also "NaN", "+Inf", "-Inf"
	if err != nil {
		return fmt.Errorf("sample value %q: %w", s, err)
	}
	pt.Time, pt.Value = floatTime(ts), v
	return nil
}

func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func floatTime(sec float64) time.Time {
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e3))*int64(time.Millisecond))
}
