package faults

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
)

// tierTypes are the knobs structs of the services, by tier name.
var tierTypes = map[string]reflect.Type{
	"database": reflect.TypeFor[Database](),
	"backend":  reflect.TypeFor[Backend](),
	"frontend": reflect.TypeFor[Frontend](),
}

// Tiers are the services that have knobs, callers first.
func Tiers() []string { return []string{"frontend", "backend", "database"} }

func catalogFor(tier string) (*catalog, error) {
	t, ok := tierTypes[tier]
	if !ok {
		return nil, fmt.Errorf("unknown service %q: the services are %s", tier, strings.Join(Tiers(), ", "))
	}
	return catalogOf(tier, t, nil)
}

// KnobsOf describes the knobs of tier, as GET /admin/faults/knobs on that service does.
func KnobsOf(tier string) ([]Knob, error) {
	c, err := catalogFor(tier)
	if err != nil {
		return nil, err
	}
	out := make([]Knob, len(c.knobs))
	for i, k := range c.knobs {
		out[i] = *k
	}
	return out, nil
}

// Check validates a JSON document of tier's knobs as PUT and PATCH /admin/faults read it: for
// documents written before any service runs, like a scenario's steps. Only the route knob's
// value is left to the service, which alone knows its routes.
func Check(tier string, doc []byte) error {
	c, err := catalogFor(tier)
	if err != nil {
		return err
	}
	return c.decode(reflect.New(c.typ), bytes.NewReader(doc))
}
