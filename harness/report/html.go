package report

import (
	_ "embed"
	"html/template"
	"os"
	"path/filepath"
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
}).Parse(pageSource))

// pageCell is one kernel × cell column of the page.
type pageCell struct {
	Kernel, Cell string
}

// pageRow is one scenario with its result in each column (nil: not run).
type pageRow struct {
	Scenario string
	Results  []*ScenarioResult
}

type pageData struct {
	*Results
	Columns []pageCell
	Rows    []pageRow
	Dir     string
}

// WriteHTML saves index.html in dir: a self-contained page (no network
// fetches, no script) with the matrix — scenarios as rows, kernel × cell as
// columns — where each cell opens its step table and links its console log.
func (r *Results) WriteHTML(dir string) error {
	d := pageData{Results: r, Dir: dir}
	col := map[pageCell]int{}
	for _, c := range r.Cells {
		pc := pageCell{c.Kernel, c.Cell}
		col[pc] = len(d.Columns)
		d.Columns = append(d.Columns, pc)
	}
	row := map[string]int{}
	for i := range r.Results {
		s := &r.Results[i]
		if _, ok := row[s.Scenario]; !ok {
			row[s.Scenario] = len(d.Rows)
			d.Rows = append(d.Rows, pageRow{Scenario: s.Scenario, Results: make([]*ScenarioResult, len(d.Columns))})
		}
		if c, ok := col[pageCell{s.Kernel, s.Cell}]; ok {
			d.Rows[row[s.Scenario]].Results[c] = s
		}
	}
	path := filepath.Join(dir, "index.html")
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	if err := page.Execute(f, d); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// relLink makes a log path relative to the page, so the folder can move.
func relLink(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
