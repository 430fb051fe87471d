// Package relay is the benchmark's floor: a bare net/http chain with as many hops as the
// services have. Each hop but the last forwards the request to the next and copies the answer
// back; the last answers a fixed body, captured from the real service for the same path so
// that the same bytes travel. No telemetry, no cache, no database.
package relay

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// NewClient is the hop-to-hop client, pooled like the services' own.
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.IdleConnTimeout = 512, 256, 90*time.Second
	return &http.Client{Transport: tr}
}

// Hop forwards every request to next (a base URL) and copies the answer back.
func Hop(next string, client *http.Client) http.Handler {
	return withReady(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, next+r.URL.RequestURI(), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
}

// Last answers each request with the body of the longest path prefix in bodies.
func Last(bodies map[string][]byte) http.Handler {
	prefixes := make([]string, 0, len(bodies))
	for p := range bodies {
		prefixes = append(prefixes, p)
	}
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	return withReady(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range prefixes {
			if strings.HasPrefix(r.URL.Path, p) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(bodies[p])
				return
			}
		}
		http.NotFound(w, r)
	}))
}

// withReady answers /ready, so that the harness waits for a relay as for a service.
func withReady(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ready" {
			w.WriteHeader(http.StatusOK)
			return
		}
		h.ServeHTTP(w, r)
	})
}
