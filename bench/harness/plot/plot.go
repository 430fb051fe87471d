// Package plot draws latency against request rate, one line per configuration: a grid of
// panels, p50, p99 and p99.9 down, the cached and uncached paths across.
package plot

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/pillars-o11y/pillars/bench/harness/report"
)

var quantiles = []struct {
	name string
	of   func(report.LatencyPoint) float64
}{
	{"p50", func(p report.LatencyPoint) float64 { return p.P50.Median }},
	{"p99", func(p report.LatencyPoint) float64 { return p.P99.Median }},
	{"p99.9", func(p report.LatencyPoint) float64 { return p.P999.Median }},
}

var paths = []struct{ kind, title string }{
	{"cached", "cached user (2 hops)"},
	{"uncached", "uncached user (3 hops + SQLite)"},
}

// WritePNG draws v's open-loop runs.
func WritePNG(w io.Writer, v report.View) error {
	rows, cols := len(quantiles), len(paths)
	panels := make([][]*plot.Plot, rows)
	for i, q := range quantiles {
		panels[i] = make([]*plot.Plot, cols)
		for j, path := range paths {
			p, err := panel(v, q.name, q.of, path.kind, path.title)
			if err != nil {
				return err
			}
			panels[i][j] = p
		}
	}
	width, height := 13*vg.Inch, 14*vg.Inch
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(panels, tiles, dc)
	for i := range panels {
		for j := range panels[i] {
			panels[i][j].Draw(canvases[i][j])
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func panel(v report.View, qname string, of func(report.LatencyPoint) float64, kind, title string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s latency, %s", qname, title)
	p.X.Label.Text = "request rate (req/s, open loop)"
	p.Y.Label.Text = qname + " (ms, log scale)"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	drawn := 0
	for i, c := range v.Run.Configs {
		pts := v.Latency(kind, c)
		if len(pts) == 0 {
			continue
		}
		xys := make(plotter.XYs, 0, len(pts))
		for _, pt := range pts {
			if y := of(pt) / 1e6; y > 0 {
				xys = append(xys, plotter.XY{X: pt.Rate, Y: y})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		col := plotutil.Color(i)
		line.Color, line.Width = col, vg.Points(1.5)
		points.Color, points.Shape = col, plotutil.Shape(i)
		if c == "off" || c == "all" {
			line.Width = vg.Points(2.5) // the two the bars compare
		}
		p.Add(line, points)
		p.Legend.Add(c, line, points)
		drawn++
	}
	if drawn == 0 {
		p.Title.Text += ": not measured in this run"
		return p, nil
	}
	if rate := v.HalfOffRate(kind); rate > 0 {
		// Where the p99 bar compares every signal on with telemetry off.
		ymin, ymax := p.Y.Min, p.Y.Max
		bar, err := plotter.NewLine(plotter.XYs{{X: rate, Y: ymin}, {X: rate, Y: ymax}})
		if err != nil {
			return nil, err
		}
		bar.Color, bar.Dashes = color.Gray{Y: 120}, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(bar)
		p.Legend.Add("½ of off's capacity", bar)
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.TextStyle.Color = color.Black
	return p, nil
}
