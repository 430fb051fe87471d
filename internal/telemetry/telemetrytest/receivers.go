package telemetrytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// LokiEntry is one log entry as a Loki server decodes it from a push.
type LokiEntry struct {
	Labels   string // the stream's label set, e.g. {environment="dev", level="info", service="backend"}
	Time     time.Time
	Line     string
	Metadata map[string]string // structured metadata: trace_id, span_id
}

// LokiReceiver is a loopback server speaking the Loki push API (snappy-compressed protobuf),
// with an independent decoder so the shipper's encoder is checked against the schema rather
// than against itself. Fail makes it answer an error status, as a Loki in trouble would.
type LokiReceiver struct {
	URL   string
	Fail  atomic.Int32 // answer this HTTP status while non-zero
	Bytes atomic.Int64 // of the decompressed push bodies received

	srv     *httptest.Server
	mu      sync.Mutex
	entries []LokiEntry
	held    chan struct{} // while non-nil, pushes wait for it to close
}

// Hold makes pushes wait, as a Loki that accepts connections but does not answer, until
// Release.
func (r *LokiReceiver) Hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held == nil {
		r.held = make(chan struct{})
	}
}

// Release lets held and later pushes through.
func (r *LokiReceiver) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held != nil {
		close(r.held)
		r.held = nil
	}
}

// NewLokiReceiver starts a receiver, closed when the test ends.
func NewLokiReceiver(t testing.TB) *LokiReceiver {
	r := &LokiReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL + "/loki/api/v1/push"
	t.Cleanup(func() { r.Release(); r.srv.Close() })
	return r
}

// Close stops the server: later pushes are refused.
func (r *LokiReceiver) Close() { r.srv.Close() }

// Entries returns what was received so far.
func (r *LokiReceiver) Entries() []LokiEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]LokiEntry(nil), r.entries...)
}

func (r *LokiReceiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	held := r.held
	r.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-req.Context().Done():
			return
		}
	}
	if code := r.Fail.Load(); code != 0 {
		http.Error(w, "unavailable", int(code))
		return
	}
	if req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want application/x-protobuf", http.StatusUnsupportedMediaType)
		return
	}
	compressed, _ := io.ReadAll(req.Body)
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Bytes.Add(int64(len(raw)))
	entries, err := decodePush(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.entries = append(r.entries, entries...)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// decodePush reads logproto.PushRequest: streams=1 {labels=1, entries=2 {timestamp=1
// {seconds=1, nanos=2}, line=2, structuredMetadata=3 {name=1, value=2}}}.
func decodePush(b []byte) ([]LokiEntry, error) {
	var out []LokiEntry
	err := eachField(b, func(num protowire.Number, stream []byte, _ uint64) error {
		if num != 1 {
			return nil
		}
		var labels string
		var entries []LokiEntry
		err := eachField(stream, func(num protowire.Number, v []byte, _ uint64) error {
			switch num {
			case 1:
				labels = string(v)
			case 2:
				e, err := decodeEntry(v)
				entries = append(entries, e)
				return err
			}
			return nil
		})
		for i := range entries {
			entries[i].Labels = labels
		}
		out = append(out, entries...)
		return err
	})
	return out, err
}

func decodeEntry(b []byte) (LokiEntry, error) {
	e := LokiEntry{Metadata: map[string]string{}}
	err := eachField(b, func(num protowire.Number, v []byte, _ uint64) error {
		switch num {
		case 1:
			var sec, nanos uint64
			err := eachField(v, func(num protowire.Number, _ []byte, n uint64) error {
				if num == 1 {
					sec = n
				} else {
					nanos = n
				}
				return nil
			})
			e.Time = time.Unix(int64(sec), int64(nanos))
			return err
		case 2:
			e.Line = string(v)
		case 3:
			var name, value string
			err := eachField(v, func(num protowire.Number, v []byte, _ uint64) error {
				if num == 1 {
					name = string(v)
				} else {
					value = string(v)
				}
				return nil
			})
			e.Metadata[name] = value
			return err
		}
		return nil
	})
	return e, err
}

func eachField(b []byte, fn func(protowire.Number, []byte, uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var bytesVal []byte
		var varint uint64
		switch typ {
		case protowire.BytesType:
			bytesVal, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			varint, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.BytesType || typ == protowire.VarintType {
			if err := fn(num, bytesVal, varint); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExportedSpan is a span as an OTLP receiver sees it, with its service.name.
type ExportedSpan struct {
	Service string
	*tracepb.Span
}

// OTLPReceiver is a loopback OTLP/HTTP traces endpoint (protobuf), the wire an OpenTelemetry
// Collector, Tempo or Jaeger receives. Point OTEL_EXPORTER_OTLP_ENDPOINT at URL.
type OTLPReceiver struct {
	URL string

	// Bytes and LargestBatch count the export requests' bodies: what a trace store would
	// have to accept.
	Bytes, LargestBatch atomic.Int64

	mu    sync.Mutex
	spans []ExportedSpan
}

// NewOTLPReceiver starts a receiver, closed when the test ends.
func NewOTLPReceiver(t testing.TB) *OTLPReceiver {
	r := &OTLPReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" {
			http.NotFound(w, req)
			return
		}
		b, _ := io.ReadAll(req.Body)
		r.Bytes.Add(int64(len(b)))
		for n := int64(len(b)); n > r.LargestBatch.Load(); {
			if r.LargestBatch.CompareAndSwap(r.LargestBatch.Load(), n) {
				break
			}
		}
		var export collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &export); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range export.ResourceSpans {
			var service string
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans = append(r.spans, ExportedSpan{Service: service, Span: s})
				}
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	r.URL = srv.URL
	t.Cleanup(srv.Close)
	return r
}

// Spans returns the spans received so far.
func (r *OTLPReceiver) Spans() []ExportedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ExportedSpan(nil), r.spans...)
}

// Eventually polls cond until it holds, failing the test after timeout. Polling with a
// deadline, never sleeping a fixed time, is how tests wait for asynchronous telemetry.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-tick.C:
		}
	}
}
