package agent

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// Thresholds of the baseline's rules: what counts as a change worth naming.
const (
	errorRatioUp    = 0.05     // 5xx share above which a service is failing
	latencyUp       = 2.0      // now / baseline mean latency
	tableLatencyUp  = 2.0      // one table's query time, now / baseline
	otherTablesFlat = 1.5      // ... while every other table stays below this
	unavailableRate = 0.2      // calls/s that found the database unavailable
	heapUp          = 1.8      // heap now / baseline
	heapFloor       = 32 << 20 // ... and at least this many bytes
	cpuUp           = 2.0      // cores now / baseline
	cpuFloor        = 0.15     // ... and at least this many cores
	cacheHitFloor   = 0.05     // hit share below which the cache is off
	cacheHitWas     = 0.2      // ... when it was above this
	fanOutUp        = 1.3      // backend requests per frontend request, now / baseline
	rollbackRate    = 0.2      // rolled-back transactions/s
	poolUp          = 3.0      // connections in use, now / baseline
	poolFloor       = 4.0      // ... and at least this many
	minLatency      = 0.002    // seconds: below this a latency ratio is noise
	lockWait        = 0.3      // seconds a database request waits when it queues for a lock
	tableErrorRate  = 0.2      // failed queries/s on one table
)

// rule is one symptom pattern: when match finds it, the diagnosis it means.
type rule struct {
	name  string
	match func(o Observations) (Diagnosis, bool)
}

// rules are tried in order: causes before their symptoms (a dead dependency makes errors, a
// new version explains its errors, a deeper service's fault shows in every caller).
var rules = []rule{
	{"database unavailable", func(o Observations) (Diagnosis, bool) {
		return Diagnosis{Service: "backend", Kind: "dependency-down", Component: "database"},
			o.Unavailable.Now > unavailableRate && o.Unavailable.Now > 5*o.Unavailable.Base
	}},
	{"failing new version", func(o Observations) (Diagnosis, bool) {
		for _, svc := range deepestFirst {
			if o.NewVersion[svc] && failing(o, svc) {
				return Diagnosis{Service: svc, Kind: "bad-deploy", Component: worstEndpoint(o.ErrorsByEndpoint[svc])}, true
			}
		}
		return Diagnosis{}, false
	}},
	{"retries multiply the backend's load", func(o Observations) (Diagnosis, bool) {
		return Diagnosis{Service: "frontend", Kind: "retry-storm", Component: "backend"},
			o.FanOut.Base > 0 && o.FanOut.Now > fanOutUp*o.FanOut.Base && failing(o, "backend")
	}},
	{"cache bypassed", func(o Observations) (Diagnosis, bool) {
		return Diagnosis{Service: "backend", Kind: "cache-off"}, o.CacheHitRatio.Base > cacheHitWas && o.CacheHitRatio.Now < cacheHitFloor
	}},
	{"heap climbing", func(o Observations) (Diagnosis, bool) {
		return grown(o.Heap, heapUp, heapFloor, "memory-leak")
	}},
	{"CPU burning", func(o Observations) (Diagnosis, bool) {
		d, ok := grown(o.CPU, cpuUp, cpuFloor, "cpu-burn")
		if ok {
			d.Component = slowestEndpoint(o.LatencyByEndpoint[d.Service])
		}
		return d, ok
	}},
	{"transactions rolled back", func(o Observations) (Diagnosis, bool) {
		return Diagnosis{Service: "database", Kind: "lock-contention"},
			o.RolledBack.Now > rollbackRate && o.RolledBack.Now > 5*o.RolledBack.Base
	}},
	{"connections held", func(o Observations) (Diagnosis, bool) {
		return Diagnosis{Service: "database", Kind: "pool-exhaustion"},
			o.PoolActive.Now >= poolFloor && o.PoolActive.Now > poolUp*max(o.PoolActive.Base, 1)
	}},
	{"database requests wait, then fail", func(o Observations) (Diagnosis, bool) {
		c := o.Latency["database"]
		return Diagnosis{Service: "database", Kind: "lock-contention"},
			failing(o, "database") && c.Now > lockWait && c.Now > latencyUp*c.Base
	}},
	{"one table slow", func(o Observations) (Diagnosis, bool) {
		slow := slowTables(o.TableLatency, tableLatencyUp)
		if len(slow) != 1 {
			return Diagnosis{}, false
		}
		for t, c := range o.TableLatency {
			if t != slow[0] && c.Base > 0 && c.Now > otherTablesFlat*c.Base {
				return Diagnosis{}, false
			}
		}
		return Diagnosis{Service: "database", Kind: "missing-index", Component: slow[0]}, true
	}},
	{"database queries failing", func(o Observations) (Diagnosis, bool) {
		t := worstEndpoint(increases(o.TableErrors, tableErrorRate))
		return Diagnosis{Service: "database", Kind: "errors", Component: t}, t != ""
	}},
	{"database slow", func(o Observations) (Diagnosis, bool) {
		slow := slowTables(o.TableLatency, tableLatencyUp)
		if len(slow) == 0 {
			return Diagnosis{}, false
		}
		return Diagnosis{Service: "database", Kind: "latency", Component: slow[0]}, true
	}},
	{"a service failing", func(o Observations) (Diagnosis, bool) {
		for _, svc := range deepestFirst {
			if failing(o, svc) {
				return Diagnosis{Service: svc, Kind: "errors", Component: worstEndpoint(o.ErrorsByEndpoint[svc])}, true
			}
		}
		return Diagnosis{}, false
	}},
	{"a service slow", func(o Observations) (Diagnosis, bool) {
		for _, svc := range deepestFirst {
			if c := o.Latency[svc]; c.Now > minLatency && c.Base > 0 && c.Now > latencyUp*c.Base {
				return Diagnosis{Service: svc, Kind: "latency", Component: slowestEndpoint(o.LatencyByEndpoint[svc])}, true
			}
		}
		return Diagnosis{}, false
	}},
}

// deepestFirst orders services callee first: a fault deep down shows in every caller.
var deepestFirst = []string{"database", "backend", "frontend"}

// Diagnose maps the observations to a diagnosis: the first rule that matches, or no incident.
func Diagnose(o Observations) Diagnosis {
	for _, r := range rules {
		if d, ok := r.match(o); ok {
			d.Notes = "baseline rule: " + r.name
			return d
		}
	}
	d := NoIncident
	d.Notes = "baseline: no rule matched"
	return d
}

func failing(o Observations, svc string) bool {
	c := o.ErrorRatio[svc]
	return c.Now > errorRatioUp && c.Now > 2*c.Base
}

// grown finds the service whose value grew by factor and is above floor, the largest growth.
func grown(by map[string]change, factor, floor float64, kind string) (Diagnosis, bool) {
	best, bestRatio := "", 0.0
	for _, svc := range slices.Sorted(maps.Keys(by)) {
		c := by[svc]
		if c.Base <= 0 || c.Now < floor || c.Now < factor*c.Base || !slices.Contains(Services, svc) {
			continue
		}
		if r := c.Now / c.Base; r > bestRatio {
			best, bestRatio = svc, r
		}
	}
	return Diagnosis{Service: best, Kind: kind}, best != ""
}

// slowTables are the tables whose query time grew by factor, the largest growth first.
func slowTables(by map[string]change, factor float64) []string {
	var out []string
	for t, c := range by {
		if c.Base > 0 && c.Now > minLatency && c.Now > factor*c.Base {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(by[b].Now/by[b].Base, by[a].Now/by[a].Base), cmp.Compare(a, b))
	})
	return out
}

// increases keeps what rose well above its baseline, by how much it rose.
func increases(by map[string]change, floor float64) map[string]float64 {
	out := map[string]float64{}
	for k, c := range by {
		if c.Now > floor && c.Now > 5*c.Base {
			out[k] = c.Now - c.Base
		}
	}
	return out
}

// worstEndpoint is the key with the largest value ("" for none), ties by name.
func worstEndpoint(by map[string]float64) string {
	best := ""
	for _, k := range slices.Sorted(maps.Keys(by)) {
		if by[k] > 0 && (best == "" || by[k] > by[best]) {
			best = k
		}
	}
	return best
}

// slowestEndpoint is the route whose latency grew most.
func slowestEndpoint(by map[string]change) string {
	ratios := map[string]float64{}
	for k, c := range by {
		if c.Base > 0 {
			ratios[k] = c.Now / c.Base
		}
	}
	return worstEndpoint(ratios)
}

// String is the observations in a few lines, for the agent's log.
func (o Observations) String() string {
	return fmt.Sprintf("errors %v\nlatency %v\ntables %v\ntable errors %v\nunavailable %v heap %v cpu %v versions %v cache %v fan-out %v rollbacks %v pool %v",
		o.ErrorRatio, o.Latency, o.TableLatency, o.TableErrors, o.Unavailable, o.Heap, o.CPU, o.NewVersion, o.CacheHitRatio, o.FanOut, o.RolledBack, o.PoolActive)
}
