package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

// attempt is the outcome of one try of a check.
type attempt struct {
	ok     bool
	detail string // what was found, or why not yet
	// query and answer: what was asked last, and an excerpt of what came back.
	query, answer string
	// final: trying again cannot help (a query the store rejects, a link that is wrong).
	final bool
}

// notYet is an attempt to try again: err says why.
func notYet(query string, err error) attempt {
	return attempt{detail: err.Error(), query: query, final: isFinal(err)}
}

// isFinal says whether an error is one that waiting will not cure: the store rejected the
// query itself (400), or the request was not understood.
func isFinal(err error) bool {
	if he, ok := errors.AsType[*readback.HTTPError](err); ok {
		return he.Status == http.StatusBadRequest || he.Status == http.StatusUnprocessableEntity
	}
	return false
}

const (
	pollInterval     = 500 * time.Millisecond
	progressInterval = 5 * time.Second
)

// poll tries a check until it passes, fails for good, or the timeout passes, writing a line
// of progress now and then while it waits.
func (r *runner) poll(ctx context.Context, c Check, what string, try func(ctx context.Context) attempt) Check {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	start := time.Now()
	lastProgress := start
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last attempt
	for {
		a := try(ctx)
		if a.ok {
			c.Status, c.Detail = Pass, a.detail
			return c
		}
		// An attempt cut short by the deadline says only that; the one before says what was
		// still missing.
		if ctx.Err() != nil && last.detail != "" {
			a = last
		}
		last = a
		waited := time.Since(start)
		if a.final || ctx.Err() != nil {
			c.Status, c.Query, c.Answer = Fail, a.query, a.answer
			c.Detail = a.detail
			if !a.final {
				c.Detail = fmt.Sprintf("after %s: %s", waited.Round(time.Second), a.detail)
			}
			return c
		}
		if time.Since(lastProgress) >= progressInterval {
			lastProgress = time.Now()
			r.progress("waiting for %s: %s [%s of %s]", what, a.detail, waited.Round(time.Second), r.cfg.Timeout)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}
