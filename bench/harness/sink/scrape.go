package sink

import (
	"context"
	"io"
	"net/http"
	"time"
)

// openMetrics is what Prometheus asks for first: the only text format that carries exemplars,
// so the services do the work a real scrape makes them do.
const openMetrics = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"

// Scrape reads every target's /metrics once per interval until ctx is done, as Prometheus
// would, counting bytes.
func (s *Sink) Scrape(ctx context.Context, targets []string, interval time.Duration) {
	client := &http.Client{Timeout: interval}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		for _, t := range targets {
			s.scrapeOnce(ctx, client, t)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Sink) scrapeOnce(ctx context.Context, client *http.Client, target string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		s.scrapeFailures.Add(1)
		return
	}
	req.Header.Set("Accept", openMetrics)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.scrapeFailures.Add(1)
		}
		return
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	s.scrapeBytes.Add(n)
	if err != nil || resp.StatusCode != http.StatusOK {
		s.scrapeFailures.Add(1)
		return
	}
	s.scrapes.Add(1)
	s.lastScrape.Store(target, n)
}
