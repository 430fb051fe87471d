package backend

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/pillars-o11y/pillars/internal/ids"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// validateUserID is the seed's validate_user_id span: ids.Parse, traced and timed.
func (s *Service) validateUserID(ctx context.Context, raw string) (int64, error) {
	start := time.Now()
	ctx, span := s.tel.Tracer.Start(ctx, "validate_user_id")
	defer span.End()
	id, err := ids.Parse("user", raw)
	telemetry.Observe(ctx, s.metrics.validateUser, time.Since(start).Seconds())
	if err != nil {
		span.SetAttributes(attribute.String("app.user.id.input", telemetry.Excerpt(raw)),
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
	id, err := ids.Parse("product", raw)
	telemetry.Observe(ctx, s.metrics.validateProduct, time.Since(start).Seconds())
	return id, err
}
