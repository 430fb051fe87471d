package backend

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

func TestCacheEntriesExpireAfterTheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newLRUCache[int64, string](30*time.Second, 10)
		c.add(123, "user 123")

		time.Sleep(30*time.Second - time.Nanosecond) // fake time: the bubble's clock jumps
		if v, ok := c.get(123); !ok || v != "user 123" {
			t.Fatalf("just before the TTL: get = %q, %v; want the entry", v, ok)
		}
		time.Sleep(time.Nanosecond)
		if _, ok := c.get(123); ok {
			t.Fatal("at the TTL: entry still served")
		}
		if n := c.len(); n != 0 {
			t.Errorf("expired entry still held: len %d", n)
		}
	})
}

func TestCacheRefreshRestartsTheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newLRUCache[int64, string](30*time.Second, 10)
		c.add(1, "old")
		time.Sleep(20 * time.Second)
		c.add(1, "new")
		time.Sleep(20 * time.Second)
		if v, ok := c.get(1); !ok || v != "new" {
			t.Errorf("get = %q, %v; want the refreshed entry 20s after the refresh", v, ok)
		}
	})
}

func TestCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	c := newLRUCache[int64, string](time.Minute, 3)
	c.add(1, "a")
	c.add(2, "b")
	c.add(3, "c")
	c.get(1)      // 1 is now the most recent; 2 the least
	c.add(4, "d") // full: 2 goes
	if _, ok := c.get(2); ok {
		t.Error("least recently used entry 2 survived the eviction")
	}
	for _, k := range []int64{1, 3, 4} {
		if _, ok := c.get(k); !ok {
			t.Errorf("entry %d evicted, want it kept", k)
		}
	}
	if n := c.len(); n != 3 {
		t.Errorf("len %d, want the bound 3", n)
	}

	c.add(3, "c2") // replacing keeps the size
	if v, _ := c.get(3); v != "c2" || c.len() != 3 {
		t.Errorf("after replacing 3: value %q, len %d", v, c.len())
	}
}

func TestCacheStaysBounded(t *testing.T) {
	c := newLRUCache[int64, int64](time.Minute, 100)
	for i := range int64(10_000) {
		c.add(i, i)
	}
	if n := c.len(); n != 100 {
		t.Fatalf("len %d, want 100", n)
	}
	for i := int64(9_900); i < 10_000; i++ {
		if v, ok := c.get(i); !ok || v != i {
			t.Fatalf("recent entry %d missing", i)
		}
	}
}

// Adding to a full cache costs the same whatever its size: eviction is O(1).
func BenchmarkCacheAddEvicting(b *testing.B) {
	for _, size := range []int{100, 100_000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			c := newLRUCache[int64, int64](time.Minute, size)
			for i := range int64(size) {
				c.add(i, i)
			}
			i := int64(size)
			for b.Loop() {
				c.add(i, i)
				i++
			}
		})
	}
}
