// Package dashboards defines the Grafana dashboards of the pillars stack as Go code, built with
// the Grafana Foundation SDK. `go run ./cmd/dashboards` writes them as JSON into
// grafana/dashboards, which Grafana provisions; a test fails when the committed JSON differs
// from what this package builds.
//
// Every query names the data source by its provisioned uid (grafana/provisioning), and every
// metric it uses is one the services or Tempo's metrics generator produce (metrics/known.txt).
package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/logs"
	"github.com/grafana/grafana-foundation-sdk/go/loki"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The data sources, by the uids grafana/provisioning/datasources/datasources.yaml gives them.
var (
	promDS  = dsRef("prometheus", "prometheus")
	lokiDS  = dsRef("loki", "loki")
	tempoDS = dsRef("tempo", "tempo")
)

func dsRef(typ, uid string) common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr(typ), Uid: cog.ToPtr(uid)}
}

// Panel sizes on Grafana's 24-column grid.
const (
	fullWidth  = 24
	halfWidth  = 12
	thirdWidth = 8
	graphH     = 8
	statH      = 4
	logsH      = 10
)

// promQuery is a range query on Prometheus.
func promQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(promDS).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// withExemplars is a query whose exemplars are drawn as dots on the graph; each one opens the
// trace it came from (the Prometheus data source sends trace_id to Tempo). Only queries on
// the raw series carry exemplars: a recording rule's output has none.
func withExemplars(expr, legend string) *prometheus.DataqueryBuilder {
	return promQuery(expr, legend).Exemplar(true)
}

// graph is a time series panel from zero, with a table legend that shows the latest and the
// peak value.
func graph(title, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeSeries(title, unit, queries...).Min(0)
}

// timeSeries is graph with the axis left to fit the data, for ratios that live near 1.
func timeSeries(title, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Datasource(promDS).
		Unit(unit).
		Height(graphH).
		Span(halfWidth).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	for i, q := range queries {
		p.WithTarget(q.RefId(refID(i)))
	}
	return p
}

// stacked is a graph whose series add up (request mixes, cache operations).
func stacked(title, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return graph(title, unit, queries...).
		FillOpacity(40).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
}

// single is a stat panel showing the latest value of one query, with a sparkline.
func single(title, unit string, q *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Datasource(promDS).
		Unit(unit).
		Height(statH).
		Span(thirdWidth).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeValue).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(q.RefId("A"))
}

// logPanel shows log lines from Loki. The Loki data source turns each line's trace_id
// (structured metadata) into a "View trace" link in the line's details: log -> trace.
func logPanel(title, logQL string) *logs.PanelBuilder {
	return logs.NewPanelBuilder().
		Title(title).
		Datasource(lokiDS).
		Height(logsH).
		Span(fullWidth).
		ShowTime(true).
		EnableLogDetails(true).
		WrapLogMessage(true).
		PrettifyLogMessage(false).
		SortOrder(common.LogsSortOrderDescending).
		DedupStrategy(common.LogsDedupStrategyNone).
		WithTarget(loki.NewDataqueryBuilder().
			Datasource(lokiDS).
			Expr(logQL).
			MaxLines(200).
			RefId("A"))
}

func refID(i int) string { return string(rune('A' + i)) }

// row starts a new, always expanded section.
func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

// scenarioAnnotation marks on every time series panel when a scenario ran: the frontend sets
// pillars_scenario_active{scenario="<name>"} to 1 while one does, so a spike lines up with the
// fault that caused it. Samples closer than the step apart join into one region.
func scenarioAnnotation() *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Scenarios").
		Datasource(promDS).
		Enable(true).
		IconColor("orange").
		Target(prometheus.NewDataqueryBuilder().
			Datasource(promDS).
			Expr("pillars_scenario_active == 1").
			Interval("5s").
			Range().
			RefId("Anno")).
		TitleFormat("Scenario {{scenario}}").
		TextFormat("Scenario {{scenario}} running").
		TagKeys("scenario")
}

// base is what every pillars dashboard shares: the tag that links them together, a recent
// time range, a refresh fast enough to watch traffic move, read-only for viewers, and the
// scenarios marked on every graph.
func base(uid, title, description string, tags ...string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Annotation(scenarioAnnotation()).
		Uid(uid).
		Description(description).
		Tags(append([]string{"pillars"}, tags...)).
		Time("now-15m", "now").
		Refresh("10s").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Readonly().
		Link(dashboard.NewDashboardLinkBuilder("Pillars").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"pillars"}).
			AsDropdown(true).
			KeepTime(true).
			IncludeVars(false).
			TargetBlank(false).
			Icon("external link").
			Tooltip("").
			Url(""))
}

// latency is the PromQL of quantile q of one or more histograms, summed by the labels in by:
// from the native histograms first, which resolve a quantile within a few percent where
// classic buckets only place it between two fixed bounds, and from the classic _bucket
// series for whatever has no native histogram (metrics pushed over OTLP, a Prometheus that
// does not scrape native histograms). Several histograms (of services whose job labels
// differ) are joined with `or`, so one query keeps one legend and exemplars from all.
func latency(q, by string, histograms ...string) string {
	native := make([]string, len(histograms))
	classic := make([]string, len(histograms))
	for i, h := range histograms {
		native[i] = fmt.Sprintf("sum by (%s) (rate(%s[$__rate_interval]))", by, h)
		classic[i] = fmt.Sprintf("sum by (%s, le) (rate(%s_bucket[$__rate_interval]))", by, h)
	}
	return fmt.Sprintf("histogram_quantile(%s,\n%s)\nor histogram_quantile(%s,\n%s)",
		q, strings.Join(native, "\nor "), q, strings.Join(classic, "\nor "))
}
