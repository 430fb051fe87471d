package database

import (
	"context"
	"slices"
	"time"
)

// refresh is the background work: table sizes, and the statements' plans, which the
// statistics and, on PostgreSQL, another replica's schema change move.
func (s *Service) refresh(ctx context.Context) {
	s.refreshTableSizes(ctx)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.stmts.replan(ctx); err != nil && ctx.Err() == nil {
		s.tel.Logger.WarnContext(ctx, "Query plan refresh failed", "error", err.Error())
	}
}

// refreshTableSizes sets database_table_size_bytes for the known tables, from the store's own
// accounting (see the stores' tableSizes). A failure is logged and leaves the last values: the
// gauge goes stale rather than to zero.
func (s *Service) refreshTableSizes(ctx context.Context) {
	// Not a request, so no span; bounded, so a stuck refresh cannot hold up Close for long.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.readTableSizes(ctx); err != nil && ctx.Err() == nil {
		s.tel.Logger.WarnContext(ctx, "Table size refresh failed", "error", err.Error())
	}
}

func (s *Service) readTableSizes(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, s.store.tableSizes())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table string
		var bytes int64
		if err := rows.Scan(&table, &bytes); err != nil {
			return err
		}
		if slices.Contains(sizedTables, table) { // label values stay the fixed list
			s.metrics.tableSize.WithLabelValues(table).Set(float64(bytes))
		}
	}
	return rows.Err()
}

// every calls fn each interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}
