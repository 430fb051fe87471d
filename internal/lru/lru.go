// Package lru is the one bounded cache of the system: a map with a time-to-live per entry and
// a bound on its size, least recently used entries evicted first. The backend keeps its
// answers in it, the frontend its active visitors.
package lru

import (
	"sync"
	"time"
)

// Cache is a map with a time-to-live per entry and a bound on its size: when it is full,
// adding drops the least recently used entry. Every operation is O(1): entries sit in a map
// for lookup and in an intrusive doubly linked list (most recent at the front) for eviction.
//
// Expired entries are removed lazily, when looked up or when they reach the back of the list;
// no background goroutine sweeps, so the cache costs nothing while idle.
type Cache[K comparable, V any] struct {
	ttl  time.Duration
	size int

	mu    sync.Mutex
	items map[K]*entry[K, V]
	root  entry[K, V] // sentinel: root.next is the most recent entry, root.prev the least
}

type entry[K comparable, V any] struct {
	key        K
	value      V
	expires    time.Time
	prev, next *entry[K, V]
}

// New returns a cache of at most size entries (at least 1), each kept for ttl.
func New[K comparable, V any](ttl time.Duration, size int) *Cache[K, V] {
	size = max(size, 1)
	c := &Cache[K, V]{ttl: ttl, size: size, items: make(map[K]*entry[K, V], min(size, 1024))}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// Get returns the live value for key and marks it as recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	if !now.Before(e.expires) {
		c.remove(e)
		var zero V
		return zero, false
	}
	c.unlink(e)
	c.pushFront(e)
	return e.value, true
}

// Add stores value under key for the cache's TTL, evicting the least recently used entry
// when the cache is full.
func (c *Cache[K, V]) Add(key K, value V) {
	expires := time.Now().Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.value, e.expires = value, expires
		c.unlink(e)
		c.pushFront(e)
		return
	}
	var e *entry[K, V]
	if len(c.items) >= c.size {
		// Full: the least recently used entry goes, and its node is reused for the new one.
		e = c.root.prev
		c.remove(e)
		*e = entry[K, V]{key: key, value: value, expires: expires}
	} else {
		e = &entry[K, V]{key: key, value: value, expires: expires}
	}
	c.items[key] = e
	c.pushFront(e)
}

// Len returns the number of entries held, expired ones included until they are dropped.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *Cache[K, V]) remove(e *entry[K, V]) {
	c.unlink(e)
	delete(c.items, e.key)
}

func (c *Cache[K, V]) unlink(e *entry[K, V]) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (c *Cache[K, V]) pushFront(e *entry[K, V]) {
	e.prev = &c.root
	e.next = c.root.next
	c.root.next.prev = e
	c.root.next = e
}

// DropExpired removes expired entries from the least recently used end, up to the first live
// one, and returns how many entries remain. It is exact when entries are only refreshed by
// Add (as the frontend's visitors are), since then recency order is expiry order; with Get
// in use it leaves expired entries that were read recently for Get to drop.
func (c *Cache[K, V]) DropExpired() int {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.root.prev; e != &c.root && !now.Before(e.expires); e = c.root.prev {
		c.remove(e)
	}
	return len(c.items)
}

// Clear removes every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	c.root.next, c.root.prev = &c.root, &c.root
}
