package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// StressLine sums up a repeat or concurrent step in one line: iterations
// run, median and max duration per inner step, taint drift, failures.
// "" for a plain step.
func StressLine(st StepRecord) string {
	s := st.Stress
	if s == nil {
		return ""
	}
	var ran []string
	for _, l := range s.Loops {
		ran = append(ran, fmt.Sprintf("%d/%d", l.Ran, l.Planned))
	}
	drift := "none"
	if s.TaintGained != "" {
		drift = s.TaintGained
		if s.TaintGainedAt != "" {
			drift += " at " + s.TaintGainedAt
		}
	}
	line := fmt.Sprintf("%s: %s iterations; %s; taint drift %s", st.Action, strings.Join(ran, " + "), s.Timings(), drift)
	if s.FailedIterations > 0 {
		line += fmt.Sprintf("; %d failed, first: %s", s.FailedIterations, s.FirstFailure)
	}
	return line
}

// stressLines are the stress lines of a scenario's steps, numbered as the
// steps are.
func stressLines(s ScenarioResult) []string {
	var out []string
	for i, st := range s.Steps {
		if line := StressLine(st); line != "" {
			out = append(out, fmt.Sprintf("step %d %s", i+1, line))
		}
	}
	return out
}

// writeStress prints, under the table, each stress step's timing and each
// note (what --repeat did with a scenario).
func (r *Results) writeStress(w io.Writer) {
	// The figures of every loop step are in results.json and index.html;
	// the terminal lists them when the user asked for them (--repeat) and
	// for loops that went wrong, and otherwise says where they are.
	first, quiet := true, 0
	for _, s := range r.Results {
		lines := stressLines(s)
		if r.Repeat == 0 && s.Note == "" && s.Verdict == verdict.Pass {
			quiet += len(lines)
			continue
		}
		if s.Note != "" {
			lines = append(lines, "note: "+s.Note)
		}
		for _, l := range lines {
			if first {
				fmt.Fprintln(w, "\nstress:")
				first = false
			}
			fmt.Fprintf(w, "  %s %s %s: %s\n", s.Scenario, s.Kernel, s.Cell, l)
		}
	}
	if quiet > 0 {
		if first {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "stress: %d passing loop step(s); their timings are in results.json and index.html (or run with --repeat N)\n", quiet)
	}
}

// stressOutput is a testcase's system-out for junit.xml: its stress lines
// and note, nil when it has none.
func stressOutput(s ScenarioResult) *junit.Output {
	lines := stressLines(s)
	if s.Note != "" {
		lines = append(lines, "note: "+s.Note)
	}
	if len(lines) == 0 {
		return nil
	}
	return &junit.Output{Data: xmlSafe(strings.Join(lines, "\n"))}
}

// stressTiming flattens a summary's timing for the page's table.
func stressTiming(s *verdict.StressSummary) []stressRow {
	var out []stressRow
	for li, l := range s.Loops {
		for _, t := range l.Timing {
			out = append(out, stressRow{Loop: li + 1, Ran: fmt.Sprintf("%d/%d", l.Ran, l.Planned), Timing: t})
		}
	}
	return out
}

type stressRow struct {
	Loop int
	Ran  string
	verdict.Timing
}
