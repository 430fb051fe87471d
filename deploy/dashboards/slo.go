package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// sloService is the sloth service of the real SLO rules (deploy/slo/journeys.yaml); the
// time-scaled copy for tests has another, so it never shows here.
const sloService = "pillars"

// journey is one user journey with SLOs: its label value in the SLO rules and how to name it.
type journey struct{ label, title, route string }

var journeys = []journey{
	{"home", "Home", "GET /"},
	{"user-page", "User page", "GET /user/{id}"},
	{"product-page", "Product page", "GET /product/{id}"},
}

// The windows sloth records an error ratio for, shortest first, and the burn rates the alerts
// page or open a ticket at (SRE workbook, 30-day period): a burn rate is the error ratio over
// the budget, 1 spends the budget in exactly 30 days.
var (
	burnWindows    = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}
	burnThresholds = []threshold{{1, "yellow"}, {3, "orange"}, {6, "red"}, {14.4, "dark-red"}}
)

// SLO shows the journeys' service level objectives: how much of each 30-day error budget is
// left, how fast each window burns it against the alert thresholds, and the SLIs themselves.
func SLO() *dashboard.DashboardBuilder {
	d := base("pillars-slo", "Pillars SLOs",
		"Availability (5xx only; 4xx are the caller's) and latency objectives of the home, user page and product page journeys, from deploy/slo/journeys.yaml. "+
			"Budgets are over 30 days of what Prometheus keeps (the compose stack keeps 2 days). Burn rate 1 spends a budget in exactly 30 days; "+
			"the dashed lines are the alert thresholds: 14.4 and 6 page, 3 and 1 open a ticket.",
		"slo")

	d.WithRow(row("Error budget left (30 days)"))
	for _, j := range journeys {
		d.WithPanel(budgetStat(j))
	}
	d.WithPanel(stat.NewPanelBuilder().
		Title("SLO alerts firing").
		Description("PillarsAvailabilityBudgetBurn and PillarsLatencyBudgetBurn alerts firing now, pages and tickets.").
		Datasource(promDS).
		Unit("short").
		Height(statH).
		Span(6).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeBackground).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Thresholds(steps("green", threshold{1, "red"})).
		WithTarget(promQuery(`count(ALERTS{alertname=~"PillarsAvailabilityBudgetBurn|PillarsLatencyBudgetBurn", alertstate="firing"}) or vector(0)`, "firing").
			RefId("A")))
	d.WithPanel(graph("Error budget left over time", "percentunit",
		promQuery(fmt.Sprintf(`slo:period_error_budget_remaining:ratio{sloth_service=%q}`, sloService), "{{sloth_slo}}")).
		Span(fullWidth))

	for _, j := range journeys {
		d.WithRow(row(fmt.Sprintf("%s: %s", j.title, j.route))).
			WithPanel(burnRates(j, "availability")).
			WithPanel(burnRates(j, "latency")).
			WithPanel(sliPanel(j))
	}
	return d
}

func sloID(j journey, sli string) string { return sloService + "-" + j.label + "-" + sli }

// budgetStat shows the share of both budgets of a journey still left; below zero the objective
// is missed for the period.
func budgetStat(j journey) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(j.title + ": budget left").
		Description(fmt.Sprintf("Share of the 30-day error budget of %s not yet spent, per SLO.", j.route)).
		Datasource(promDS).
		Unit("percentunit").
		Decimals(1).
		Height(statH).
		Span(6).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeValue).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Thresholds(steps("red", threshold{0, "orange"}, threshold{0.25, "green"})).
		WithTarget(promQuery(fmt.Sprintf(`slo:period_error_budget_remaining:ratio{sloth_service=%q, journey=%q}`, sloService, j.label), "{{sli}}").
			RefId("A"))
}

// burnRates draws one line per window: that window's error ratio over the budget. An alert
// fires when a short and a long window are both over the same threshold.
func burnRates(j journey, sli string) *timeseries.PanelBuilder {
	id := sloID(j, sli)
	var queries []*prometheus.DataqueryBuilder
	for _, w := range burnWindows {
		queries = append(queries, promQuery(fmt.Sprintf(
			`slo:sli_error:ratio_rate%s{sloth_id=%q} / on (sloth_id) group_left () slo:error_budget:ratio{sloth_id=%q}`, w, id, id), w))
	}
	return graph(fmt.Sprintf("%s burn rate by window", capitalised(sli)), "short", queries...).
		Description(fmt.Sprintf("How fast %s spends its %s budget, per window. Dashed: 14.4 and 6 page (with a 5m or 30m window confirming), 3 and 1 open a ticket.", j.route, sli)).
		Span(thirdWidth).
		Thresholds(steps("transparent", burnThresholds...)).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
}

// sliPanel shows both SLIs of a journey over the shortest and the hourly window, with their
// objectives.
func sliPanel(j journey) *timeseries.PanelBuilder {
	var queries []*prometheus.DataqueryBuilder
	for _, sli := range []string{"availability", "latency"} {
		id := sloID(j, sli)
		queries = append(queries,
			promQuery(fmt.Sprintf(`1 - slo:sli_error:ratio_rate5m{sloth_id=%q}`, id), sli+" (5m)"),
			promQuery(fmt.Sprintf(`1 - slo:sli_error:ratio_rate1h{sloth_id=%q}`, id), sli+" (1h)"),
			promQuery(fmt.Sprintf(`slo:objective:ratio{sloth_id=%q}`, id), sli+" objective"))
	}
	return timeSeries("SLIs and objectives", "percentunit", queries...).
		Description(fmt.Sprintf("Share of good answers from %s: without a server error (availability), within the latency threshold (latency).", j.route)).
		Span(thirdWidth).
		Max(1)
}

// threshold is a value from which a panel shows a color.
type threshold struct {
	value float64
	color string
}

// steps builds absolute thresholds: the base color below the first value, then each one's.
func steps(base string, from ...threshold) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for _, t := range from {
		s = append(s, dashboard.Threshold{Value: cog.ToPtr(t.value), Color: t.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

func capitalised(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
