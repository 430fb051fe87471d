// Package sink is where the services ship their telemetry during a benchmark: an OTLP/HTTP
// traces receiver and a Loki push receiver that read every body and throw it away, counting
// the bytes, and a scraper that reads /metrics as Prometheus would. What is measured is then
// the services' cost, not a backend's, and the volume shows that everything was shipped (an
// exporter that dropped spans under load would look cheaper).
//
// Given upstream URLs, the receivers forward each body to the real backend instead, still
// counting it: the benchmark's second mode, against the backends of `make up`.
package sink

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
)

// Paths the services push to: the SDK appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT, and
// the Loki push URL is passed whole.
const (
	TracesPath = "/v1/traces"
	LokiPath   = "/loki/api/v1/push"
	StatsPath  = "/stats"
)

// Stats are the counters of one sink since it started.
type Stats struct {
	OTLPBytes    int64 `json:"otlp_bytes"` // request bodies as sent: uncompressed protobuf unless the exporter compresses
	OTLPRequests int64 `json:"otlp_requests"`
	LokiBytes    int64 `json:"loki_bytes"` // snappy-compressed protobuf, as Loki clients send it
	LokiRequests int64 `json:"loki_requests"`
	ScrapeBytes  int64 `json:"scrape_bytes"`
	Scrapes      int64 `json:"scrapes"`
	ScrapeErrors int64 `json:"scrape_errors"`
	// ForwardErrors counts pushes the real backend refused or could not be reached for, in
	// the second mode.
	ForwardErrors int64 `json:"forward_errors"`
	// ScrapeSize is the latest scrape of every target, added up: the size of one scrape of
	// the whole deployment.
	ScrapeSize int64 `json:"scrape_size"`
}

// Sub returns s − o, the counts between two readings.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		OTLPBytes: s.OTLPBytes - o.OTLPBytes, OTLPRequests: s.OTLPRequests - o.OTLPRequests,
		LokiBytes: s.LokiBytes - o.LokiBytes, LokiRequests: s.LokiRequests - o.LokiRequests,
		ScrapeBytes: s.ScrapeBytes - o.ScrapeBytes, Scrapes: s.Scrapes - o.Scrapes,
		ScrapeErrors:  s.ScrapeErrors - o.ScrapeErrors,
		ForwardErrors: s.ForwardErrors - o.ForwardErrors,
		ScrapeSize:    s.ScrapeSize, // a size, not a count: the later reading stands
	}
}

// Sink counts what it receives. The zero value discards; set the upstreams to forward.
type Sink struct {
	traces, loki                         counter
	scrapeBytes, scrapes, scrapeFailures atomic.Int64
	forwardErrors                        atomic.Int64
	lastScrape                           sync.Map // target → bytes of its latest scrape
	tracesUpstream, lokiUpstream         *httputil.ReverseProxy
}

type counter struct{ bytes, requests atomic.Int64 }

// New returns a sink that forwards traces to tracesURL (an OTLP/HTTP base URL such as
// http://127.0.0.1:14318) and logs to lokiURL (a full push URL), or discards what has no
// upstream ("").
func New(tracesURL, lokiURL string) (*Sink, error) {
	s := &Sink{}
	var err error
	if tracesURL != "" {
		if s.tracesUpstream, err = proxyTo(tracesURL, TracesPath); err != nil {
			return nil, err
		}
	}
	if lokiURL != "" {
		if s.lokiUpstream, err = proxyTo(lokiURL, ""); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// proxyTo forwards to base, with suffix appended to its path.
func proxyTo(base, suffix string) (*httputil.ReverseProxy, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Path += suffix
	return &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.Out.URL.Scheme, pr.Out.URL.Host = u.Scheme, u.Host
		pr.Out.URL.Path, pr.Out.URL.RawPath, pr.Out.URL.RawQuery = u.Path, "", u.RawQuery
		pr.Out.Host = u.Host
	}}, nil
}

// Stats reads the counters.
func (s *Sink) Stats() Stats {
	return Stats{
		OTLPBytes: s.traces.bytes.Load(), OTLPRequests: s.traces.requests.Load(),
		LokiBytes: s.loki.bytes.Load(), LokiRequests: s.loki.requests.Load(),
		ScrapeBytes: s.scrapeBytes.Load(), Scrapes: s.scrapes.Load(), ScrapeErrors: s.scrapeFailures.Load(),
		ScrapeSize: s.scrapeSize(), ForwardErrors: s.forwardErrors.Load(),
	}
}

func (s *Sink) scrapeSize() int64 {
	var n int64
	s.lastScrape.Range(func(_, v any) bool { n += v.(int64); return true })
	return n
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == StatsPath && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
	case r.URL.Path == "/ready":
		w.WriteHeader(http.StatusOK)
	case r.URL.Path == TracesPath && r.Method == http.MethodPost:
		// An empty ExportTraceServiceResponse is a valid, fully successful answer.
		s.receive(w, r, &s.traces, s.tracesUpstream, http.StatusOK, "application/x-protobuf")
	case r.URL.Path == LokiPath && r.Method == http.MethodPost:
		s.receive(w, r, &s.loki, s.lokiUpstream, http.StatusNoContent, "")
	default:
		http.NotFound(w, r)
	}
}

func (s *Sink) receive(w http.ResponseWriter, r *http.Request, c *counter, upstream *httputil.ReverseProxy, status int, contentType string) {
	c.requests.Add(1)
	if upstream != nil {
		r.Body = countingBody{r.Body, &c.bytes}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		upstream.ServeHTTP(sw, r)
		if sw.status >= 300 {
			s.forwardErrors.Add(1)
		}
		return
	}
	n, err := io.Copy(io.Discard, r.Body)
	c.bytes.Add(n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// statusWriter remembers the status the upstream answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
