package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// Transaction statuses, the `status` label of database_transactions_total.
const (
	txCommitted  = "committed"
	txRolledBack = "rolled_back"
)

// Query statuses, the `status` label of database_queries_total.
const (
	querySuccess  = "success"
	queryError    = "error"
	queryNotFound = "not_found"
)

// attrWritesLock marks a transaction that claimed SQLite's write lock (the lock_hold fault).
const attrWritesLock = attribute.Key("pillars.db.transaction.writes")

// txn is one request's read transaction.
type txn struct {
	s  *Service
	tx *sql.Tx
}

// inTx runs fn in a read-only transaction: the request's own latency first (see
// waitOwnLatency), then the transaction_begin span, then whatever spans fn makes, then
// transaction_commit, all children of the span in ctx (the request's entry span). When fn fails the transaction is rolled back, counted as rolled_back, and fn's error is
// returned as it is.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx *txn) error) error {
	// Before any connection is taken: a request's own latency costs that request alone.
	if err := s.waitOwnLatency(ctx); err != nil {
		return err
	}
	bctx, span := s.tel.Tracer.Start(ctx, "transaction_begin", s.call.options()...)
	// The transaction lives as long as the request: a caller that gives up cancels it. While
	// the lock fault is on, on SQLite, it claims the write lock, and waits for it like a write
	// would (see sqliteStore.holdLock).
	claim := s.locker.claim()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: claim == ""})
	if err == nil && claim != "" {
		span.SetAttributes(attrWritesLock.Bool(true))
		if _, err = tx.ExecContext(ctx, claim); err != nil {
			_ = tx.Rollback()
		}
	}
	if err != nil {
		err = fmt.Errorf("begin transaction: %w", err)
		failSpan(span, err)
		span.End()
		s.tel.Logger.ErrorContext(bctx, "Transaction failed to begin", "error", err.Error())
		return err
	}
	s.tel.Logger.DebugContext(bctx, "Transaction started")
	span.End()

	if err := fn(ctx, &txn{s: s, tx: tx}); err != nil {
		s.rollback(ctx, tx, err)
		return err
	}

	cctx, span := s.tel.Tracer.Start(ctx, "transaction_commit", s.call.options()...)
	defer span.End()
	if err := tx.Commit(); err != nil {
		// A failed COMMIT leaves nothing applied: the driver rolls the transaction back.
		err = fmt.Errorf("commit transaction: %w", err)
		failSpan(span, err)
		telemetry.Inc(cctx, s.metrics.transactions.WithLabelValues(txRolledBack))
		s.tel.Logger.ErrorContext(cctx, "Transaction commit failed, rolled back", "error", err.Error())
		return err
	}
	s.metrics.transactions.WithLabelValues(txCommitted).Inc() // only failures need a trace link
	s.tel.Logger.DebugContext(cctx, "Transaction committed")
	return nil
}

// rollback ends a failed transaction. The seed names no span for it, so it is an event on the
// request's span; the failure itself is already on the span of the step that failed.
func (s *Service) rollback(ctx context.Context, tx *sql.Tx, cause error) {
	err := tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		err = nil // database/sql already rolled back because ctx ended
	}
	trace.SpanFromContext(ctx).AddEvent("transaction rolled back",
		trace.WithAttributes(attribute.String("reason", cause.Error())))
	telemetry.Inc(ctx, s.metrics.transactions.WithLabelValues(txRolledBack))
	attrs := []any{"reason", cause.Error()}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	s.tel.Logger.WarnContext(ctx, "Transaction rolled back", attrs...)
}

// query runs st with args in the transaction, calling scan once per row, and returns the
// number of rows. It makes two spans, children of ctx's span:
//   - query_planning: binds the pool's prepared statement to the transaction's connection
//     (preparing it there the first time that connection runs it) and records the plan;
//   - query_execution: the injected faults, then the statement itself. For the JOIN statement
//     the run is wrapped in join_inventory, a child of query_execution, so the JOIN's own time
//     is told apart from injected latency.
//
// The statement is counted and timed per table over query_execution.
func (t *txn) query(ctx context.Context, st *statement, scan func(*sql.Rows) error, args ...any) (int, error) {
	tr := t.s.tel.Tracer
	_, span := tr.Start(ctx, "query_planning", trace.WithAttributes(*st.planAttrs.Load()...))
	stmt := t.tx.StmtContext(ctx, st.stmt) // a failed prepare surfaces at execution
	span.End()

	ectx, span := tr.Start(ctx, "query_execution", st.execution...)
	defer span.End()
	start := time.Now()
	n, err := t.execute(ectx, st, stmt, scan, args)
	elapsed := time.Since(start)

	status := querySuccess
	switch {
	case err != nil:
		status = queryError
	case n == 0 && st.singular:
		status = queryNotFound
	}
	m := t.s.metrics
	if queries := m.queries.WithLabelValues(operationSelect, st.table, status); status == querySuccess {
		queries.Inc() // the duration histogram below links successes to their traces
	} else {
		telemetry.Inc(ectx, queries)
	}
	telemetry.Observe(ectx, m.duration.WithLabelValues(operationSelect, st.table), elapsed.Seconds())
	span.SetAttributes(semconv.DBResponseReturnedRows(n))

	log := t.s.tel.Logger
	durationMS := float64(elapsed.Microseconds()) / 1000
	if elapsed > t.s.cfg.SlowQueryThreshold {
		telemetry.Inc(ectx, m.slow.WithLabelValues(st.table))
		log.WarnContext(ectx, "Slow query detected", "query", st.text, "duration_ms", durationMS,
			"table", st.table, "threshold_ms", t.s.cfg.SlowQueryThreshold.Milliseconds())
	}
	if err != nil {
		failSpan(span, err)
		log.ErrorContext(ectx, "Query failed", "query", st.text, "table", st.table,
			"duration_ms", durationMS, "error", err.Error())
		return n, err
	}
	log.DebugContext(ectx, "Query executed", "statement", st.name, "table", st.table,
		"rows", n, "duration_ms", durationMS)
	return n, nil
}

// execute applies the injected faults, then runs the statement.
func (t *txn) execute(ctx context.Context, st *statement, stmt *sql.Stmt, scan func(*sql.Rows) error, args []any) (n int, err error) {
	if err := t.s.inject(ctx); err != nil {
		return 0, err
	}
	if st.join {
		var span trace.Span
		// The JOIN's own span: its statement is already on query_execution, its parent.
		ctx, span = t.s.tel.Tracer.Start(ctx, "join_inventory", trace.WithAttributes(
			t.s.system, semconv.DBCollectionName(st.table)))
		defer func() {
			span.SetAttributes(semconv.DBResponseReturnedRows(n))
			if err != nil {
				failSpan(span, err)
			}
			span.End()
		}()
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", st.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return n, fmt.Errorf("%s: read row: %w", st.name, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("%s: %w", st.name, err)
	}
	return n, nil
}

// failSpan marks a span failed with err.
func failSpan(span trace.Span, err error) {
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	span.SetAttributes(failureAttributes(err)...)
}
