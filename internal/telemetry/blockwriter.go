package telemetry

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// BlockWriter gathers log lines into blocks written at most 100 ms apart: for a stdout that
// is a file or a pipe, one write system call per line would cost every request several system
// calls (and the reader as many wake-ups). It is safe for concurrent use, so the services of
// one process share it and their lines never interleave.
type BlockWriter struct {
	mu    sync.Mutex
	w     *bufio.Writer
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
}

const (
	blockSize       = 64 << 10
	blockFlushEvery = 100 * time.Millisecond
)

// NewBlockWriter writes to w in blocks until Close.
func NewBlockWriter(w io.Writer) *BlockWriter {
	b := &BlockWriter{w: bufio.NewWriterSize(w, blockSize), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(blockFlushEvery)
	return b
}

// Write adds p (one or more whole lines) to the block.
func (b *BlockWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes the block now.
func (b *BlockWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close writes the last block and stops the periodic flush.
func (b *BlockWriter) Close() error {
	b.close.Do(func() { close(b.stop) })
	<-b.done
	return b.Flush()
}

func (b *BlockWriter) flushEvery(d time.Duration) {
	defer close(b.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}
