package relay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestChainReturnsTheLastHopsBody(t *testing.T) {
	bodies := map[string][]byte{"/": []byte(`{"home":true}`), "/user/": []byte(`{"user":1}`)}
	last := httptest.NewServer(Last(bodies))
	defer last.Close()
	client := NewClient()
	mid := httptest.NewServer(Hop(last.URL, client))
	defer mid.Close()
	first := httptest.NewServer(Hop(mid.URL, client))
	defer first.Close()

	for path, want := range map[string]string{"/user/42": `{"user":1}`, "/": `{"home":true}`, "/product/3": `{"home":true}`} {
		resp, err := http.Get(first.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != want || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s = %s %q (%s), want %q", path, resp.Status, got, resp.Header.Get("Content-Type"), want)
		}
	}
	resp, err := http.Get(first.URL + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/ready = %s", resp.Status)
	}
}

func TestHopReportsADeadNextHop(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	hop := httptest.NewServer(Hop(url, NewClient()))
	defer hop.Close()
	resp, err := http.Get(hop.URL + "/user/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("dead next hop: %s, want 502", resp.Status)
	}
}
