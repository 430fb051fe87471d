package lru

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

func TestCacheEntriesExpireAfterTheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[int64, string](30*time.Second, 10)
		c.Add(123, "user 123")

		time.Sleep(30*time.Second - time.Nanosecond) // fake time: the bubble's clock jumps
		if v, ok := c.Get(123); !ok || v != "user 123" {
			t.Fatalf("just before the TTL: get = %q, %v; want the entry", v, ok)
		}
		time.Sleep(time.Nanosecond)
		if _, ok := c.Get(123); ok {
			t.Fatal("at the TTL: entry still served")
		}
		if n := c.Len(); n != 0 {
			t.Errorf("expired entry still held: len %d", n)
		}
	})
}

func TestCacheRefreshRestartsTheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[int64, string](30*time.Second, 10)
		c.Add(1, "old")
		time.Sleep(20 * time.Second)
		c.Add(1, "new")
		time.Sleep(20 * time.Second)
		if v, ok := c.Get(1); !ok || v != "new" {
			t.Errorf("get = %q, %v; want the refreshed entry 20s after the refresh", v, ok)
		}
	})
}

func TestCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	c := New[int64, string](time.Minute, 3)
	c.Add(1, "a")
	c.Add(2, "b")
	c.Add(3, "c")
	c.Get(1)      // 1 is now the most recent; 2 the least
	c.Add(4, "d") // full: 2 goes
	if _, ok := c.Get(2); ok {
		t.Error("least recently used entry 2 survived the eviction")
	}
	for _, k := range []int64{1, 3, 4} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("entry %d evicted, want it kept", k)
		}
	}
	if n := c.Len(); n != 3 {
		t.Errorf("len %d, want the bound 3", n)
	}

	c.Add(3, "c2") // replacing keeps the size
	if v, _ := c.Get(3); v != "c2" || c.Len() != 3 {
		t.Errorf("after replacing 3: value %q, len %d", v, c.Len())
	}
}

func TestCacheStaysBounded(t *testing.T) {
	c := New[int64, int64](time.Minute, 100)
	for i := range int64(10_000) {
		c.Add(i, i)
	}
	if n := c.Len(); n != 100 {
		t.Fatalf("len %d, want 100", n)
	}
	for i := int64(9_900); i < 10_000; i++ {
		if v, ok := c.Get(i); !ok || v != i {
			t.Fatalf("recent entry %d missing", i)
		}
	}
}

// Adding to a full cache costs the same whatever its size: eviction is O(1).
func BenchmarkCacheAddEvicting(b *testing.B) {
	for _, size := range []int{100, 100_000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			c := New[int64, int64](time.Minute, size)
			for i := range int64(size) {
				c.Add(i, i)
			}
			i := int64(size)
			for b.Loop() {
				c.Add(i, i)
				i++
			}
		})
	}
}

func TestDropExpiredKeepsTheLiveEntries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New[string, struct{}](time.Minute, 10)
		c.Add("a", struct{}{})
		time.Sleep(30 * time.Second)
		c.Add("b", struct{}{})
		c.Add("c", struct{}{})
		time.Sleep(30 * time.Second) // "a" expires now, "b" and "c" in 30s
		if n := c.DropExpired(); n != 2 {
			t.Fatalf("DropExpired = %d, want 2 live entries", n)
		}
		if _, ok := c.Get("a"); ok {
			t.Error("the expired entry is still there")
		}
		c.Add("b", struct{}{}) // refreshed: lives another minute
		time.Sleep(30 * time.Second)
		if n := c.DropExpired(); n != 1 {
			t.Errorf("after c expired: DropExpired = %d, want 1", n)
		}
	})
}

func TestClearEmptiesTheCache(t *testing.T) {
	c := New[int, int](time.Minute, 4)
	for i := range 4 {
		c.Add(i, i)
	}
	c.Clear()
	if n := c.Len(); n != 0 {
		t.Fatalf("Len after Clear = %d", n)
	}
	c.Add(9, 9) // the list is usable again
	if v, ok := c.Get(9); !ok || v != 9 {
		t.Errorf("Get after Clear and Add = %d, %v", v, ok)
	}
}
