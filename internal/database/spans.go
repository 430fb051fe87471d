package database

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"modernc.org/sqlite"
)

// networkStore is a store reached over the network (PostgreSQL): its calls are CLIENT spans
// that name the server, as the database semantic conventions ask, so that Tempo's and
// Jaeger's service graphs draw the database server as a node of its own. SQLite runs inside
// the process: its spans stay INTERNAL, children of the request's span.
type networkStore interface {
	// serverAttributes are server.address, server.port and db.namespace.
	serverAttributes() []attribute.KeyValue
}

// storeCall is how the spans of a call to the store start (transaction_begin,
// query_execution, transaction_commit): their kind, and the attributes every call carries.
type storeCall struct {
	kind  trace.SpanKind
	attrs []attribute.KeyValue // db.system.name, then the server's, if any
}

func newStoreCall(st store) storeCall {
	c := storeCall{kind: trace.SpanKindInternal, attrs: []attribute.KeyValue{st.system()}}
	if ns, ok := st.(networkStore); ok {
		c.kind = trace.SpanKindClient
		c.attrs = append(c.attrs, ns.serverAttributes()...)
	}
	return c
}

// options start a span of a call whose own attributes are extra.
func (c storeCall) options(extra ...attribute.KeyValue) []trace.SpanStartOption {
	return []trace.SpanStartOption{trace.WithSpanKind(c.kind), trace.WithAttributes(append(c.attrs[:len(c.attrs):len(c.attrs)], extra...)...)}
}

// failureAttributes say how a call to the store failed, as the conventions ask:
// db.response.status_code is the store's own code (PostgreSQL's SQLSTATE, SQLite's extended
// result code) and error.type that code too; an error without one gets a class of its own
// (injected_fault, timeout, canceled) or, say for a connection that broke, its Go type.
func failureAttributes(err error) []attribute.KeyValue {
	switch {
	case errors.Is(err, errInjected):
		return []attribute.KeyValue{semconv.ErrorTypeKey.String("injected_fault")}
	case errors.Is(err, context.DeadlineExceeded):
		return []attribute.KeyValue{semconv.ErrorTypeKey.String("timeout")}
	case errors.Is(err, context.Canceled):
		return []attribute.KeyValue{semconv.ErrorTypeKey.String("canceled")}
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return []attribute.KeyValue{semconv.DBResponseStatusCode(pe.Code), semconv.ErrorTypeKey.String(pe.Code)}
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		code := strconv.Itoa(se.Code())
		return []attribute.KeyValue{semconv.DBResponseStatusCode(code), semconv.ErrorTypeKey.String(code)}
	}
	return []attribute.KeyValue{semconv.ErrorType(err)}
}
