package drill

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Served over HTTP, a bad diagnosis is a 400 whose body names the field; with no episode the
// answer is a 404, and a good diagnosis of nothing running is not graded.
func TestHandlerAnswersBadDiagnosisWith400(t *testing.T) {
	d, err := NewDesk(Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler(func(h http.Handler) http.Handler { return h }))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/drill/answer", "application/json", strings.NewReader(`{"service": "backend", "kind": "slowness"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body FieldErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || body.Field != "kind" || !strings.Contains(body.Error, "slowness") {
		t.Errorf("bad diagnosis: %s %+v, want 400 naming kind", resp.Status, body)
	}
	resp, err = http.Post(srv.URL+"/drill/answer", "application/json", strings.NewReader(`{"service": "none", "kind": "none"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an answer with no episode: %s, want 404", resp.Status)
	}
}
