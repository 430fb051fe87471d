//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Clients for the services and for the query APIs of the three backends.

var client = &http.Client{Timeout: 10 * time.Second}

// eventually polls check until it returns nil; at the deadline the test fails with the last error.
// It is the only way these tests wait: every signal arrives asynchronously.
func eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
		}
		<-tick.C
	}
}

// ---- the services ----

type response struct {
	status  int
	header  http.Header
	body    []byte
	traceID string // from the traceresponse header
}

var traceresponse = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)

func do(t testing.TB, method, u string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if m := traceresponse.FindStringSubmatch(resp.Header.Get("traceresponse")); m != nil {
		r.traceID = m[1]
	}
	return r
}

// get requests a frontend path and returns the response; it fails the test when the response
// has no traceresponse header, since every test follows its request by trace id.
func get(t testing.TB, path string) response {
	t.Helper()
	r := do(t, http.MethodGet, "http://"+stk.frontend+path, nil)
	if r.traceID == "" {
		t.Fatalf("GET %s: no valid traceresponse header (got %q); status %d, body %s",
			path, r.header.Get("traceresponse"), r.status, r.body)
	}
	return r
}

// getOK is get that also wants a 200.
func getOK(t testing.TB, path string) response {
	t.Helper()
	r := get(t, path)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body %s", path, r.status, r.body)
	}
	return r
}

// checkErrorBody asserts the contract's error shape: {"error":"...","status":N,"trace_id":"..."}.
func checkErrorBody(t testing.TB, r response) {
	t.Helper()
	var body struct {
		Error   string `json:"error"`
		Status  int    `json:"status"`
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Errorf("error body %s: %v", r.body, err)
		return
	}
	if body.Error == "" || body.Status != r.status || body.TraceID != r.traceID {
		t.Errorf("error body %s: want a message, status %d and trace_id %s", r.body, r.status, r.traceID)
	}
}

// setFaults changes the database's runtime faults and restores "no faults" when the test ends.
func setFaults(t testing.TB, faults map[string]any) {
	t.Helper()
	put := func(f map[string]any) {
		r := do(t, http.MethodPut, "http://"+stk.database+"/admin/faults", f)
		if r.status/100 != 2 {
			t.Fatalf("PUT /admin/faults %v: status %d, body %s", f, r.status, r.body)
		}
	}
	t.Cleanup(func() { put(map[string]any{"latency": "0s", "jitter": "0s", "error_rate": 0}) })
	put(faults)
}

// ---- Prometheus ----

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) float() float64 {
	str, _ := s.Value[1].(string)
	f, _ := strconv.ParseFloat(str, 64)
	return f
}

func getJSON(u string, out any) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(b))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("GET %s: %v in %.300s", u, err, b)
	}
	return nil
}

// promQuery runs an instant PromQL query through /api/v1/query.
func promQuery(q string) ([]promSample, error) {
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promSample `json:"result"`
		} `json:"data"`
	}
	if err := getJSON("http://"+stk.prometheus+"/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", q, r.Data.ResultType)
	}
	return r.Data.Result, nil
}

// promSum is sum(q), 0 when q selects nothing.
func promSum(t testing.TB, q string) float64 {
	t.Helper()
	v, err := promSumErr(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func promSumErr(q string) (float64, error) {
	res, err := promQuery("sum(" + q + ")")
	if err != nil {
		return 0, err
	}
	if len(res) == 0 {
		return 0, nil
	}
	return res[0].float(), nil
}

// waitRises polls until sum(q) is above before.
func waitRises(t testing.TB, q string, before float64) {
	t.Helper()
	eventually(t, 20*time.Second, "sum("+q+") rises above "+fmt.Sprint(before), func() error {
		v, err := promSumErr(q)
		if err != nil {
			return err
		}
		if v <= before {
			return fmt.Errorf("still %v", v)
		}
		return nil
	})
}

// waitScraped waits until Prometheus has scraped every service after this call, so that a
// value read next includes everything the services counted before it.
func waitScraped(t testing.TB) {
	t.Helper()
	since := float64(time.Now().UnixMilli()) / 1000
	eventually(t, 15*time.Second, "a fresh scrape of every service", func() error {
		res, err := promQuery(`timestamp(up{job=~"frontend|backend|database"})`)
		if err != nil {
			return err
		}
		fresh := map[string]bool{}
		for _, s := range res {
			if s.float() > since {
				fresh[s.Metric["job"]] = true
			}
		}
		if len(fresh) != 3 {
			return fmt.Errorf("scraped since %.3f: %v", since, fresh)
		}
		return nil
	})
}

type exemplarSeries struct {
	SeriesLabels map[string]string `json:"seriesLabels"`
	Exemplars    []struct {
		Labels    map[string]string `json:"labels"`
		Value     string            `json:"value"`
		Timestamp float64           `json:"timestamp"`
	} `json:"exemplars"`
}

// promExemplars reads /api/v1/query_exemplars for the last 10 minutes.
func promExemplars(q string) ([]exemplarSeries, error) {
	now := time.Now()
	v := url.Values{
		"query": {q},
		"start": {strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)},
		"end":   {strconv.FormatInt(now.Add(time.Minute).Unix(), 10)},
	}
	var r struct {
		Status string           `json:"status"`
		Error  string           `json:"error"`
		Data   []exemplarSeries `json:"data"`
	}
	if err := getJSON("http://"+stk.prometheus+"/api/v1/query_exemplars?"+v.Encode(), &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("exemplars %s: %s", q, r.Error)
	}
	return r.Data, nil
}

// ---- Jaeger ----

type jaegerTag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	ProcessID string      `json:"processID"`
	Tags      []jaegerTag `json:"tags"`
	Duration  int64       `json:"duration"` // microseconds

	service string // filled from the trace's processes
}

func (s jaegerSpan) tag(key string) (string, bool) {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value), true
		}
	}
	return "", false
}

func (s jaegerSpan) duration() time.Duration { return time.Duration(s.Duration) * time.Microsecond }

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// kind is the OpenTelemetry span kind as Jaeger reports it: server, client, internal, ...
func (s jaegerSpan) kind() string {
	k, _ := s.tag("span.kind")
	if k == "" {
		return "internal"
	}
	return k
}

// failed: the span has the OpenTelemetry error status.
func (s jaegerSpan) failed() bool {
	if v, _ := s.tag("otel.status_code"); v == "ERROR" {
		return true
	}
	v, _ := s.tag("error")
	return v == "true"
}

func (s jaegerSpan) String() string {
	return fmt.Sprintf("%s/%s(%s)", s.service, s.OperationName, s.kind())
}

type jaegerTrace struct {
	Spans []jaegerSpan
}

// byName returns the spans with that operation name.
func (tr jaegerTrace) byName(name string) []jaegerSpan {
	var out []jaegerSpan
	for _, s := range tr.Spans {
		if s.OperationName == name {
			out = append(out, s)
		}
	}
	return out
}

func (tr jaegerTrace) span(id string) (jaegerSpan, bool) {
	for _, s := range tr.Spans {
		if s.SpanID == id {
			return s, true
		}
	}
	return jaegerSpan{}, false
}

func (tr jaegerTrace) String() string {
	var names []string
	for _, s := range tr.Spans {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// fetchTrace reads one trace through Jaeger's /api/traces/{id}.
func fetchTrace(traceID string) (jaegerTrace, error) {
	var r struct {
		Data []struct {
			TraceID   string       `json:"traceID"`
			Spans     []jaegerSpan `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := getJSON("http://"+stk.jaegerQuery+"/api/traces/"+traceID, &r); err != nil {
		return jaegerTrace{}, err
	}
	if len(r.Data) != 1 {
		return jaegerTrace{}, fmt.Errorf("trace %s: %d traces in the answer", traceID, len(r.Data))
	}
	tr := jaegerTrace{Spans: r.Data[0].Spans}
	for i := range tr.Spans {
		tr.Spans[i].service = r.Data[0].Processes[tr.Spans[i].ProcessID].ServiceName
	}
	return tr, nil
}

// waitTrace polls Jaeger until the trace has spans with every one of the names.
func waitTrace(t testing.TB, traceID string, names ...string) jaegerTrace {
	t.Helper()
	var tr jaegerTrace
	eventually(t, 20*time.Second, "trace "+traceID+" in Jaeger", func() error {
		var err error
		if tr, err = fetchTrace(traceID); err != nil {
			return err
		}
		for _, n := range names {
			if len(tr.byName(n)) == 0 {
				return fmt.Errorf("no span %q yet; have %s", n, tr)
			}
		}
		return nil
	})
	return tr
}

// ---- VictoriaLogs ----

// logLine is one stored log entry: its fields as VictoriaLogs returns them (_msg, _time,
// _stream, the stream labels, the structured metadata and the fields parsed from the JSON line).
type logLine map[string]string

func (l logLine) String() string {
	return fmt.Sprintf("%s/%s: %s", l["service"], l["level"], l["_msg"])
}

// queryLogs runs a LogsQL query through /select/logsql/query over all stored logs.
func queryLogs(q string) ([]logLine, error) {
	v := url.Values{"query": {q}}
	resp, err := client.Get("http://" + stk.victoriaLogs + "/select/logsql/query?" + v.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("logsql %s: %s: %s", q, resp.Status, bytes.TrimSpace(b))
	}
	var lines []logLine
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("logsql %s: %v in %.300s", q, err, sc.Bytes())
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}

// logsOfTrace is the LogsQL query for the lines of one trace.
func logsOfTrace(traceID string) string { return fmt.Sprintf("trace_id:=%q", traceID) }
