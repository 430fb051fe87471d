package database

import (
	"strings"
	"testing"
)

// Every statement is planned at start, in the store's own words, and each plan fits within a
// span attribute's default length limit (1024), so query_planning never carries a cut plan.
func TestEveryStatementIsPlanned(t *testing.T) {
	eachStore(t, func(t *testing.T, ts testStore) {
		h := ts.start(t, Config{})
		for _, st := range h.svc.stmts.all() {
			var plan string
			for _, kv := range *st.planAttrs.Load() {
				if kv.Key == attrQueryPlan {
					plan = kv.Value.AsString()
				}
			}
			other := map[string]string{"?": "$1", "$1": "?"}[ts.placeholder]
			if plan == "" || len(plan) > 1024 || strings.Contains(st.text, other) {
				t.Errorf("%s: %d-character plan %q for %s", st.name, len(plan), plan, st.text)
			}
		}
	})
}
