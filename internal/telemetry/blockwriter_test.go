package telemetry_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// countingWriter records each write it gets.
type countingWriter struct {
	mu     sync.Mutex
	writes int
	buf    bytes.Buffer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.buf.Write(p)
}

func (c *countingWriter) snapshot() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.buf.String()
}

// Lines from many writers reach the file whole, in few writes, within the flush interval,
// and all of them by Close.
func TestBlockWriterGathersLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &countingWriter{}
		b := telemetry.NewBlockWriter(out)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for range 250 {
					_, _ = b.Write([]byte(strings.Repeat(string(rune('a'+w)), 40) + "\n"))

				}
			})
		}
		wg.Wait()
		if n, _ := out.snapshot(); n > 2 {
			t.Errorf("%d writes for 1000 lines before the first flush, want a block or two", n)
		}
		time.Sleep(200 * time.Millisecond) // fake time: the periodic flush runs
		synctest.Wait()
		_, text := out.snapshot()
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) != 1000 {
			t.Fatalf("%d lines after the flush interval, want 1000", len(lines))
		}
		for _, l := range lines {
			if len(l) != 40 || strings.Count(l, l[:1]) != 40 {
				t.Fatalf("a line was torn: %q", l)
			}
		}
		_, _ = b.Write([]byte("last\n"))
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if _, text := out.snapshot(); !strings.HasSuffix(text, "last\n") {
			t.Error("Close did not write the last block")
		}
	})
}
