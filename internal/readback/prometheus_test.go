package readback_test

import (
	"context"
	"testing"

	"github.com/pillars-o11y/pillars/internal/readback"
	"github.com/pillars-o11y/pillars/internal/readback/prometheustest"
)

// The Prometheus client passes the cases against the fake Prometheus API; the end-to-end
// suite runs the same cases against a real Prometheus.
func TestPrometheusCases(t *testing.T) {
	fake := prometheustest.NewFake(t)
	p, err := readback.NewPrometheus(fake.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range prometheustest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if err := c.Check(context.Background(), p); err != nil {
				t.Error(err)
			}
		})
	}
}
