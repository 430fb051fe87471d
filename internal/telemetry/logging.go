package telemetry

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/termtext"
)

// newLogger returns a JSON slog logger whose every record made inside a span carries trace_id
// and span_id, written to stdout and, when a shipper is given, queued for Loki. The line sent to
// Loki is byte for byte the line on stdout, so the two never disagree. When otlp is not nil,
// each record is also handed to it (the OTLP log export), bounded like the line.
func newLogger(stdout io.Writer, shipper *lokiShipper, otlp slog.Handler, level slog.Level) *slog.Logger {
	s := &logSink{stdout: stdout, shipper: shipper}
	inner := slog.NewJSONHandler(&s.buf, &slog.HandlerOptions{Level: level})
	return slog.New(&traceHandler{inner: inner, sink: s, otlp: otlp})
}

// logSink is shared by a handler and all handlers derived from it with WithAttrs/WithGroup:
// its mutex makes "format into buf, then copy buf out" one step.
type logSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	stdout  io.Writer
	shipper *lokiShipper
}

type traceHandler struct {
	inner slog.Handler
	sink  *logSink
	otlp  slog.Handler // nil unless logs are exported over OTLP
}

func (h *traceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	r = bounded(r)
	if h.otlp != nil {
		// Before the ids are added as attributes: an OTLP record carries them in its own
		// fields, which the SDK fills from ctx.
		_ = h.otlp.Handle(ctx, r)
	}
	var traceID, spanID string
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		if ids := requestIDsFrom(ctx, sc); ids != nil {
			traceID, spanID = ids.traceID, ids.spanID
		} else {
			traceID, spanID = sc.TraceID().String(), sc.SpanID().String()
		}
		r.AddAttrs(slog.String("trace_id", traceID), slog.String("span_id", spanID))
	}
	s := h.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	if err := h.inner.Handle(ctx, r); err != nil {
		return err
	}
	line := s.buf.Bytes()
	_, err := s.stdout.Write(line)
	if s.shipper != nil {
		// Loki wants the line without its newline; the copy is the shipper's to keep.
		s.shipper.enqueue(lokiEntry{
			ts:      r.Time,
			level:   r.Level,
			traceID: traceID,
			spanID:  spanID,
			line:    string(bytes.TrimSuffix(line, []byte{'\n'})),
		})
	}
	return err
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &traceHandler{inner: h.inner.WithAttrs(attrs), sink: h.sink, otlp: derive(h.otlp, func(o slog.Handler) slog.Handler { return o.WithAttrs(attrs) })}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{inner: h.inner.WithGroup(name), sink: h.sink, otlp: derive(h.otlp, func(o slog.Handler) slog.Handler { return o.WithGroup(name) })}
}

func derive(h slog.Handler, f func(slog.Handler) slog.Handler) slog.Handler {
	if h == nil {
		return nil
	}
	return f(h)
}

// bounded returns r with its message and every string attribute made safe to read: control
// and format characters written as visible escapes (termtext.EscapeText), then cut to maxLogValue
// bytes. A request's path or id reaches log lines as a string, and a reader who decodes the
// JSON (LogQL's json stage, Grafana, pillars trace) would otherwise get the raw ESC and BEL
// bytes that retitle and clear a terminal. It copies the record only when something changes,
// which in a healthy service is never.
func bounded(r slog.Record) slog.Record {
	dirty := unsafeString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		dirty = dirty || unsafeValue(a.Value)
		return !dirty
	})
	if !dirty {
		return r
	}
	out := slog.NewRecord(r.Time, r.Level, safeString(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(boundAttr(a))
		return true
	})
	return out
}

// Newlines and tabs are kept: a stack trace or a multi-line error stays readable once decoded.
func unsafeString(s string) bool { return len(s) > maxLogValue || termtext.EscapeText(s) != s }

func safeString(s string) string { return cut(termtext.EscapeText(s), maxLogValue) }

func unsafeValue(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindString:
		return unsafeString(v.String())
	case slog.KindGroup:
		for _, a := range v.Group() {
			if unsafeValue(a.Value) {
				return true
			}
		}
	}
	// Other kinds are numbers, times and values the services build themselves; input reaches
	// logs as strings only (errors are logged by their text).
	return false
}

func boundAttr(a slog.Attr) slog.Attr {
	v := a.Value
	switch v.Kind() {
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]slog.Attr, len(attrs))
		for i, g := range attrs {
			out[i] = boundAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindString:
		if s := v.String(); unsafeString(s) {
			return slog.String(a.Key, safeString(s))
		}
	}
	return a
}
