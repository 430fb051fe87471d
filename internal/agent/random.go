package agent

import "math/rand/v2"

// Random is the chance-level guess of seed: the service uniformly among the three and
// "none"; for a service, the kind uniformly among the kinds and the component uniformly among
// the components and "" (no component).
func Random(seed uint64) Diagnosis {
	rng := rand.New(rand.NewPCG(seed, 0x70696c6c617273)) // "pillars"
	services := append([]string{None}, Services...)
	svc := services[rng.IntN(len(services))]
	if svc == None {
		return NoIncident
	}
	components := append([]string{""}, Components...)
	return Diagnosis{Service: svc, Kind: Kinds[rng.IntN(len(Kinds))], Component: components[rng.IntN(len(components))], Notes: "random guess"}
}
