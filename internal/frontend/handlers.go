package frontend

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/backend"
	"github.com/pillars-o11y/pillars/internal/ids"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// The frontend's JSON answers: the backend's payload with the trace id of this request next to
// it, so a user can look the request up without reading headers.
type (
	userAnswer struct {
		backend.UserResponse
		TraceID string `json:"trace_id"`
	}
	productAnswer struct {
		backend.ProductResponse
		TraceID string `json:"trace_id"`
	}
	homeAnswer struct {
		backend.DataResponse
		TraceID string `json:"trace_id"`
	}
)

// serveUser answers GET /user/{id}, as JSON or, for a browser, as a page. The id is judged
// here first, by the rule every service applies (ids.Parse): a bad id is answered 400
// without a backend call.
func (s *Service) serveUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Add("Vary", "Accept") // JSON, or a page for a browser
	raw := r.PathValue("id")
	id, err := ids.Parse("user", raw)
	if err != nil {
		s.tel.Logger.LogAttrs(ctx, slog.LevelInfo, "Fetching user "+telemetry.Excerpt(raw), slog.String("user_id_input", telemetry.Excerpt(raw)))
		s.invalid(w, r, err)
		return
	}
	idText := strconv.FormatInt(id, 10)
	idAttr := slog.Int64("user_id", id)
	s.tel.Logger.LogAttrs(ctx, slog.LevelInfo, "Fetching user "+idText, idAttr)
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int64("app.user.id", id))

	resp, err := callBackend(s, r, "/api/user/{id}", idAttr, func(ctx context.Context) (backend.UserResponse, error) {
		return s.be.GetUser(ctx, id)
	})
	if err != nil {
		s.fail(w, r, "User "+idText+" fetch failed", "user "+idText, idAttr, err)
		return
	}
	s.tel.Logger.LogAttrs(ctx, slog.LevelInfo, "User "+idText+" fetch completed", idAttr, slog.String("cache", resp.Cache))
	if prefersHTML(r.Header.Get("Accept")) {
		s.userPage(w, r, resp)
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, userAnswer{UserResponse: resp, TraceID: traceID(ctx)})
}

// serveProduct answers GET /product/{id}: the product with its price after the pricing rules,
// as JSON or as a page.
func (s *Service) serveProduct(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Add("Vary", "Accept")
	raw := r.PathValue("id")
	id, err := ids.Parse("product", raw)
	if err != nil {
		s.tel.Logger.LogAttrs(ctx, slog.LevelInfo, "Fetching product "+telemetry.Excerpt(raw), slog.String("product_id_input", telemetry.Excerpt(raw)))
		s.invalid(w, r, err)
		return
	}
	idText := strconv.FormatInt(id, 10)
	idAttr := slog.Int64("product_id", id)
	s.tel.Logger.LogAttrs(ctx, slog.LevelInfo, "Fetching product "+idText, idAttr)
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int64("app.product.id", id))

	resp, err := callBackend(s, r, "/api/product/{id}", idAttr, func(ctx context.Context) (backend.ProductResponse, error) {
		return s.be.GetProduct(ctx, id)
	})
	if err != nil {
		s.fail(w, r, "Product "+idText+" fetch failed", "product "+idText, idAttr, err)
		return
	}
	s.tel.Logger.LogAttrs(ctx, slog.LevelInfo, "Product "+idText+" fetch completed", idAttr,
		slog.String("cache", resp.Cache), slog.Int64("final_price_cents", resp.Pricing.FinalPriceCents))
	if prefersHTML(r.Header.Get("Accept")) {
		s.productPage(w, r, resp)
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, productAnswer{ProductResponse: resp, TraceID: traceID(ctx)})
}

// serveHome answers GET /: the backend's overview, as JSON or, for a browser, as a page.
func (s *Service) serveHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.tel.Logger.InfoContext(ctx, "Loading home page")
	// The answer depends on Accept: caches must keep the two variants apart.
	w.Header().Add("Vary", "Accept")

	data, err := callBackend(s, r, "/api/data", slog.Attr{}, func(ctx context.Context) (backend.DataResponse, error) {
		return s.be.GetData(ctx)
	})
	if err != nil {
		s.fail(w, r, "Home page load failed", "the home page", slog.Attr{}, err)
		return
	}
	html := prefersHTML(r.Header.Get("Accept"))
	s.tel.Logger.InfoContext(ctx, "Home page loaded", "cache", data.Cache, "html", html)
	if html {
		s.renderHome(w, r, data)
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, homeAnswer{DataResponse: data, TraceID: traceID(ctx)})
}

// callBackend runs one backend call under the backend timeout, with a log line before and after
// it (the CLIENT span itself comes from the backend client). With the retries fault, a failed
// call is tried again at once, each attempt its own CLIENT span: a retry storm.
func callBackend[T any](s *Service, r *http.Request, route string, idAttr slog.Attr, call func(context.Context) (T, error)) (T, error) {
	f := s.faults.ForRequest(r.Context())
	timeout := cmp.Or(f.BackendTimeout.D(), s.cfg.BackendTimeout)
	routeAttr := slog.String("route", route)
	start := time.Now()
	var v T
	var err error
	for attempt := 0; attempt <= f.Retries; attempt++ {
		if attempt > 0 {
			s.tel.Logger.LogAttrs(r.Context(), slog.LevelWarn, "Retrying backend call", routeAttr, idAttr,
				slog.Int("attempt", attempt+1), slog.String("error", err.Error()))
		}
		v, err = callOnce(s, r.Context(), timeout, routeAttr, idAttr, call)
		if err == nil || !retryable(err) {
			break
		}
	}
	elapsed := slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)
	if err != nil {
		return v, &backendCallError{cause: err, route: route, elapsed: elapsed, timeout: timeout}
	}
	return v, nil
}

func callOnce[T any](s *Service, ctx context.Context, timeout time.Duration, routeAttr, idAttr slog.Attr,
	call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s.tel.Logger.LogAttrs(ctx, slog.LevelDebug, "Calling backend", routeAttr, idAttr)
	v, err := call(ctx)
	if err == nil {
		s.tel.Logger.LogAttrs(ctx, slog.LevelDebug, "Backend call completed", routeAttr, idAttr)
	}
	return v, err
}

// retryable says whether trying again could help: not for an answer about the request itself
// (not found, or a refusal that the same request would get again), nor once the visitor has
// gone.
func retryable(err error) bool {
	switch telemetry.Classify(err).Label {
	case telemetry.CallNotFound, telemetry.CallClientError, telemetry.CallCanceled:
		return false
	}
	return true
}

// backendCallError carries a failed call with what the error log needs.
type backendCallError struct {
	cause   error
	route   string
	elapsed slog.Attr
	timeout time.Duration
}

func (e *backendCallError) Error() string { return e.cause.Error() }
func (e *backendCallError) Unwrap() error { return e.cause }

// fail answers a failed backend call: one log line with the whole context (what failed, the
// backend call, both statuses, the error type and the underlying error), the error counter, and
// the JSON error through WriteError. subject names what was asked for, in the answer's words.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, msg, subject string, idAttr slog.Attr, err error) {
	ctx := r.Context()
	call, _ := err.(*backendCallError)
	timeout := s.cfg.BackendTimeout
	if call != nil {
		timeout = call.timeout
	}
	f := classifyBackendError(err, subject, timeout.String())
	level := slog.LevelWarn
	if f.status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{idAttr,
		slog.Int("status", f.status),
		slog.Int("backend_status", f.backendStatus),
		slog.String("error_type", string(f.kind)),
		slog.String("error", err.Error())}
	if call != nil {
		attrs = append(attrs, slog.String("route", call.route), call.elapsed)
	}
	s.tel.Logger.LogAttrs(ctx, level, msg, attrs...)
	if f.kind != "" {
		s.metrics.countError(ctx, f.kind)
	}
	s.tel.WriteError(w, r, f.status, f.err)
}

// invalid answers an id that failed validation: a 400, counted as bad_request, with no call.
func (s *Service) invalid(w http.ResponseWriter, r *http.Request, err error) {
	s.metrics.countError(r.Context(), errBadRequest)
	s.tel.WriteError(w, r, http.StatusBadRequest, err)
}

// traceID is the id of the request's trace, as shown in answers.
func traceID(ctx context.Context) string {
	return trace.SpanContextFromContext(ctx).TraceID().String()
}
