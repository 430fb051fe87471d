package mcp

import (
	"fmt"
	"time"
)

// defaultWindow is how far back a search looks when the call names no start.
const defaultWindow = 15 * time.Minute

// Window is the time range of a tool's input. Each end is an RFC 3339 time or an age ("15m"
// means 15 minutes ago), which is what an agent can write without knowing the clock.
type Window struct {
	Start string `json:"start,omitempty" jsonschema:"default 15m"`
	End   string `json:"end,omitempty" jsonschema:"default now"`
}

func (w Window) times(now time.Time) (start, end time.Time, err error) {
	if end, err = instant("end", w.End, now, now); err != nil {
		return
	}
	if start, err = instant("start", w.Start, now, end.Add(-defaultWindow)); err != nil {
		return
	}
	if !start.Before(end) {
		err = fmt.Errorf("start %s is not before end %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	return
}

// instant reads one time: empty is def, an age counts back from now.
func instant(field, s string, now, def time.Time) (time.Time, error) {
	switch s {
	case "":
		return def, nil
	case "now":
		return now, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			d = -d
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time or an age like 15m", field, s)
	}
	return t, nil
}
