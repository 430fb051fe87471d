package readback

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// KindAuto asks OpenTraces and OpenLogs to find out which kind of store is at the URL.
const KindAuto = "auto"

// OpenTraces returns the trace store at baseURL. kind is "jaeger", "tempo", or "auto" (or
// empty) to tell from what the URL answers; either way the store is pinged, so a URL that
// answers nothing, or answers like something else, is an error here and not in the middle
// of a check.
func OpenTraces(ctx context.Context, kind, baseURL string, client *http.Client) (TraceStore, error) {
	jaeger, err := NewJaeger(baseURL, client)
	if err != nil {
		return nil, err
	}
	tempo, err := NewTempo(baseURL, client)
	if err != nil {
		return nil, err
	}
	switch TracesKind(strings.ToLower(kind)) {
	case TracesJaeger:
		return jaeger, jaeger.Ping(ctx)
	case TracesTempo:
		return tempo, tempo.Ping(ctx)
	case "", KindAuto:
		return detect(ctx, "a trace store (Jaeger or Tempo)", baseURL, []TraceStore{tempo, jaeger})
	}
	return nil, fmt.Errorf("traces kind %q: want auto, jaeger or tempo", kind)
}

// OpenLogs returns the log store at baseURL: kind is "victorialogs", "loki", or "auto".
func OpenLogs(ctx context.Context, kind, baseURL string, client *http.Client) (LogStore, error) {
	vl, err := NewVictoriaLogs(baseURL, client)
	if err != nil {
		return nil, err
	}
	loki, err := NewLoki(baseURL, client)
	if err != nil {
		return nil, err
	}
	switch LogsKind(strings.ToLower(kind)) {
	case LogsVictoriaLogs:
		return vl, vl.Ping(ctx)
	case LogsLoki:
		return loki, loki.Ping(ctx)
	case "", KindAuto:
		return detect(ctx, "a log store (VictoriaLogs or Loki)", baseURL, []LogStore{loki, vl})
	}
	return nil, fmt.Errorf("logs kind %q: want auto, victorialogs or loki", kind)
}

// DetectTraces says which kind of trace store answers at baseURL.
func DetectTraces(ctx context.Context, baseURL string, client *http.Client) (TracesKind, error) {
	s, err := OpenTraces(ctx, KindAuto, baseURL, client)
	if err != nil {
		return "", err
	}
	return s.Kind(), nil
}

// DetectLogs says which kind of log store answers at baseURL.
func DetectLogs(ctx context.Context, baseURL string, client *http.Client) (LogsKind, error) {
	s, err := OpenLogs(ctx, KindAuto, baseURL, client)
	if err != nil {
		return "", err
	}
	return s.Kind(), nil
}

// detect pings each candidate in turn and returns the first that answers like itself. When
// nothing listens at all, one error says so; otherwise the error lists what each probe got.
func detect[S interface{ Ping(context.Context) error }](ctx context.Context, what, baseURL string, candidates []S) (S, error) {
	var errs []error
	for _, c := range candidates {
		err := c.Ping(ctx)
		if err == nil {
			return c, nil
		}
		if _, ok := errors.AsType[*UnreachableError](err); ok {
			var zero S
			return zero, err
		}
		errs = append(errs, err)
	}
	var zero S
	return zero, fmt.Errorf("%s is not %s:\n  %w", baseURL, what, joinIndented(errs))
}

type indentedErrors []error

func (e indentedErrors) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "\n  ")
}

func (e indentedErrors) Unwrap() []error { return e }

func joinIndented(errs []error) error { return indentedErrors(errs) }
