package backend

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// maxID is the largest id accepted. Ids past it cannot exist (the seed has thousands of
// rows), and bounding them keeps an id within every common SQL integer column and within what
// a JSON number carries exactly, whoever reads the answer.
const maxID = 1<<31 - 1

// invalidIDError is bad input in an id: the caller's mistake, answered with a 400 that says
// what was wrong. It never reaches the cache or the database.
type invalidIDError struct{ msg string }

func (e *invalidIDError) Error() string { return e.msg }

// parseID validates an id as typed in the URL: decimal digits only (no sign, no spaces, no
// hex or exponent), greater than 0 and at most maxID. kind ("user", "product") names the
// id in the error message.
func parseID(kind, raw string) (int64, error) {
	if raw == "" {
		return 0, &invalidIDError{kind + " id is required"}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if '0' <= c && c <= '9' {
			continue
		}
		switch {
		case i == 0 && c == '-' && len(raw) > 1:
			return 0, &invalidIDError{kind + " id " + quoteInput(raw) + " is negative: ids are positive numbers like 123"}
		case i == 0 && c == '+':
			return 0, &invalidIDError{kind + " id " + quoteInput(raw) + " has a sign: write digits only, like 123"}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return 0, &invalidIDError{kind + " id " + quoteInput(raw) + " contains whitespace: write digits only, like 123"}
		}
		return 0, &invalidIDError{kind + " id " + quoteInput(raw) + " is not a number: write digits only, like 123"}
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id > maxID {
		// Only a range error is possible here: the string is all digits.
		return 0, &invalidIDError{kind + " id " + quoteInput(raw) + " is out of range: ids go from 1 to " + strconv.Itoa(maxID)}
	}
	if id == 0 {
		return 0, &invalidIDError{kind + " id must be greater than 0"}
	}
	return id, nil
}

// quoteInput quotes what a caller typed for an error message, cut to a length that keeps
// logs and answers small whatever was sent.
func quoteInput(raw string) string {
	const limit = 32
	if len(raw) > limit {
		return strconv.Quote(raw[:limit]) + "…"
	}
	return strconv.Quote(raw)
}

// validateUserID is the seed's validate_user_id span: parseID, traced and timed.
func (s *Service) validateUserID(ctx context.Context, raw string) (int64, error) {
	start := time.Now()
	ctx, span := s.tel.Tracer.Start(ctx, "validate_user_id")
	defer span.End()
	id, err := parseID("user", raw)
	telemetry.Observe(ctx, s.metrics.validateUser, time.Since(start).Seconds())
	if err != nil {
		span.SetAttributes(attribute.String("app.user.id.input", truncate(raw)),
			attribute.Bool("app.validation.valid", false), semconv.ErrorTypeKey.String("invalid_id"))
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return 0, err
	}
	span.SetAttributes(attribute.String("app.user.id.input", raw), attribute.Bool("app.validation.valid", true))
	return id, nil
}

// validateProductID applies the same rules to product ids. The seed names no span for it,
// so it is only timed.
func (s *Service) validateProductID(ctx context.Context, raw string) (int64, error) {
	start := time.Now()
	id, err := parseID("product", raw)
	telemetry.Observe(ctx, s.metrics.validateProduct, time.Since(start).Seconds())
	return id, err
}

// truncate bounds what a caller typed for a span attribute and makes it valid UTF-8: the
// OTLP exporter rejects a whole batch over one invalid string.
func truncate(raw string) string {
	if len(raw) > 64 {
		raw = raw[:64]
	}
	return strings.ToValidUTF8(raw, "\uFFFD")
}
