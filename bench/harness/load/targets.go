package load

import (
	"fmt"
	"strconv"
	"sync/atomic"
)

// The id ranges of the seed data (the database package's MaxUserID and MaxProductID). The
// benchmark is a separate module and does not import the services'.
const (
	MaxUserID    = 5000
	MaxProductID = 1000
	// HotUsers is the working set of the cached path: small enough that after the warm-up
	// every request is a cache hit.
	HotUsers = 100
)

// Paths are the request mixes the benchmark knows, by name.
var Paths = map[string]func(i uint64) string{
	// Two hops: frontend → backend, answered from the backend's cache.
	"cached-user": func(i uint64) string { return "/user/" + strconv.FormatUint(1+i%HotUsers, 10) },
	// Three hops and a SQLite transaction when the cache is off: every user in turn.
	"uncached-user": func(i uint64) string { return "/user/" + strconv.FormatUint(1+i%MaxUserID, 10) },
	// A product with its inventory per warehouse and priced: a JOIN, a larger answer.
	"product": func(i uint64) string { return "/product/" + strconv.FormatUint(1+i%MaxProductID, 10) },
	// The overview: two aggregate queries, the largest answer.
	"home": func(uint64) string { return "/" },
}

// sequence hands out the paths of one mix in order, safely from many goroutines.
type sequence struct {
	path func(uint64) string
	n    atomic.Uint64
}

func newSequence(name string) (*sequence, error) {
	p, ok := Paths[name]
	if !ok {
		return nil, fmt.Errorf("unknown path %q", name)
	}
	return &sequence{path: p}, nil
}

func (s *sequence) next() string { return s.path(s.n.Add(1) - 1) }
