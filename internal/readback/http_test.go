package readback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// closedURL is a loopback URL where nothing listens.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// Every way a URL can be wrong gives an error that names the URL and what happened.
func TestErrorsNameTheURLAndTheAnswer(t *testing.T) {
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<!DOCTYPE html><title>Some other app</title>")
	}))
	t.Cleanup(html.Close)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	hang := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); silent.Close() })
	closed := closedURL(t)

	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
		want []string
	}{
		{"nothing listens", func(ctx context.Context) error {
			p, _ := NewPrometheus(closed, nil)
			_, err := p.Ping(ctx)
			return err
		}, []string{closed, "connection refused"}},
		{"an HTML page where Prometheus should be", func(ctx context.Context) error {
			p, _ := NewPrometheus(html.URL, nil)
			_, err := p.Ping(ctx)
			return err
		}, []string{html.URL, "does not answer like Prometheus", "Some other app"}},
		{"404 everywhere, kind detected", func(ctx context.Context) error {
			_, err := OpenTraces(ctx, "auto", notFound.URL, nil)
			return err
		}, []string{notFound.URL, "is not a trace store", "/api/echo", "/api/services", "404"}},
		{"a log store that is not there", func(ctx context.Context) error {
			_, err := OpenLogs(ctx, "auto", closed, nil)
			return err
		}, []string{closed, "connection refused"}},
		{"no answer before the deadline", func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			j, _ := NewJaeger(silent.URL, nil)
			_, err := j.Trace(ctx, "0af7651916cd43dd8448eb211c80319c")
			return err
		}, []string{silent.URL, "no answer before the deadline"}},
		{"not a URL", func(ctx context.Context) error {
			_, err := NewLoki("loki:3100", nil)
			return err
		}, []string{"loki:3100", "want http://host:port"}},
		{"an unknown kind", func(ctx context.Context) error {
			_, err := OpenLogs(ctx, "elastic", closed, nil)
			return err
		}, []string{"elastic", "victorialogs or loki"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(ctx)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
}

// A trace store that does not have the trace says so with ErrTraceNotFound, not a bare 404.
func TestTraceNotFound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}`)
	}))
	t.Cleanup(srv.Close)
	j, _ := NewJaeger(srv.URL, nil)
	tempo, _ := NewTempo(srv.URL, nil)
	for _, s := range []TraceStore{j, tempo} {
		if _, err := s.Trace(context.Background(), "484d9"); !errors.Is(err, ErrTraceNotFound) || !strings.Contains(err.Error(), "/api/traces/000000000000000000000000000484d9") {
			t.Errorf("%s: %v, want ErrTraceNotFound for the padded id", s.Kind(), err)
		}
	}
}
