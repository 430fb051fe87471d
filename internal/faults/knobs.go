package faults

// The knobs of every tier, in one place: each field is one knob, named by its json tag, with
// its bounds (max, min), whether one request may set it through the X-Pillars-Fault header
// (scope:"request"), and what it does (help: shown by GET /admin/faults/knobs and the
// console). The zero value of every struct is "no fault".
//
// Each fault is a different kind of failure, done for real: latency the database really
// waits, a writer that really holds SQLite's lock, an index really dropped, a cache really
// bypassed, CPU really burned, memory really kept, connections really dropped.

// Database are the database service's knobs.
type Database struct {
	Latency   Duration `json:"latency" max:"30s" scope:"request" help:"added to every query, inside query_execution"`
	Jitter    Duration `json:"jitter" max:"30s" scope:"request" help:"random extra latency per query, uniform in [0, jitter)"`
	ErrorRate Rate     `json:"error_rate" scope:"request" help:"share of queries that fail (500, rolled back)"`
	// LockHold makes a writer take the database's lock for this long, again and again, with a
	// short pause between: readers wait for it, and past the busy timeout fail with the
	// database's own "database is locked" (SQLITE_BUSY) or lock timeout.
	LockHold Duration `json:"lock_hold" max:"30s" help:"a writer holds the database's lock this long at a time, over and over: readers wait, or fail busy"`
	// MissingIndex drops the index the user lookups use (and creates it again when cleared):
	// query_planning records a full scan, and user queries slow down for a real reason.
	MissingIndex bool `json:"missing_index" help:"the index on orders(user_id) is dropped (and rebuilt when cleared): user lookups scan every order"`
	// PoolSize squeezes the connection pool; 0 keeps the configured size.
	PoolSize int `json:"pool_size" min:"0" max:"64" help:"connections the pool may open (0: as configured); 1 queues every request behind one"`
}

// Backend are the backend service's knobs.
type Backend struct {
	HTTP
	Calls
	// CacheOff bypasses the cache (every lookup a miss, nothing kept), and empties it when
	// turned on: a stampede of the database, and a cold start when turned off.
	CacheOff         bool     `json:"cache_off" scope:"request" help:"the cache is emptied and bypassed: every lookup misses and goes to the database"`
	PricingErrorRate Rate     `json:"pricing_error_rate" scope:"request" help:"share of product requests whose apply_pricing_rules fails (500)"`
	CPUBurn          Duration `json:"cpu_burn" max:"1s" scope:"request" help:"CPU burned inside apply_pricing_rules, per product request"`
	// MemoryLeak keeps this much memory per request, up to MemoryLeakLimit in all; clearing it
	// frees what was kept.
	MemoryLeak      Size `json:"memory_leak" max:"1MiB" help:"memory kept for good per request (until cleared), up to memory_leak_limit"`
	MemoryLeakLimit Size `json:"memory_leak_limit" max:"1GiB" help:"bound of the leak (0: 64MiB)"`
	// Version makes the backend report another service.version, as a deployment of a new
	// build would; with the route knobs it is a bad deploy.
	Version string `json:"version" max:"64" help:"service.version the backend reports from now on, as after a deploy (empty: its own)"`
}

// Frontend are the frontend service's knobs.
type Frontend struct {
	HTTP
	Calls
	BackendTimeout Duration `json:"backend_timeout" max:"30s" scope:"request" help:"deadline of a backend call (0: as configured)"`
	// Retries makes the frontend try a failed backend call again at once, this many times: one
	// failure becomes a storm of calls, each its own CLIENT span in the trace.
	Retries int `json:"retries" min:"0" max:"5" scope:"request" help:"immediate retries of a failed backend call: a retry storm"`
}

// HTTP are the knobs of one of a service's own routes.
type HTTP struct {
	Route          string   `json:"route" choices:"routes" help:"route template the route_* knobs apply to, e.g. /product/{id} (empty: every route)"`
	RouteErrorRate Rate     `json:"route_error_rate" scope:"request" help:"share of requests to the route answered 500"`
	RouteLatency   Duration `json:"route_latency" max:"30s" scope:"request" help:"added to every request to the route"`
}

// Calls are the knobs of the HTTP client a service calls the next one with: what goes wrong
// between two services.
type Calls struct {
	CallLatency Duration `json:"call_latency" max:"30s" scope:"request" help:"added before every call to the next service"`
	// CallDropRate drops the connection once the request is sent: the callee sees its caller
	// vanish, the caller an error instead of an answer.
	CallDropRate Rate `json:"call_drop_rate" scope:"request" help:"share of calls whose connection drops after the request is sent"`
	// CallRefuseRate fails calls as a callee that is down does: connection refused.
	CallRefuseRate Rate `json:"call_refuse_rate" scope:"request" help:"share of calls refused as by a callee that is down"`
}

// CallFaults is implemented by the knobs of a service that calls another.
type CallFaults interface{ CallKnobs() Calls }

func (b Backend) CallKnobs() Calls  { return b.Calls }
func (f Frontend) CallKnobs() Calls { return f.Calls }

// RouteFaults is implemented by the knobs of a service with route faults.
type RouteFaults interface{ RouteKnobs() HTTP }

func (b Backend) RouteKnobs() HTTP  { return b.HTTP }
func (f Frontend) RouteKnobs() HTTP { return f.HTTP }
