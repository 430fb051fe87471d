package ids

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// One rule for ids in every service: digits only, from 1 to Max; a refusal is a 400 with
// the invalid_id code.
func TestParse(t *testing.T) {
	cases := []struct {
		raw     string
		want    int64
		wantErr string // part of the message; "" for a valid id
	}{
		{"1", 1, ""},
		{"123", 123, ""},
		{"5000", 5000, ""},
		{"007", 7, ""},
		{"2147483647", 2147483647, ""},
		{"", 0, "user id is required"},
		{"0", 0, "must be greater than 0"},
		{"000", 0, "must be greater than 0"},
		{"-1", 0, `"-1" is negative`},
		{"-", 0, `"-" is not a number`},
		{"+1", 0, `"+1" has a sign`},
		{" 1", 0, "contains whitespace"},
		{"1 ", 0, "contains whitespace"},
		{"1\t", 0, "contains whitespace"},
		{"abc", 0, `"abc" is not a number`},
		{"12a", 0, `"12a" is not a number`},
		{"1.0", 0, "is not a number"},
		{"1e3", 0, "is not a number"},
		{"0x1f", 0, "is not a number"},
		{"١٢٣", 0, "is not a number"}, // Arabic-Indic digits are not ASCII digits
		{"2147483648", 0, "is out of range: ids go from 1 to 2147483647"},
		{"9223372036854775807", 0, "is out of range"},
		{"9223372036854775808", 0, "is out of range"}, // past int64
		{strings.Repeat("9", 100), 0, `is out of range`},
		{strings.Repeat("x", 100), 0, `"` + strings.Repeat("x", 64) + `"… is not a number`},
	}
	for _, c := range cases {
		got, err := Parse("user", c.raw)
		switch {
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("Parse(%q) = %d, %v; want %d", c.raw, got, err, c.want)
		case c.wantErr != "" && (err == nil || !isInvalid(err) || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("Parse(%q) = %d, %v; want an error containing %q", c.raw, got, err, c.wantErr)
		}
	}
}

func isInvalid(err error) bool {
	he, ok := errors.AsType[*telemetry.HTTPError](err)
	return ok && he.Status == http.StatusBadRequest && he.Code == CodeInvalid
}
