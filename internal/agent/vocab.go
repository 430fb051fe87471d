package agent

// The drill vocabulary the agents answer in (the drill contract's lists; the drill package
// may know more kinds, which these agents never name).
var (
	Services = []string{"frontend", "backend", "database"}
	Kinds    = []string{"latency", "errors", "lock-contention", "missing-index", "memory-leak", "cpu-burn",
		"dependency-down", "bad-deploy", "retry-storm", "cache-off", "pool-exhaustion"}
	// Components are the route templates, tables and dependencies a diagnosis may name.
	Components = []string{"/user/{id}", "/product/{id}", "/api/user/{id}", "/api/product/{id}", "/api/data",
		"/db/user/{id}", "/db/product/{id}", "/db/query", "users", "products", "orders", "database", "backend"}
)

// None is the service and kind of "no incident".
const None = "none"

// Diagnosis is an agent's answer, the drill_answer tool's arguments.
type Diagnosis struct {
	Service   string `json:"service"`
	Kind      string `json:"kind"`
	Component string `json:"component,omitempty"`
	Notes     string `json:"notes,omitempty"`
}

// NoIncident is the diagnosis "nothing is wrong".
var NoIncident = Diagnosis{Service: None, Kind: None}
