package backend

import (
	"net/http"
	"runtime/debug"
	"sync"
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

// grow keeps n more bytes, unless limit is reached. The bytes are written, so that they are
// resident and not just reserved.
func (l *memoryLeak) grow(n, limit int64) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bytes+n > limit {
		return
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	l.kept = append(l.kept, b)
	l.bytes += n
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

// leaking serves h and then leaks as the memory_leak fault says.
func (s *Service) leaking(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r)
		if f := s.faults.Current(); f.MemoryLeak > 0 {
			limit := int64(f.MemoryLeakLimit)
			if limit == 0 {
				limit = defaultLeakLimit
			}
			s.leak.grow(int64(f.MemoryLeak), limit)
		}
	}
}
