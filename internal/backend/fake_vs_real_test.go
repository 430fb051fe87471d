package backend

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry"
	"github.com/pillars-o11y/pillars/internal/telemetry/telemetrytest"
)

// The fake database the other tests use answers like the real service: the same requests,
// sent through a backend in front of each, get the same statuses and answers of the same
// shape (every JSON key the real one has, no other), error answers carry the same code, and
// each answer validates.
func TestFakeDatabaseAnswersLikeTheRealOne(t *testing.T) {
	realDB := startRealDatabase(t)
	fake := startBackend(t, newFakeDB(t), Config{})
	real := startBackendAt(t, realDB, Config{})
	for _, c := range []struct {
		path     string
		validate func([]byte) error
	}{
		{"/api/user/123", validates[UserResponse]},
		{"/api/product/42", validates[ProductResponse]},
		{"/api/product/13", validates[ProductResponse]},
		{"/api/data", validates[DataResponse]},
		{"/api/user/4999", validates[UserResponse]},
		{"/api/user/999999", nil},
		{"/api/product/1001", nil},
		{"/api/user/abc", nil},
	} {
		t.Run(c.path, func(t *testing.T) {
			f, r := fake.get(t, c.path), real.get(t, c.path)
			if f.status != r.status {
				t.Fatalf("fake answered %d, real %d (%s)", f.status, r.status, r.body)
			}
			if fk, rk := telemetrytest.JSONKeys(t, f.body), telemetrytest.JSONKeys(t, r.body); !slices.Equal(fk, rk) {
				t.Errorf("answers differ in shape:\nfake %v\nreal %v", fk, rk)
			}
			if fc, rc := errorCode(t, f.body), errorCode(t, r.body); fc != rc {
				t.Errorf("fake answered code %q, real %q", fc, rc)
			}
			if c.validate == nil {
				return
			}
			for name, body := range map[string][]byte{"fake": f.body, "real": r.body} {
				if err := c.validate(body); err != nil {
					t.Errorf("%s answer does not validate: %v\n%s", name, err, body)
				}
			}
		})
	}
}

// errorCode is the code of a JSON error answer, "" for any other answer.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e telemetry.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return e.Code
}

func validates[T telemetry.Answer](body []byte) error {
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return v.Validate()
}

// startRealDatabase runs the real database service on a new, seeded SQLite file.
func startRealDatabase(t *testing.T) string {
	t.Helper()
	svc, err := database.New(context.Background(), database.Config{Path: filepath.Join(t.TempDir(), "pillars.db")},
		telemetrytest.New(t, "database").Telemetry)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() { srv.Close(); _ = svc.Close() })
	return srv.URL
}
