package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// column is one kernel version × cell of the table.
type column struct{ kernel, cell string }

// grid is the matrix as the table and the Markdown lay it out: columns
// kernel × cell grouped by kernel, rows scenarios in result order, and
// each one's verdict by row and column.
func (r *Results) grid() ([]column, []string, map[string]map[column]verdict.Verdict) {
	var cols []column
	for _, c := range r.Cells {
		cols = append(cols, column{c.Kernel, c.Cell})
	}
	slices.SortStableFunc(cols, func(a, b column) int { return strings.Compare(a.kernel, b.kernel) })
	var rows []string
	verdicts := map[string]map[column]verdict.Verdict{}
	for _, s := range r.Results {
		if verdicts[s.Scenario] == nil {
			verdicts[s.Scenario] = map[column]verdict.Verdict{}
			rows = append(rows, s.Scenario)
		}
		verdicts[s.Scenario][column{s.Kernel, s.Cell}] = s.Verdict
	}
	return cols, rows, verdicts
}

// WriteTable prints scenarios as rows and kernel version × cell as columns,
// grouped by kernel version, then one line per scenario that did not pass.
func (r *Results) WriteTable(w io.Writer) error {
	cols, rows, verdicts := r.grid()

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header, kernels := []string{"SCENARIO"}, []string{""}
	for _, c := range cols {
		header = append(header, c.cell)
		kernels = append(kernels, c.kernel)
	}
	if len(slices.Compact(slices.Clone(kernels[1:]))) > 1 {
		fmt.Fprintln(tw, strings.Join(kernels, "\t"))
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		line := []string{row}
		for _, c := range cols {
			v, ok := verdicts[row][c]
			if !ok {
				v = "-"
			}
			line = append(line, string(v))
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	for _, c := range r.Cells {
		if c.Error != "" {
			fmt.Fprintf(w, "\n%s %s: %s\n", c.Kernel, c.Cell, firstLines(c.Error, 20))
		}
		for _, rep := range c.Reports {
			fmt.Fprintf(w, "\n%s %s: kernel report outside any step: %s\n", c.Kernel, c.Cell, rep.Title)
		}
	}
	for _, s := range r.Results {
		// A SKIP's reason (the kernel lacks what the scenario requires) is
		// routine: results.json and index.html keep it.
		if s.Reason != "" && s.Verdict != "PASS" && s.Verdict != "SKIP" {
			fmt.Fprintf(w, "\n%s %s %s: %s %s\n", s.Scenario, s.Kernel, s.Cell, s.Verdict, firstLines(s.Reason, 20))
		}
	}
	r.writeWarnings(w)
	r.writeStress(w) // stress.go
	return nil
}

// writeWarnings says, once per scenario step, on which cells the scenario
// file expects nothing of it.
func (r *Results) writeWarnings(w io.Writer) {
	var order []string
	cells := map[string][]string{}
	for _, s := range r.Results {
		for _, warn := range s.Warnings {
			key := s.Scenario + ": " + warn
			if cells[key] == nil {
				order = append(order, key)
			}
			cells[key] = append(cells[key], s.Kernel+" "+s.Cell)
		}
	}
	for _, key := range order {
		fmt.Fprintf(w, "\nwarning: %s: on %s\n", key, strings.Join(cells[key], ", "))
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("… (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

// Summary is the line under the table: how long the run took and how its
// scenarios got their VMs ("0 boots, 125 restores").
func (r *Results) Summary() string {
	var boots, restores, ran int
	for _, c := range r.Cells {
		boots += c.Boots
		restores += c.Restores
	}
	for _, s := range r.Results {
		if s.Started != "" {
			ran++
		}
	}
	return fmt.Sprintf("%d cell(s), %d scenario VM(s) in %s: %d boot(s), %d restore(s)",
		len(r.Cells), ran, (time.Duration(r.DurationMS) * time.Millisecond).Round(100*time.Millisecond), boots, restores)
}
