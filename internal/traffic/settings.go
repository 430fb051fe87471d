package traffic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
)

// Settings is what the generator sends: GET /admin/traffic shows them, PUT replaces them and
// PATCH changes the fields given. The zero Rate is an idle generator.
type Settings struct {
	// Rate is the requests per second of the steady shape, the end of a ramp, and the floor
	// that spikes and waves rise from.
	Rate float64 `json:"rate"`
	// Mix is the share of each kind of request.
	Mix Mix `json:"mix"`
	// Paused stops sending without forgetting the rest.
	Paused bool `json:"paused"`
	// Shape is how the rate moves over time: steady, ramp, spike or wave.
	Shape Shape `json:"shape"`
	// From is where a ramp starts (default: the rate in effect when the ramp is set).
	From *float64 `json:"from,omitempty"`
	// Peak is the top of a spike or a wave.
	Peak float64 `json:"peak,omitempty"`
	// Period is a ramp's length, the time from one spike to the next, or one cycle of a wave.
	Period faults.Duration `json:"period,omitempty"`
	// Width is how long each spike lasts.
	Width faults.Duration `json:"width,omitempty"`
}

// Mix weighs the kinds of request against each other; the weights need not add up to
// anything ({"user": 1} sends user pages only). Bad requests are ids that do not exist or
// are not ids at all: they must fail with a 4xx.
type Mix struct {
	Home    float64 `json:"home"`
	User    float64 `json:"user"`
	Product float64 `json:"product"`
	Bad     float64 `json:"bad"`
}

// DefaultMix is the built-in traffic's: 10 % home, 50 % user, 35 % product, 5 % bad requests.
var DefaultMix = Mix{Home: 10, User: 50, Product: 35, Bad: 5}

func (m Mix) total() float64 { return m.Home + m.User + m.Product + m.Bad }

// Shape names how the rate moves over time.
type Shape string

const (
	Steady Shape = "steady" // Rate, all the time
	Ramp   Shape = "ramp"   // from From to Rate over Period, then Rate
	Spike  Shape = "spike"  // Peak for Width at the start of every Period, Rate in between
	Wave   Shape = "wave"   // from Rate up to Peak and back over every Period: a daily wave, sped up
)

// Bounds of the settings: a generator inside the frontend must not be able to take the
// frontend (or the machine) down by itself.
const (
	MaxRate     = 500
	MinPeriod   = time.Second
	MaxPeriod   = 24 * time.Hour
	MaxDuration = 24 * time.Hour
	maxBody     = 4 << 10
)

// Default periods of the shapes that need one.
var defaultPeriods = map[Shape]time.Duration{Ramp: time.Minute, Spike: time.Minute, Wave: 10 * time.Minute}

// Defaults returns the settings of a generator at rate.
func Defaults(rate float64) Settings {
	return Settings{Rate: rate, Mix: DefaultMix, Shape: Steady}
}

// Change is a PUT or PATCH document: settings, and for how long they hold before the
// generator returns to those in effect before (0: for good).
type Change struct {
	Settings
	Duration faults.Duration `json:"duration,omitempty"`
}

// SettingsError is settings that cannot be used; the message is in the caller's terms.
type SettingsError struct{ Msg string }

func (e *SettingsError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &SettingsError{Msg: fmt.Sprintf(format, args...)}
}

// Check validates the settings and fills the shape's defaults.
func (s *Settings) Check() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"rate", s.Rate}, {"peak", s.Peak}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > MaxRate {
			return invalid("%s %s: want requests per second from 0 to %d", f.name, fmtFloat(f.v), MaxRate)
		}
	}
	if s.From != nil && (math.IsNaN(*s.From) || *s.From < 0 || *s.From > MaxRate) {
		return invalid("from %s: want requests per second from 0 to %d", fmtFloat(*s.From), MaxRate)
	}
	m := s.Mix
	for _, w := range []float64{m.Home, m.User, m.Product, m.Bad} {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return invalid("mix %s: every share must be a number of 0 or more", mixText(m))
		}
	}
	if m.total() <= 0 {
		return invalid("mix %s: at least one share must be above 0", mixText(m))
	}
	if s.Shape == "" {
		s.Shape = Steady
	}
	switch s.Shape {
	case Steady:
	case Ramp, Spike, Wave:
		if s.Period == 0 {
			s.Period = faults.Duration(defaultPeriods[s.Shape])
		}
		if p := s.Period.D(); p < MinPeriod || p > MaxPeriod {
			return invalid("period %s: want %s to %s", p, MinPeriod, MaxPeriod)
		}
	default:
		return invalid("shape %q: want steady, ramp, spike or wave", cut(string(s.Shape)))
	}
	if s.Shape == Spike {
		if s.Width == 0 {
			s.Width = s.Period / 6
		}
		if s.Width <= 0 || s.Width >= s.Period {
			return invalid("width %s: a spike must be shorter than its period %s", s.Width.D(), s.Period.D())
		}
	}
	if (s.Shape == Spike || s.Shape == Wave) && s.Peak == 0 {
		return invalid("a %s needs a peak: the highest rate, in requests per second", s.Shape)
	}
	return nil
}

// rateAt is the rate the settings ask for at elapsed since they took effect; from is the
// ramp's start when the settings give none.
func (s Settings) rateAt(elapsed time.Duration) float64 {
	if s.Paused {
		return 0
	}
	period := s.Period.D().Seconds()
	t := elapsed.Seconds()
	switch s.Shape {
	case Ramp:
		from := 0.0
		if s.From != nil {
			from = *s.From
		}
		if t >= period {
			return s.Rate
		}
		return from + (s.Rate-from)*t/period
	case Spike:
		if math.Mod(t, period) < s.Width.D().Seconds() {
			return s.Peak
		}
		return s.Rate
	case Wave:
		return s.Rate + (s.Peak-s.Rate)*(1-math.Cos(2*math.Pi*t/period))/2
	}
	return s.Rate
}

// Describe writes the settings briefly, for logs and progress lines.
func (s Settings) Describe() string {
	var b strings.Builder
	if s.Paused {
		b.WriteString("paused, ")
	}
	switch s.Shape {
	case Ramp:
		from := "now"
		if s.From != nil {
			from = fmtFloat(*s.From)
		}
		fmt.Fprintf(&b, "ramp from %s to %s req/s over %s", from, fmtFloat(s.Rate), s.Period.D())
	case Spike:
		fmt.Fprintf(&b, "%s req/s with spikes to %s for %s every %s", fmtFloat(s.Rate), fmtFloat(s.Peak), s.Width.D(), s.Period.D())
	case Wave:
		fmt.Fprintf(&b, "wave from %s to %s req/s every %s", fmtFloat(s.Rate), fmtFloat(s.Peak), s.Period.D())
	default:
		fmt.Fprintf(&b, "%s req/s", fmtFloat(s.Rate))
	}
	if s.Mix != DefaultMix {
		b.WriteString(", mix " + mixText(s.Mix))
	}
	return b.String()
}

func mixText(m Mix) string {
	return fmt.Sprintf("home=%s user=%s product=%s bad=%s", fmtFloat(m.Home), fmtFloat(m.User), fmtFloat(m.Product), fmtFloat(m.Bad))
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// DecodeChange reads a PUT (onto nil: every field left out takes its default) or a PATCH
// document (onto the settings in effect: fields left out keep their value) and checks it.
// Unknown fields are refused, so that a typo is not silently ignored.
func DecodeChange(body io.Reader, onto *Settings) (Change, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return Change{}, err
	}
	if len(data) > maxBody {
		return Change{}, invalid("traffic document larger than 4 KiB")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Change{}, invalid(`empty body: send a JSON object like {"rate": 5}`)
	}
	var keys map[string]json.RawMessage
	first := json.NewDecoder(bytes.NewReader(data))
	if err := first.Decode(&keys); err != nil {
		return Change{}, invalid(`want one JSON object like {"rate": 5, "shape": "wave", "peak": 20, "period": "10m"}`)
	}
	if _, err := first.Token(); !errors.Is(err, io.EOF) {
		return Change{}, invalid("want one JSON object and nothing after it")
	}
	c := Change{Settings: Defaults(0)}
	if onto != nil {
		c.Settings = *onto
		// The fields of a shape (from, peak, period, width) belong to it: a document that
		// names a shape sets them afresh rather than keeping the previous shape's.
		if _, ok := keys["shape"]; ok {
			c.From, c.Peak, c.Period, c.Width = nil, 0, 0, 0
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Change{}, decodeError(err)
	}
	if d := c.Duration.D(); d < 0 || d > MaxDuration {
		return Change{}, invalid("duration %s: want 0 (for good) up to %s", d, MaxDuration)
	}
	if err := c.Check(); err != nil {
		return Change{}, err
	}
	return c, nil
}

// decodeError says what was wrong with a document in its own terms.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		field := strings.TrimPrefix(typeErr.Field, "Settings.") // the embedded struct's path
		return invalid("field %s: want %s", field, kindOf(field))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return invalid("unknown field %s: the fields are rate, mix, paused, shape, from, peak, period, width, duration", cut(name))
	}
	// A duration that does not parse ends up here, with time's message.
	return invalid("%s", cut(err.Error()))
}

func kindOf(field string) string {
	switch field {
	case "paused":
		return "true or false"
	case "shape":
		return "steady, ramp, spike or wave"
	case "period", "width", "duration":
		return `a duration like "30s"`
	case "mix":
		return `an object like {"home": 10, "user": 50, "product": 35, "bad": 5}`
	}
	return "a number"
}
