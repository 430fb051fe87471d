//go:build e2e

package e2e

import (
	"testing"

	"github.com/pillars-o11y/pillars/internal/readback/prometheustest"
)

// readback's Prometheus client passes, against the real Prometheus, the same cases its unit
// tests run against the fake Prometheus API (internal/readback/prometheustest): the fake
// answers as Prometheus does, or this test says where it does not.
func TestReadbackPrometheusCases(t *testing.T) {
	for _, c := range prometheustest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if err := c.Check(t.Context(), stk.prom); err != nil {
				t.Error(err)
			}
		})
	}
}
