// Package mcp serves the telemetry of a pillars deployment to agents over the Model Context
// Protocol: PromQL, metric and label discovery, services and operations, trace search, one
// trace as a waterfall, log queries, firing alerts, and the drill tools (start a blind
// episode, its status, a diagnosis, the score).
//
// It reads through the clients of internal/readback, so one server works the same on both
// stacks (Prometheus; Jaeger or Tempo; VictoriaLogs or Loki). Every answer is bounded, a page
// of at most [MaxLimit] rows in a compact text form with the offset of the next page, because
// an agent pays for every byte it reads; the tool list itself is kept small for the same
// reason. A store's refusal (a malformed query) comes back as a tool error quoting the store's
// message, so the agent can fix its query.
//
// The reading tools only read the telemetry stores: nothing they reach holds a drill's answer
// key. The tools that change anything (starting an episode) need the admin token.
package mcp
