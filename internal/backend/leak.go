package backend

import (
	"net/http"
	"runtime/debug"
	"sync"

	"go.opentelemetry.io/otel/attribute"
)

// defaultLeakLimit bounds the memory leak when memory_leak_limit is not given: enough to be
// seen in go_memstats_heap_inuse_bytes and process_resident_memory_bytes, little enough for
// the 96 MiB a container of the compose stack has.
const defaultLeakLimit = 64 << 20

// memoryLeak is the memory the memory_leak fault keeps for good: a real leak (the heap and
// the resident set grow, the GC works harder), bounded so that the service survives it.
type memoryLeak struct {
	mu    sync.Mutex
	kept  [][]byte
	bytes int64
}

// leakReportEvery is how much kept memory earns a log line: a leak shows in the logs as it
// grows, not once per request.
const leakReportEvery = 16 << 20

// grow keeps n more bytes, unless limit is reached, and returns how much is kept in all and
// whether that crossed a multiple of leakReportEvery. The bytes are written, so that they are
// resident and not just reserved.
func (l *memoryLeak) grow(n, limit int64) (kept int64, report bool) {
	if n <= 0 {
		return l.size(), false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bytes+n > limit {
		return l.bytes, false
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	l.kept = append(l.kept, b)
	report = l.bytes/leakReportEvery != (l.bytes+n)/leakReportEvery
	l.bytes += n
	return l.bytes, report
}

// release lets the kept memory go and hands it back to the operating system.
func (l *memoryLeak) release() {
	l.mu.Lock()
	l.kept, l.bytes = nil, 0
	l.mu.Unlock()
	debug.FreeOSMemory()
}

func (l *memoryLeak) size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes
}

// leaking serves h and then leaks as the memory_leak fault says, noting on the request's span
// how much is kept so far (pillars.fault.memory_kept_bytes), and logging every 16 MiB.
func (s *Service) leaking(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r)
		if f := s.faults.Current(); f.MemoryLeak > 0 {
			limit := int64(f.MemoryLeakLimit)
			if limit == 0 {
				limit = defaultLeakLimit
			}
			kept, report := s.leak.grow(int64(f.MemoryLeak), limit)
			s.faults.Annotate(r.Context(), attribute.Int64("pillars.fault.memory_kept_bytes", kept))
			if report && s.faults.Labelled() {
				s.tel.Logger.WarnContext(r.Context(), "Memory kept for good by the memory_leak fault",
					"kept_bytes", kept, "limit_bytes", limit)
			}
		}
	}
}
