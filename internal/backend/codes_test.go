package backend

import (
	"net/http"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// A backend pointed at the real database with a wrong path prefix gets the database's "no
// route" 404 on every call: that is the backend's failure (502, counted as the call's
// client_error), never "user 5 does not exist". A user the real database does not have is
// still a 404, with the backend's own code for it.
func TestWrongDatabaseURLIsABadGatewayNotAMissingUser(t *testing.T) {
	dbURL := startRealDatabase(t)
	wrong := startBackendAt(t, dbURL+"/v2", Config{})
	for _, path := range []string{"/api/user/5", "/api/product/7", "/api/data"} {
		a := wrong.get(t, path)
		if e := decode[telemetry.ErrorBody](t, a); a.status != http.StatusBadGateway || e.Code != "bad_gateway" {
			t.Errorf("%s through a wrong database URL: %d %s, want 502 bad_gateway", path, a.status, a.body)
		}
	}
	for op, want := range map[string]float64{opGetUser: 1, opGetProduct: 1, opQuery: 2} {
		if v := wrong.dbCalls(t, op, telemetry.CallClientError); v != want {
			t.Errorf("backend_database_calls_total{%s,client_error} = %v, want %v", op, v, want)
		}
		if v := wrong.dbCalls(t, op, telemetry.CallNotFound); v != 0 {
			t.Errorf("backend_database_calls_total{%s,not_found} = %v, want 0", op, v)
		}
	}

	right := startBackendAt(t, dbURL, Config{})
	for path, code := range map[string]string{"/api/user/999999": CodeUserNotFound, "/api/product/1001": CodeProductNotFound} {
		a := right.get(t, path)
		if e := decode[telemetry.ErrorBody](t, a); a.status != http.StatusNotFound || e.Code != code {
			t.Errorf("%s: %d %s, want 404 %s", path, a.status, a.body, code)
		}
	}
}
