package drill

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Scoreboard sums results: overall, by family and by distractor; void episodes apart.
type Scoreboard struct {
	Overall      Tallied            `json:"overall"`
	ByFamily     map[string]Tallied `json:"by_family"`
	ByDistractor map[string]Tallied `json:"by_distractor"`
	Void         []Result           `json:"void,omitempty"`
}

// Tallied is the sum of graded episodes: Score is Points / (3 × Episodes), in [0, 1].
type Tallied struct {
	Episodes    int     `json:"episodes"`
	Points      int     `json:"points"`
	Score       float64 `json:"score"`
	Exact       int     `json:"exact"`
	Service     int     `json:"service"`
	Kind        int     `json:"kind"`
	Component   int     `json:"component"`
	FalseAlarms int     `json:"false_alarms"`
	Misses      int     `json:"misses"`
	// MeanTimeToDiagnosis over the graded episodes.
	MeanTimeToDiagnosis time.Duration `json:"mean_time_to_diagnosis"`
	totalTime           time.Duration
}

func (t *Tallied) add(g Grade) {
	t.Episodes++
	t.Points += g.Points
	t.Exact += b2i(g.Exact)
	t.Service += g.Service
	t.Kind += g.Kind
	t.Component += g.Component
	t.FalseAlarms += b2i(g.FalseAlarm)
	t.Misses += b2i(g.Miss)
	t.totalTime += g.TimeToDiagnosis
	t.Score = float64(t.Points) / float64(MaxPoints*t.Episodes)
	t.MeanTimeToDiagnosis = (t.totalTime / time.Duration(t.Episodes)).Round(time.Millisecond)
}

// Tally sums results. An episode without incident counts under the family "none"; one without
// distractor under the distractor "none".
func Tally(results []Result) Scoreboard {
	sb := Scoreboard{ByFamily: map[string]Tallied{}, ByDistractor: map[string]Tallied{}}
	for _, r := range results {
		if r.Void {
			sb.Void = append(sb.Void, r)
			continue
		}
		if r.Grade == nil {
			continue
		}
		sb.Overall.add(*r.Grade)
		fam := r.Family
		if fam == "" {
			fam = NoIncident
		}
		t := sb.ByFamily[fam]
		t.add(*r.Grade)
		sb.ByFamily[fam] = t
		ds := r.Distractors
		if len(ds) == 0 {
			ds = []string{NoIncident}
		}
		for _, d := range ds {
			t := sb.ByDistractor[d]
			t.add(*r.Grade)
			sb.ByDistractor[d] = t
		}
	}
	return sb
}

// Markdown writes the scoreboard as tables: overall, by family, by distractor, void episodes.
func (sb Scoreboard) Markdown(title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "Score: points / (3 × episodes); a point each for service, kind, component. %d graded, %d void.\n\n",
		sb.Overall.Episodes, len(sb.Void))
	table := func(head string, rows map[string]Tallied) {
		fmt.Fprintf(&b, "| %s | episodes | score | exact | service | kind | component | false alarms | misses | mean time to diagnosis |\n", head)
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		keys := make([]string, 0, len(rows))
		for k := range rows {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t := rows[k]
			fmt.Fprintf(&b, "| %s | %d | %.2f | %d | %d | %d | %d | %d | %d | %s |\n", k, t.Episodes, t.Score, t.Exact,
				t.Service, t.Kind, t.Component, t.FalseAlarms, t.Misses, t.MeanTimeToDiagnosis)
		}
		b.WriteString("\n")
	}
	table("overall", map[string]Tallied{"all": sb.Overall})
	b.WriteString("## By family\n\n")
	table("family", sb.ByFamily)
	b.WriteString("## By distractor\n\n")
	table("distractor", sb.ByDistractor)
	if len(sb.Void) > 0 {
		b.WriteString("## Void episodes (the fault never showed; not scored)\n\n| seed | family | reason |\n|---:|---|---|\n")
		for _, v := range sb.Void {
			fmt.Fprintf(&b, "| %d | %s | %s |\n", v.Seed, v.Family, strings.ReplaceAll(v.VoidReason, "|", "\\|"))
		}
	}
	return b.String()
}
