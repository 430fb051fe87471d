package mcp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/readback"
)

func TestToolErrorQuotesTheStoreNotTheURL(t *testing.T) {
	err := toolError("PromQL", &readback.HTTPError{Method: "GET", URL: "http://user:pw@prom:9090/api/v1/query?query=sum(", Status: 400,
		Reason: "bad_data: 1:5: parse error:\n\x1b[31munclosed\x1b[0m " + strings.Repeat("x", 1000)})
	msg := err.Error()
	if !strings.HasPrefix(msg, "PromQL: 400 Bad Request: bad_data: 1:5: parse error:") || strings.Contains(msg, "http") ||
		strings.ContainsAny(msg, "\n\x1b") || len(msg) > maxError+len("PromQL: ")+len("…") {
		t.Fatalf("tool error %q", msg)
	}
	un := toolError("logs", &readback.UnreachableError{Method: "GET", URL: "http://x", Why: "nothing listens there", Err: errors.New("refused")})
	if un.Error() != "logs: store unreachable: nothing listens there" {
		t.Fatalf("unreachable: %q", un)
	}
}

func TestWindowTimes(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		w          Window
		start, end time.Time
		bad        bool
	}{
		{Window{}, now.Add(-15 * time.Minute), now, false},
		{Window{Start: "1h", End: "30m"}, now.Add(-time.Hour), now.Add(-30 * time.Minute), false},
		{Window{Start: "2026-12-07T11:00:00Z", End: "now"}, now.Add(-time.Hour), now, false},
		{Window{End: "1h"}, now.Add(-75 * time.Minute), now.Add(-time.Hour), false},
		{Window{Start: "5m", End: "10m"}, time.Time{}, time.Time{}, true},
		{Window{Start: "yesterday"}, time.Time{}, time.Time{}, true},
	} {
		start, end, err := c.w.times(now)
		if c.bad != (err != nil) || !c.bad && (!start.Equal(c.start) || !end.Equal(c.end)) {
			t.Errorf("%+v: %s..%s, %v", c.w, start, end, err)
		}
	}
}

func TestRangeStepBoundsThePoints(t *testing.T) {
	if s, err := rangeStep("", time.Hour); err != nil || s != 2*time.Minute {
		t.Fatalf("default step over an hour: %s %v", s, err)
	}
	if _, err := rangeStep("1s", time.Hour); err == nil {
		t.Fatal("3600 points a series accepted")
	}
	if got := evenly(100, 24); len(got) != 24 || got[0] != 0 || got[23] != 99 {
		t.Fatalf("evenly(100, 24) = %v", got)
	}
}

func TestPaginateFooter(t *testing.T) {
	rows := []string{"a", "b", "c"}
	for _, c := range []struct {
		p     Page
		exact bool
		want  string
	}{
		{Page{Limit: 2}, true, "a\nb\n-- rows 1-2 of 3; next=2\n"},
		{Page{Limit: 2, Offset: 2}, true, "c\n-- rows 3-3 of 3\n"},
		{Page{Limit: 2}, false, "a\nb\n-- rows 1-2 of more than 2; next=2\n"},
		{Page{Offset: 5}, true, "offset 5 is past the last row (3 rows)\n"},
	} {
		var b strings.Builder
		paginate(&b, rows, c.p, c.exact, maxLine)
		if b.String() != c.want {
			t.Errorf("%+v: %q, want %q", c.p, b.String(), c.want)
		}
	}
}

func TestDeepPagesAreRefused(t *testing.T) {
	if _, _, err := (Page{Offset: MaxOffset + 1}).bounds(); err == nil {
		t.Fatal("an offset past MaxOffset would ask a store for that many rows")
	}
	if _, _, err := (Page{Offset: MaxOffset}).bounds(); err != nil {
		t.Fatal(err)
	}
}
