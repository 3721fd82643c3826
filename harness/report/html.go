package report

import (
	_ "embed"
	"html/template"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"modmatrix.dev/modmatrix/harness/verdict"
)

//go:embed index.html.tmpl
var pageSource string

var page = template.Must(template.New("index").Funcs(template.FuncMap{
	"lower": func(v verdict.Verdict) string { return strings.ToLower(string(v)) },
	"rel":   relLink,
	"join":  strings.Join,
	// stress.go
	"stressLine":   StressLine,
	"stressTiming": stressTiming,
	"stressCharts": stressCharts,
}).Parse(pageSource))

// pageCell is one kernel × cell column of the page, with its verdict
// counts.
type pageCell struct {
	*Cell
	Totals Tallied
}

// pageKernel spans its cells' columns in the header.
type pageKernel struct {
	Kernel string
	Span   int
}

// pageRow is one scenario with its result in each column (nil: not run).
type pageRow struct {
	Scenario string
	// Description's first sentence shows; the rest opens under it.
	Description, More string
	Results           []*ScenarioResult
}

// firstSentence splits a description after its first sentence, so a row
// of the matrix stays a row.
func firstSentence(s string) (first, rest string) {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1], s[i+2:]
	}
	return s, ""
}

type pageData struct {
	*Results
	Kernels []pageKernel
	Columns []pageCell
	Rows    []pageRow
	Totals  Tallied
	Phases  template.HTML
	Dir     string
}

// WriteHTML saves index.html in dir: a self-contained page (no network
// fetches, no script) with the matrix — scenarios as rows, kernel × cell as
// columns — where each cell opens its step table and links its console log.
func (r *Results) WriteHTML(dir string) error {
	d := pageData{Results: r, Dir: dir, Phases: phaseChart(r.Cells)}
	// Columns grouped by kernel under one header cell each.
	cells := make([]*Cell, len(r.Cells))
	for i := range r.Cells {
		cells[i] = &r.Cells[i]
	}
	slices.SortStableFunc(cells, func(a, b *Cell) int { return strings.Compare(a.Kernel, b.Kernel) })
	col := map[[2]string]int{}
	for _, c := range cells {
		col[[2]string{c.Kernel, c.Cell}] = len(d.Columns)
		d.Columns = append(d.Columns, pageCell{Cell: c})
		if n := len(d.Kernels); n > 0 && d.Kernels[n-1].Kernel == c.Kernel {
			d.Kernels[n-1].Span++
		} else {
			d.Kernels = append(d.Kernels, pageKernel{c.Kernel, 1})
		}
	}
	described := map[string]string{}
	for _, sc := range r.Scenarios {
		described[sc.Name] = sc.Description
	}
	row := map[string]int{}
	byColumn := make([][]ScenarioResult, len(d.Columns))
	for i := range r.Results {
		s := &r.Results[i]
		if _, ok := row[s.Scenario]; !ok {
			row[s.Scenario] = len(d.Rows)
			first, more := firstSentence(described[s.Scenario])
			d.Rows = append(d.Rows, pageRow{Scenario: s.Scenario, Description: first, More: more, Results: make([]*ScenarioResult, len(d.Columns))})
		}
		if c, ok := col[[2]string{s.Kernel, s.Cell}]; ok {
			d.Rows[row[s.Scenario]].Results[c] = s
			byColumn[c] = append(byColumn[c], *s)
		}
	}
	for i := range d.Columns {
		d.Columns[i].Totals = Tally(byColumn[i])
	}
	d.Totals = Tally(r.Results)
	return ReplaceFile(filepath.Join(dir, "index.html"), func(w io.Writer) error { return page.Execute(w, d) })
}

// relLink makes a log path relative to the page, so the folder can move.
func relLink(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
