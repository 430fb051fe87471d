package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/bench/harness/stats"
)

// Num formats a count with a thin space between thousands: 11 660.
func Num(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	s := fmt.Sprintf("%.0f", x)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(' ')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Ms formats nanoseconds as milliseconds.
func Ms(ns float64) string {
	if math.IsNaN(ns) {
		return "—"
	}
	d := ns / float64(time.Millisecond)
	switch {
	case d < 10:
		return fmt.Sprintf("%.2f ms", d)
	case d < 100:
		return fmt.Sprintf("%.1f ms", d)
	}
	return fmt.Sprintf("%.0f ms", d)
}

// MB formats bytes as megabytes (10^6).
func MB(b float64) string {
	if math.IsNaN(b) {
		return "—"
	}
	return fmt.Sprintf("%.1f MB", b/1e6)
}

// Range formats a spread as "median (min–max)" with f, or the median alone for one round.
func Range(s stats.Spread, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

func fixed(digits int) func(float64) string {
	return func(x float64) string {
		if math.IsNaN(x) {
			return "—"
		}
		return fmt.Sprintf("%.*f", digits, x)
	}
}

func join(parts []string) string { return strings.Join(parts, ", ") }
