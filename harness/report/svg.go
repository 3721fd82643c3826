package report

import (
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// The page's charts are inline SVG written here: no script, nothing
// fetched, readable in any browser and in a CI artifact viewer.

// phaseColours are the phases' colours, in Phases order.
var phaseColours = []struct{ name, colour string }{
	{"kernel", "#5b8def"}, {"modules", "#49b6a8"}, {"snapshot boot", "#f0a050"}, {"scenarios", "#7cc36b"},
}

// phaseChart is a stacked bar per cell of where its wall time went in
// this run, scaled to the longest; nil when no cell has phases.
func phaseChart(cells []Cell) template.HTML {
	const rowH, labelW, barW = 22, 190, 520
	var longest int64
	var rows []Cell
	for _, c := range cells {
		if c.Phases == nil {
			continue
		}
		rows = append(rows, c)
		longest = max(longest, phaseTotal(c.Phases))
	}
	if len(rows) == 0 || longest == 0 {
		return ""
	}
	var b strings.Builder
	height := rowH*len(rows) + 30
	fmt.Fprintf(&b, `<svg class="chart phases" role="img" aria-label="where each cell's time went" width="%d" height="%d" viewBox="0 0 %d %d">`, labelW+barW+90, height, labelW+barW+90, height)
	for i, c := range rows {
		y := i * rowH
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="12">%s</text>`, y+15, html.EscapeString(c.Kernel+" "+c.Cell))
		x := float64(labelW)
		for j, ms := range phaseValues(c.Phases) {
			w := float64(barW) * float64(ms) / float64(longest)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`,
				x, y+3, w, rowH-6, phaseColours[j].colour, html.EscapeString(c.Kernel+" "+c.Cell+" "+phaseColours[j].name), seconds(ms))
			x += w
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12">%s</text>`, x+6, y+15, seconds(phaseTotal(c.Phases)))
	}
	x := 0
	for _, p := range phaseColours {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12">%s</text>`,
			x, height-14, p.colour, x+16, height-3, p.name)
		x += 30 + 8*len(p.name)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func phaseValues(p *Phases) []int64 {
	return []int64{p.KernelMS, p.ModulesMS, p.SnapshotMS, p.ScenariosMS}
}

func phaseTotal(p *Phases) int64 {
	var t int64
	for _, v := range phaseValues(p) {
		t += v
	}
	return t
}

func seconds(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
}

// stressCharts is a histogram per inner step of a stress step's loops:
// how its durations spread over the iterations, so a slow tail or two
// modes show where a median hides them.
func stressCharts(st *verdict.StressSummary) template.HTML {
	if st == nil {
		return ""
	}
	var b strings.Builder
	for li, l := range st.Loops {
		for si, t := range l.Timing {
			var us []int64
			for _, it := range l.Iterations {
				if si < len(it.Steps) {
					us = append(us, it.Steps[si].DurationUS)
				}
			}
			if len(us) < 2 {
				continue
			}
			name := t.Step
			if len(st.Loops) > 1 {
				name = fmt.Sprintf("loop %d: %s", li+1, t.Step)
			}
			b.WriteString(histogram(name, us))
		}
	}
	return template.HTML(b.String())
}

// histogram draws durations (µs) in 20 bins from the least to the most.
func histogram(name string, us []int64) string {
	const bins, w, h = 20, 300, 90
	lo, hi := slices.Min(us), slices.Max(us)
	counts := make([]int, bins)
	for _, v := range us {
		i := 0
		if hi > lo {
			i = int(float64(v-lo) / float64(hi-lo) * bins)
		}
		counts[min(i, bins-1)]++
	}
	most := slices.Max(counts)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart stress" role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d">`,
		html.EscapeString("durations of "+name), w, h+34, w, h+34)
	fmt.Fprintf(&b, `<text x="0" y="12" font-size="12">%s: %d iterations</text>`, html.EscapeString(name), len(us))
	bw := float64(w) / bins
	for i, n := range counts {
		bh := float64(h-20) * float64(n) / float64(most)
		from := lo + int64(float64(hi-lo)*float64(i)/bins)
		to := lo + int64(float64(hi-lo)*float64(i+1)/bins)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#5b8def"><title>%d–%d µs: %d</title></rect>`,
			float64(i)*bw+1, float64(h)-bh, bw-2, bh, from, to, n)
	}
	fmt.Fprintf(&b, `<text x="0" y="%d" font-size="11">%d µs</text><text x="%d" y="%d" font-size="11" text-anchor="end">%d µs</text>`,
		h+14, lo, w, h+14, hi)
	b.WriteString(`</svg>`)
	return b.String()
}
