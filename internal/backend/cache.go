package backend

import (
	"sync"
	"time"
)

// lruCache is a map with a time-to-live per entry and a bound on its size: when it is full,
// adding drops the least recently used entry. Every operation is O(1): entries sit in a map
// for lookup and in an intrusive doubly linked list (most recent at the front) for eviction.
//
// Expired entries are removed lazily, when looked up or when they reach the back of the list;
// no background goroutine sweeps, so the cache costs nothing while idle.
type lruCache[K comparable, V any] struct {
	ttl  time.Duration
	size int

	mu    sync.Mutex
	items map[K]*lruEntry[K, V]
	root  lruEntry[K, V] // sentinel: root.next is the most recent entry, root.prev the least
}

type lruEntry[K comparable, V any] struct {
	key        K
	value      V
	expires    time.Time
	prev, next *lruEntry[K, V]
}

// newLRUCache returns a cache of at most size entries (at least 1), each kept for ttl.
func newLRUCache[K comparable, V any](ttl time.Duration, size int) *lruCache[K, V] {
	size = max(size, 1)
	c := &lruCache[K, V]{ttl: ttl, size: size, items: make(map[K]*lruEntry[K, V], min(size, 1024))}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// get returns the live value for key and marks it as recently used.
func (c *lruCache[K, V]) get(key K) (V, bool) {
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

// add stores value under key for the cache's TTL, evicting the least recently used entry
// when the cache is full.
func (c *lruCache[K, V]) add(key K, value V) {
	expires := time.Now().Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.value, e.expires = value, expires
		c.unlink(e)
		c.pushFront(e)
		return
	}
	var e *lruEntry[K, V]
	if len(c.items) >= c.size {
		// Full: the least recently used entry goes, and its node is reused for the new one.
		e = c.root.prev
		c.remove(e)
		*e = lruEntry[K, V]{key: key, value: value, expires: expires}
	} else {
		e = &lruEntry[K, V]{key: key, value: value, expires: expires}
	}
	c.items[key] = e
	c.pushFront(e)
}

// len returns the number of entries held, expired ones included until they are dropped.
func (c *lruCache[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *lruCache[K, V]) remove(e *lruEntry[K, V]) {
	c.unlink(e)
	delete(c.items, e.key)
}

func (c *lruCache[K, V]) unlink(e *lruEntry[K, V]) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (c *lruCache[K, V]) pushFront(e *lruEntry[K, V]) {
	e.prev = &c.root
	e.next = c.root.next
	c.root.next.prev = e
	c.root.next = e
}
