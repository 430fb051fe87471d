package report

import (
	"fmt"
	"io"
)

// Summary is what `make bench` prints: the bars and the saturation tables.
func (v View) Summary(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	if v.Run.Method.Quick {
		p("SMOKE RUN: one round of short runs; these figures are not results.")
		p("")
	}
	p("During the measured windows, %s.", v.Quietness())
	p("")
	p("## The bars")
	p("")
	v.BarsTable(w)
	p("")
	for _, kind := range []string{pathCached, pathUncached} {
		v.throughputTable(p, kind)
	}
}

// ReadmeBlock is the README's copy of the bars: the date, the machine in a line, the table.
func (v View) ReadmeBlock(w io.Writer) {
	r := v.Run
	fmt.Fprintf(w, "Measured by `make bench` on %s: %d CPUs (%s), %s, %d rounds; %s. Every figure, the method and the plot: [bench/RESULTS.md](bench/RESULTS.md).\n\n",
		r.Started.UTC().Format("2006-01-02"), r.Machine.CPUs, or(r.Machine.CPUModel, "unknown CPU"), r.Machine.GoVersion, r.Method.Rounds, v.Quietness())
	v.BarsTable(w)
	fmt.Fprintln(w)
}
