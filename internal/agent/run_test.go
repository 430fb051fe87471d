package agent

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/mcp"
	"github.com/pillars-o11y/pillars/internal/readback"
)

// leakingBackend is a Prometheus in which the backend's heap grew sixfold since the baseline.
type leakingBackend struct{ now time.Time }

func (m leakingBackend) Query(_ context.Context, q string, at time.Time) ([]readback.Sample, error) {
	if q != "sum by (job) (go_memstats_heap_inuse_bytes)" {
		return nil, nil
	}
	heap := 60e6
	if at.Before(m.now.Add(-time.Minute)) {
		heap = 10e6
	}
	return []readback.Sample{{Metric: map[string]string{"job": "backend"}, Value: heap}}, nil
}

func (leakingBackend) QueryRange(context.Context, string, time.Time, time.Time, time.Duration) ([]readback.Series, error) {
	return nil, nil
}
func (leakingBackend) LabelNames(context.Context, []string, time.Time, time.Time) ([]string, error) {
	return nil, nil
}
func (leakingBackend) LabelValues(context.Context, string, []string, time.Time, time.Time) ([]string, error) {
	return nil, nil
}
func (leakingBackend) Alerts(context.Context) ([]readback.Alert, error) { return nil, nil }

// answerDesk keeps the diagnoses it was sent.
type answerDesk struct {
	mu      sync.Mutex
	answers []Diagnosis
}

func (d *answerDesk) Start(context.Context, int64) (any, error) { return nil, nil }
func (d *answerDesk) Status(context.Context) (any, error) {
	return map[string]string{"state": "running"}, nil
}
func (d *answerDesk) Score(context.Context) (any, error) { return nil, nil }
func (d *answerDesk) Answer(_ context.Context, doc json.RawMessage) (any, error) {
	var dg Diagnosis
	if err := json.Unmarshal(doc, &dg); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.answers = append(d.answers, dg)
	return map[string]any{"graded": true}, nil
}

func serve(t *testing.T, desk *answerDesk) string {
	now := time.Now()
	srv := httptest.NewServer(mcp.Handler(mcp.New(mcp.Config{Metrics: leakingBackend{now: now}, Drills: desk, Now: func() time.Time { return now }}), mcp.HTTPOptions{}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestBaselineAgentAnswersThroughTheTools(t *testing.T) {
	desk := &answerDesk{}
	grade, err := Run(t.Context(), Config{Agent: "baseline", URL: serve(t, desk), Budget: time.Minute, Episode: "e1", Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(desk.answers) != 1 || desk.answers[0].Service != "backend" || desk.answers[0].Kind != "memory-leak" {
		t.Fatalf("answers %+v", desk.answers)
	}
	if !strings.Contains(grade, "graded: true") {
		t.Fatalf("grade %q", grade)
	}
}

func TestRandomAgentGuessesTheSameForOneEpisode(t *testing.T) {
	desk := &answerDesk{}
	url := serve(t, desk)
	for range 2 {
		if _, err := Run(t.Context(), Config{Agent: "random", URL: url, Episode: "e42", Log: io.Discard}); err != nil {
			t.Fatal(err)
		}
	}
	if len(desk.answers) != 2 || desk.answers[0] != desk.answers[1] {
		t.Fatalf("answers %+v", desk.answers)
	}
}

// stuckMetrics answers no query until the test is over.
type stuckMetrics struct {
	leakingBackend
	release chan struct{}
}

func (m stuckMetrics) Query(ctx context.Context, _ string, _ time.Time) ([]readback.Sample, error) {
	select {
	case <-m.release:
	case <-ctx.Done():
	}
	return nil, context.Canceled
}

func TestBaselineOutOfBudgetStillAnswers(t *testing.T) {
	desk := &answerDesk{}
	stuck := stuckMetrics{release: make(chan struct{})}
	srv := httptest.NewServer(mcp.Handler(mcp.New(mcp.Config{Metrics: stuck, Drills: desk}), mcp.HTTPOptions{}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stuck.release) }) // before the server closes: cleanups run last first
	_, err := Run(t.Context(), Config{Agent: "baseline", URL: srv.URL, Budget: 2 * time.Second, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(desk.answers) != 1 || desk.answers[0].Service != None {
		t.Fatalf("answers %+v, want one 'none'", desk.answers)
	}
}
