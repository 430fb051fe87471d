package traffic

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pillars-o11y/pillars/internal/faults"
)

func ptr(v float64) *float64 { return &v }

// Each shape asks for the rate its description promises, at every point of its period.
func TestShapes(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	period := faults.Duration(100 * time.Second)
	for _, c := range []struct {
		name string
		s    Settings
		at   map[float64]float64 // seconds since the change → rate
	}{
		{"steady", Settings{Rate: 7, Shape: Steady}, map[float64]float64{0: 7, 1e5: 7}},
		{"paused", Settings{Rate: 7, Shape: Steady, Paused: true}, map[float64]float64{0: 0, 50: 0}},
		{"ramp", Settings{Rate: 20, Shape: Ramp, From: ptr(10), Period: period},
			map[float64]float64{0: 10, 50: 15, 100: 20, 1000: 20}},
		{"ramp down", Settings{Rate: 0, Shape: Ramp, From: ptr(10), Period: period},
			map[float64]float64{0: 10, 25: 7.5, 100: 0}},
		{"spike", Settings{Rate: 2, Peak: 50, Shape: Spike, Period: period, Width: faults.Duration(10 * time.Second)},
			map[float64]float64{0: 50, 9.9: 50, 10: 2, 99: 2, 100: 50, 110: 2}},
		{"wave", Settings{Rate: 2, Peak: 12, Shape: Wave, Period: period},
			map[float64]float64{0: 2, 25: 7, 50: 12, 75: 7, 100: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for at, want := range c.at {
				if got := c.s.rateAt(sec(at)); math.Abs(got-want) > 1e-9 {
					t.Errorf("%s at %vs: rate %v, want %v", c.s.Describe(), at, got, want)
				}
			}
		})
	}
}

// A document is checked before anything changes: each mistake is refused with a message that
// names the field and says what it takes.
func TestDecodeChangeRefuses(t *testing.T) {
	for doc, want := range map[string]string{
		``:                        "empty body",
		`[1]`:                     "one JSON object",
		`{"rate": 5} {"rate": 6}`: "nothing after it",
		`{"rate": -1}`:            "rate -1",
		`{"rate": 501}`:           "from 0 to 500",
		`{"rate": "fast"}`:        "field rate: want a number",
		`{"speed": 5}`:            `unknown field "speed"`,
		`{"mix": {"user": -1}}`:   "0 or more",
		`{"mix": {"home":0,"user":0,"product":0,"bad":0}}`:               "at least one share",
		`{"mix": {"users": 1}}`:                                          `unknown field "users"`,
		`{"shape": "sawtooth"}`:                                          `shape "sawtooth"`,
		`{"shape": "wave"}`:                                              "needs a peak",
		`{"shape": "wave", "peak": 5, "period": "0.1s"}`:                 "period 100ms",
		`{"shape": "spike", "peak": 5, "period": "10s", "width": "10s"}`: "shorter than its period",
		`{"rate": 5, "duration": "48h"}`:                                 "duration 48h0m0s",
		`{"rate": 5, "duration": "soon"}`:                                "soon",
		`{"paused": "yes"}`:                                              "true or false",
		`{"rate": 5, "pad": "` + strings.Repeat("x", 5000) + `"}`:        "larger than 4 KiB",
	} {
		_, err := DecodeChange(strings.NewReader(doc), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeChange(%.60s): %v, want an error containing %q", doc, err, want)
		}
	}
}

// PUT starts from the defaults, PATCH from the settings in effect; naming a shape sets its
// parameters afresh.
func TestDecodeChangePutAndPatch(t *testing.T) {
	put, err := DecodeChange(strings.NewReader(`{"rate": 5}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if put.Settings != Defaults(5) {
		t.Errorf("PUT {rate: 5} gave %+v, want the defaults at 5/s", put.Settings)
	}
	current := Settings{Rate: 3, Mix: Mix{User: 1}, Shape: Wave, Peak: 9, Period: faults.Duration(5 * time.Minute)}
	patch, err := DecodeChange(strings.NewReader(`{"rate": 4, "mix": {"bad": 1}, "duration": "30s"}`), &current)
	if err != nil {
		t.Fatal(err)
	}
	want := current
	want.Rate, want.Mix.Bad = 4, 1
	if patch.Settings != want || patch.Duration.D() != 30*time.Second {
		t.Errorf("PATCH gave %+v for %s, want %+v for 30s", patch.Settings, patch.Duration.D(), want)
	}
	reshaped, err := DecodeChange(strings.NewReader(`{"shape": "ramp", "rate": 10}`), &current)
	if err != nil {
		t.Fatal(err)
	}
	if reshaped.Peak != 0 || reshaped.Period.D() != time.Minute || reshaped.From != nil || reshaped.Mix != current.Mix {
		t.Errorf("PATCH to a ramp gave %+v: want the wave's peak gone, the ramp's default period, the mix kept", reshaped.Settings)
	}
}
