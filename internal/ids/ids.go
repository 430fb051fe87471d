// Package ids holds the one rule for ids that every service applies to its input: the
// frontend before it calls, the backend's validate_user_id, and the database. It is a package
// of its own so that no service needs another's package to judge an id the same way.
package ids

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Max is the largest id any service accepts. Ids past it cannot exist (the seed has
// thousands of rows), and the bound keeps an id within every common SQL integer column and
// within what a JSON number carries exactly, whoever reads the answer.
const Max = 1<<31 - 1

// CodeInvalid is the code of the 400 that Parse answers, in every service's error shape.
const CodeInvalid = "invalid_id"

// Parse is the one rule for ids in every service: decimal digits only (no sign, no spaces,
// no hex or exponent), from 1 to Max. kind ("user", "product") names the id in the error, a
// 400 (code invalid_id) that says what was wrong and echoes the input only in part.
func Parse(kind, raw string) (int64, error) {
	if raw == "" {
		return 0, invalid(kind + " id is required")
	}
	id, err := ParseDigits(raw)
	switch {
	case errors.Is(err, ErrSign) && raw[0] == '-':
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " is negative: ids are positive numbers like 123")
	case errors.Is(err, ErrSign):
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " has a sign: write digits only, like 123")
	case errors.Is(err, errSpace):
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " contains whitespace: write digits only, like 123")
	case errors.Is(err, errNotDigits):
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " is not a number: write digits only, like 123")
	case err != nil || id > Max:
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " is out of range: ids go from 1 to " + strconv.Itoa(Max))
	case id == 0:
		return 0, invalid(kind + " id must be greater than 0")
	}
	return id, nil
}

func invalid(msg string) error {
	return &telemetry.HTTPError{Status: http.StatusBadRequest, Code: CodeInvalid, Err: errors.New(msg)}
}

// ErrSign is ParseDigits' error for a leading + or -.
var ErrSign = errors.New("has a sign")

var (
	errSpace     = errors.New("contains whitespace")
	errNotDigits = errors.New("not digits")
)

// ParseDigits reads a non-negative decimal integer written with digits only: strconv alone
// would take "+5", which the rule refuses. The error is ErrSign for a leading sign and an
// strconv.ErrRange error past int64. The database's query parameters are read with it too.
func ParseDigits(raw string) (int64, error) {
	if raw == "" {
		return 0, errNotDigits
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case '0' <= c && c <= '9':
		case i == 0 && (c == '-' || c == '+') && len(raw) > 1:
			return 0, ErrSign
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return 0, errSpace
		default:
			return 0, errNotDigits
		}
	}
	return strconv.ParseInt(raw, 10, 64)
}
