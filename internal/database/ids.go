package database

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// MaxID is the largest id any service accepts. Ids past it cannot exist (the seed has
// thousands of rows), and the bound keeps an id within every common SQL integer column and
// within what a JSON number carries exactly, whoever reads the answer.
const MaxID = 1<<31 - 1

// ParseID is the one rule for ids in every service, applied by the frontend before it calls,
// by the backend's validate_user_id, and by the database: decimal digits only (no sign, no
// spaces, no hex or exponent), from 1 to MaxID. kind ("user", "product") names the id in the
// error, a 400 that says what was wrong and echoes the input only in part.
func ParseID(kind, raw string) (int64, error) {
	if raw == "" {
		return 0, invalid(kind + " id is required")
	}
	id, err := parseDecimal(raw)
	switch {
	case errors.Is(err, errSign) && raw[0] == '-':
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " is negative: ids are positive numbers like 123")
	case errors.Is(err, errSign):
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " has a sign: write digits only, like 123")
	case errors.Is(err, errSpace):
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " contains whitespace: write digits only, like 123")
	case errors.Is(err, errNotDigits):
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " is not a number: write digits only, like 123")
	case err != nil || id > MaxID:
		return 0, invalid(kind + " id " + telemetry.Quote(raw) + " is out of range: ids go from 1 to " + strconv.Itoa(MaxID))
	case id == 0:
		return 0, invalid(kind + " id must be greater than 0")
	}
	return id, nil
}

// IsInvalidInput reports whether err is a caller's mistake found by ParseID or the named
// query parameters: a 400 that was never sent on to another service.
func IsInvalidInput(err error) bool {
	he, ok := errors.AsType[*telemetry.HTTPError](err)
	return ok && he.Status == http.StatusBadRequest
}

func invalid(msg string) error {
	return &telemetry.HTTPError{Status: http.StatusBadRequest, Err: errors.New(msg)}
}

var (
	errSign      = errors.New("has a sign")
	errSpace     = errors.New("contains whitespace")
	errNotDigits = errors.New("not digits")
)

// parseDecimal reads a non-negative decimal integer written with digits only: strconv alone
// would take "+5", which the rule refuses. The result is an strconv.ErrRange error past int64.
func parseDecimal(raw string) (int64, error) {
	if raw == "" {
		return 0, errNotDigits
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case '0' <= c && c <= '9':
		case i == 0 && (c == '-' || c == '+') && len(raw) > 1:
			return 0, errSign
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return 0, errSpace
		default:
			return 0, errNotDigits
		}
	}
	return strconv.ParseInt(raw, 10, 64)
}
