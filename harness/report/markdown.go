package report

import (
	"fmt"
	"io"
	"strings"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// markdownMarks put a sign before each verdict, so a column of them reads
// at a glance on a CI run's page.
var markdownMarks = map[verdict.Verdict]string{
	verdict.Pass:  "✅",
	verdict.Skip:  "⏭️",
	verdict.Fail:  "❌",
	verdict.Error: "⚠️",
	verdict.Hang:  "⏳",
	verdict.Crash: "💥",
}

// WriteMarkdown writes the matrix as GitHub-flavoured Markdown, for a CI
// job's summary page ($GITHUB_STEP_SUMMARY, a merge request note): the
// totals, the scenario × cell table with kernel versions over their
// cells, and what did not pass with its first reason line.
func (r *Results) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	title := "modmatrix"
	if r.Shard != "" {
		title += " (shard " + r.Shard + ")"
	}
	fmt.Fprintf(&b, "### %s: %s on %d cell(s)\n\n", title, Tally(r.Results), len(r.Cells))

	cols, rows, verdicts := r.grid()
	b.WriteString("| scenario |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s<br>%s |", markdownCell(c.kernel), markdownCell(c.cell))
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(cols)) + "\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s |", markdownCell(row))
		for _, c := range cols {
			v, ok := verdicts[row][c]
			if !ok {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %s %s |", markdownMarks[v], v)
		}
		b.WriteString("\n")
	}

	var failed []string
	for _, c := range r.Cells {
		if c.Error != "" {
			failed = append(failed, fmt.Sprintf("- **%s %s**: %s", c.Kernel, c.Cell, markdownCell(FirstLine(c.Error))))
		}
	}
	for _, s := range r.Results {
		if s.Verdict != verdict.Pass && s.Verdict != verdict.Skip {
			failed = append(failed, fmt.Sprintf("- **%s** on %s %s: %s %s", s.Scenario, s.Kernel, s.Cell, s.Verdict, markdownCell(FirstLine(s.Reason))))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\n#### Did not pass\n\n%s\n", strings.Join(failed, "\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// markdownCell keeps text from breaking a table row or turning into markup.
var markdownCell = strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "'").Replace
