package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func post(t *testing.T, url, contentType string, body []byte) *http.Response {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func readStats(t *testing.T, url string) Stats {
	t.Helper()
	resp, err := http.Get(url + StatsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSinkCountsExactBytes(t *testing.T) {
	s, err := New("", "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	spans := bytes.Repeat([]byte{0x0a, 0x01}, 1000) // 2000 bytes
	if resp := post(t, srv.URL+TracesPath, "application/x-protobuf", spans); resp.StatusCode != http.StatusOK {
		t.Fatalf("traces: %s", resp.Status)
	}
	post(t, srv.URL+TracesPath, "application/x-protobuf", spans[:7])
	if resp := post(t, srv.URL+LokiPath, "application/x-protobuf", []byte("snappy!")); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("loki: %s", resp.Status)
	}
	if resp := post(t, srv.URL+"/elsewhere", "text/plain", []byte("x")); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown path: %s", resp.Status)
	}
	got := readStats(t, srv.URL)
	want := Stats{OTLPBytes: 2007, OTLPRequests: 2, LokiBytes: 7, LokiRequests: 1}
	if got != want {
		t.Fatalf("stats = %+v, want %+v", got, want)
	}
	if d := got.Sub(Stats{OTLPBytes: 7, OTLPRequests: 1}); d.OTLPBytes != 2000 || d.OTLPRequests != 1 || d.LokiBytes != 7 {
		t.Fatalf("Sub = %+v", d)
	}
}

// TestSinkForwards: in the second mode the sink stands in front of the real backend and
// still counts; the backend receives the very bytes, at the path and query it was given.
func TestSinkForwards(t *testing.T) {
	var gotPath, gotQuery, gotEncoding string
	var gotBody []byte
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery, gotEncoding = r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Encoding")
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer upstream.Close()
	s, err := New(upstream.URL, upstream.URL+"/insert/loki/api/v1/push?_msg_field=line.msg")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+LokiPath, strings.NewReader("compressed"))
	req.Header.Set("Content-Encoding", "snappy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || gotPath != "/insert/loki/api/v1/push" || gotQuery != "_msg_field=line.msg" ||
		string(gotBody) != "compressed" || gotEncoding != "snappy" {
		t.Fatalf("forwarded %s ?%s %q (%s), answered %s", gotPath, gotQuery, gotBody, gotEncoding, resp.Status)
	}
	post(t, srv.URL+TracesPath, "application/x-protobuf", []byte("spans"))
	if gotPath != "/v1/traces" || string(gotBody) != "spans" {
		t.Fatalf("traces forwarded to %s with %q", gotPath, gotBody)
	}
	if st := s.Stats(); st.LokiBytes != 10 || st.OTLPBytes != 5 || st.LokiRequests != 1 || st.OTLPRequests != 1 || st.ForwardErrors != 0 {
		t.Fatalf("stats = %+v", st)
	}
	// A backend that is gone: the push fails upstream, and the sink says so.
	upstream.Close()
	if resp := post(t, srv.URL+TracesPath, "application/x-protobuf", []byte("spans")); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("push to a closed backend: %s", resp.Status)
	}
	if st := s.Stats(); st.ForwardErrors != 1 {
		t.Fatalf("forward errors = %d, want 1", st.ForwardErrors)
	}
}

func TestScrapeAsksForOpenMetricsAndCounts(t *testing.T) {
	const page = "# TYPE x counter\nx_total 1\n# EOF\n"
	var accepted atomic.Value
	var n atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accepted.Store(r.Header.Get("Accept"))
		n.Add(1)
		_, _ = io.WriteString(w, page)
	}))
	defer target.Close()
	s, _ := New("", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Scrape(ctx, []string{target.URL + "/metrics", target.URL + "/metrics"}, time.Hour)
	}()
	// The first round of scrapes happens at once; wait for both, then stop.
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Scrapes < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	st := s.Stats()
	// Two scrapes of one target: the size of one scrape of everything is one page.
	if st.Scrapes != 2 || st.ScrapeBytes != int64(2*len(page)) || st.ScrapeSize != int64(len(page)) || st.ScrapeErrors != 0 || n.Load() != 2 {
		t.Fatalf("stats = %+v after %d scrapes", st, n.Load())
	}
	if a, _ := accepted.Load().(string); !strings.HasPrefix(a, "application/openmetrics-text") {
		t.Fatalf("Accept = %q", a)
	}
}
