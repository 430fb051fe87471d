package traffic

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// tracingFrontend answers as f does, with a traceresponse header naming trace n for its n-th
// answer, as the frontend's middleware writes it.
type tracingFrontend struct {
	f *fakeFrontend
	n atomic.Int64
}

func (t *tracingFrontend) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.f.RoundTrip(r)
	if err == nil {
		resp.Header.Set("traceresponse", fmt.Sprintf("00-%032x-00f067aa0ba902b7-01", t.n.Add(1)))
	}
	return resp, err
}

// The generator remembers its last 50 requests, newest first, each with its status, outcome
// and the trace id of the frontend's answer.
func TestRecentRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeFrontend{status: http.StatusNotFound, delay: 20 * time.Millisecond}
		tf := &tracingFrontend{f: f}
		g, err := New(Config{BaseURL: "http://frontend.test", Initial: Defaults(10), Client: &http.Client{Transport: tf}})
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Recent(); len(got) != 0 {
			t.Fatalf("recent before any request: %v", got)
		}
		stop := start(g)
		time.Sleep(10 * time.Second)
		stop()
		sent := int(tf.n.Load())
		recent := g.Recent()
		if sent < 99 || len(recent) != RecentSize {
			t.Fatalf("%d requests sent, %d remembered: want about 100 sent and %d remembered", sent, len(recent), RecentSize)
		}
		for i, s := range recent {
			// Requests overlap by at most one at this rate and delay, so the answers come back
			// in the order they were sent.
			if want := fmt.Sprintf("%032x", sent-i); s.TraceID != want {
				t.Errorf("recent[%d] trace %q, want %q (newest first)", i, s.TraceID, want)
			}
			if s.Status != http.StatusNotFound || s.Outcome != "client_error" || s.DurationMS != 20 || s.Path == "" {
				t.Errorf("recent[%d] = %+v, want a 404 client_error of 20 ms with its path", i, s)
			}
			if i > 0 && s.At.After(recent[i-1].At) {
				t.Errorf("recent[%d] at %v is newer than recent[%d] at %v", i, s.At, i-1, recent[i-1].At)
			}
		}
	})
}

func TestTraceIDOf(t *testing.T) {
	for header, want := range map[string]string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": "4bf92f3577b34da6a3ce929d0e0e4736",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01": "",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01": "",
		"00-4bf92f35-00f067aa0ba902b7-01":                         "",
		"":                                                        "",
		"<script>-4bf92f3577b34da6a3ce929d0e0e4736-x-01":          "",
	} {
		if got := traceIDOf(header); got != want {
			t.Errorf("traceIDOf(%q) = %q, want %q", header, got, want)
		}
	}
}
