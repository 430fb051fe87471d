// Package drill turns a seed into an incident to diagnose from its symptoms alone, and grades
// the diagnosis exactly: the episode generator (a fault family, its target, magnitude and
// start, distractors, or no incident at all), the answer key kept in a state directory the
// services never see, the manifestation check that voids an episode whose fault never
// showed, the diagnosis document and its grader, the desk that runs one episode at a time
// against a deployment's admin APIs, the benchmark that runs an agent over many, and the
// export of an episode's telemetry for offline methods.
//
// It sits above faults, scenarios and readback, and below cmd/pillars: the services know
// nothing of drills except that their labels can be turned off.
package drill

import "slices"

// The services a diagnosis may name; NoIncident says there was none.
const (
	Frontend   = "frontend"
	Backend    = "backend"
	Database   = "database"
	NoIncident = "none"
)

// Services lists the services a diagnosis may name (and "none").
func Services() []string { return []string{Frontend, Backend, Database, NoIncident} }

// The root-cause kinds of a diagnosis.
const (
	KindLatency        = "latency"
	KindErrors         = "errors"
	KindLockContention = "lock-contention"
	KindMissingIndex   = "missing-index"
	KindMemoryLeak     = "memory-leak"
	KindCPUBurn        = "cpu-burn"
	KindDependencyDown = "dependency-down"
	KindBadDeploy      = "bad-deploy"
	KindRetryStorm     = "retry-storm"
	KindCacheOff       = "cache-off"
	KindPoolExhaustion = "pool-exhaustion"
)

// Kinds lists the root-cause kinds a diagnosis may name (and "none"), in a stable order.
func Kinds() []string {
	return []string{KindLatency, KindErrors, KindLockContention, KindMissingIndex, KindMemoryLeak,
		KindCPUBurn, KindDependencyDown, KindBadDeploy, KindRetryStorm, KindCacheOff,
		KindPoolExhaustion, NoIncident}
}

// Components lists the components a diagnosis may name: route templates of every service,
// tables and dependencies ("" is allowed too, when the kind has none).
func Components() []string {
	return []string{
		"/", "/user/{id}", "/product/{id}", // frontend routes
		"/api/data", "/api/user/{id}", "/api/product/{id}", // backend routes
		"/db/user/{id}", "/db/product/{id}", "/db/query", // database routes
		"orders", "users", "products", // tables
		"database", "backend", // dependencies
	}
}

func known(list []string, v string) bool { return slices.Contains(list, v) }
