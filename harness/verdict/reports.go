package verdict

import (
	"fmt"
	"slices"
	"strings"

	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// Report is a kernel report (oops, WARNING, leak, …) attributed to a step,
// as the runner's classifier found it in the step's kmsg or the console.
type Report struct {
	Kind  string `json:"kind"` // a kinds.Kind
	Title string `json:"title"`
	// Signature is kreport's, written only where it is not the title.
	Signature string   `json:"signature,omitempty"`
	Modules   []string `json:"modules,omitempty"`
	// Iteration (from 1) places a report printed inside a repeat or
	// concurrent step: in that iteration of loop Loop, during inner step
	// InnerStep (0-based). 0 when the report is the step's own.
	Iteration int `json:"iteration,omitempty"`
	Loop      int `json:"loop,omitempty"`
	InnerStep int `json:"inner_step,omitempty"`
}

// Judge is Evaluate plus the kernel reports of each step (reports(i) for
// step i): a report the step's expectations do not ask for is never a PASS
// (CRASH for the kinds that kill a task, FAIL for the others), an expected
// one must be there with its kind and module, and a step expected to hang
// or to die in an oops may end the scenario early.
func Judge(exp *Expected, results []protocol.StepResult, reports func(i int) []Report) Result {
	sc := exp.Scenario
	// The guest went silent during step n (no result at all) and the crash
	// that step expects is on the console: the kernel did what was pinned.
	if n := len(results); n < len(exp.Steps) && (n == 0 || !results[n-1].Hung && !results[n-1].Died) &&
		expectedEnd(exp.Steps[n], protocol.StepResult{Died: true}, reports(n)) {
		trimmed := exp.upTo(n)
		res := withReports(trimmed, evaluate(trimmed, results, reports), reports)
		st := exp.Steps[n]
		out := StepOutcome{Index: n, Line: st.Line, Action: string(st.Action), Module: st.Module, Flags: st.Flags,
			Error: "no result: the guest died in the expected crash"}
		for _, want := range st.reports() {
			out.Expected = append(out.Expected, reportDesc(want))
		}
		res.Steps = append(res.Steps, out)
		res.endedEarly = true
		return res
	}
	// Steps that ended the boot as expected: judge only up to them.
	for i, r := range results {
		if !r.Hung && !r.Died {
			continue
		}
		if expectedEnd(exp.Steps[i], r, reports(i)) {
			trimmed := exp.upTo(i + 1)
			res := withReports(trimmed, evaluate(trimmed, relabel(results[:i+1], i), reports), reports)
			res.endedEarly = true
			return res
		}
		break
	}
	res := withReports(exp, evaluate(exp, results, reports), reports)
	// A step whose thread died in an oops is a crash even when no report
	// could be classified.
	var o outcome
	o.add(res.Verdict, res.Reason)
	for i, r := range results {
		if r.Died && i < len(exp.Steps) {
			o.add(Crash, fmt.Sprintf("step %d (%s, %s:%d): %s", i+1, exp.Steps[i].Describe(), sc.File, exp.Steps[i].Line, r.Error))
		}
	}
	res.Verdict, res.Reason = o.verdict()
	return res
}

// expectedEnd: the step hung and a hang was expected, or it died and the
// report that killed it was expected.
func expectedEnd(st ExpectedStep, r protocol.StepResult, reps []Report) bool {
	for _, e := range st.Expect {
		if r.Hung && e.Hung != nil && *e.Hung {
			return true
		}
		if r.Died {
			for _, want := range e.Reports {
				if want.Kind.Crash() && findReport(want, reps) != nil {
					return true
				}
			}
		}
	}
	return false
}

// initExited is the panic of a guest whose init exited. u-root's init
// exits once the agent (its only command) has: the panic is the agent's
// death, which the kernel reports only when it killed it itself (an OOM
// kill, an oops in the agent's thread), reported first.
const initExited = "Attempted to kill init!"

// relabel clears the hang or death of the last step so Evaluate judges its
// observations (errno, kmsg, taint) like any other step's.
func relabel(results []protocol.StepResult, last int) []protocol.StepResult {
	out := slices.Clone(results)
	out[last].Hung, out[last].Died, out[last].Error = false, false, ""
	return out
}

func withReports(exp *Expected, res Result, reports func(i int) []Report) Result {
	sc := exp.Scenario
	var crashReason, failReason string
	failStep := 0
	for i, st := range exp.Steps {
		if i >= len(res.Steps) {
			break
		}
		got := reports(i)
		expected := st.reports()
		out := &res.Steps[i]
		where := fmt.Sprintf("step %d (%s, %s:%d)", i+1, st.Describe(), sc.File, st.Line)
		for _, want := range expected {
			out.Expected = append(out.Expected, reportDesc(want))
		}
		// A loop step expects no report itself: its iterations' reports
		// are judged with their iteration (loop.go) and a loop cannot
		// expect a crash, so a crash there is always unexpected.
		for _, r := range got {
			if r.Iteration > 0 && kinds.Kind(r.Kind).Crash() && crashReason == "" {
				crashReason = fmt.Sprintf("%s: %s: unexpected kernel report: %s", where, iterationWhere(st.Step, r), r.Title)
			}
		}
		got = slices.DeleteFunc(slices.Clone(got), func(r Report) bool { return r.Iteration > 0 })
		missing, unexpected := matchReports(expected, got)
		for _, want := range missing {
			m := Mismatch{What: "kernel report", Expected: reportDesc(want), Observed: titles(got), Line: want.Line}
			out.Mismatches = append(out.Mismatches, m)
			if failReason == "" {
				failStep = i
				failReason = fmt.Sprintf("%s: %s: expected %s, observed %s", where, m.What, m.Expected, m.Observed)
			}
		}
		for _, r := range unexpected {
			m := Mismatch{What: "kernel report", Expected: "none", Observed: r.Title}
			reason := fmt.Sprintf("%s: unexpected kernel report: %s", where, r.Title)
			if len(r.Modules) > 0 && !strings.Contains(r.Title, r.Modules[0]) {
				// The title's function may be the kernel's (a timer of a
				// module gone fires in run_timer_softirq): say whose.
				reason += fmt.Sprintf(" (module %s)", r.Modules[0])
			}
			if kinds.Kind(r.Kind) == kinds.Panic && strings.Contains(r.Title, initExited) {
				reason = fmt.Sprintf("%s: the agent died, with no kernel report saying why (a SIGKILL prints none), and init exited after it: %s", where, r.Title)
			}
			if kinds.Kind(r.Kind) == kinds.Leftover {
				m.What = "leftover"
				reason = fmt.Sprintf("%s: %s: still there after %s was gone, and not before its load", where, r.Title, strings.Join(r.Modules, ", "))
			}
			out.Mismatches = append(out.Mismatches, m)
			if kinds.Kind(r.Kind).Crash() {
				if crashReason == "" {
					crashReason = reason
				}
			} else if failReason == "" {
				failStep = i
				failReason = reason
			}
		}
	}
	var o outcome
	if res.Verdict == Fail && failReason != "" && failStep < res.failStep {
		// A report at an earlier step than the first mismatch (a leftover
		// of the unload, before the second load's EEXIST) is the why.
		o.add(Fail, failReason)
		res.failStep = failStep
	}
	o.add(res.Verdict, res.Reason)
	o.addIf(Crash, crashReason)
	o.addIf(Fail, failReason)
	res.Verdict, res.Reason = o.verdict()
	return res
}

// matchReports pairs the reports a step expects with those it printed:
// missing are the expectations no report matched, unexpected the reports
// no expectation asked for, but for the benign kinds (kinds.Kind.Benign:
// the loader's warning about a positive init return is documented
// behaviour).
func matchReports(want []scenario.ReportExpect, got []Report) (missing []scenario.ReportExpect, unexpected []Report) {
	matched := map[int]bool{}
	for _, w := range want {
		if j := findReport(w, got); j != nil {
			matched[*j] = true
			continue
		}
		missing = append(missing, w)
	}
	for j, r := range got {
		if !matched[j] && !kinds.Kind(r.Kind).Benign() {
			unexpected = append(unexpected, r)
		}
	}
	return missing, unexpected
}

func reportDesc(want scenario.ReportExpect) string {
	if want.Kind == kinds.Leftover && want.Title != nil {
		return "leftover " + want.Title.String()
	}
	desc := "kernel report " + string(want.Kind)
	if want.Module != "" {
		desc += " naming " + want.Module
	}
	return desc
}

// findReport returns the index of the first report that matches want.
func findReport(want scenario.ReportExpect, got []Report) *int {
	for j, r := range got {
		if kinds.Kind(r.Kind) != want.Kind {
			continue
		}
		if want.Module != "" && !slices.Contains(r.Modules, want.Module) {
			continue
		}
		title := r.Title
		if want.Kind == kinds.Leftover {
			// leftovers: patterns match "KIND NAME".
			title = strings.TrimPrefix(title, "leftover ")
		}
		if want.Title != nil && !want.Title.FoundIn(title) {
			continue
		}
		return &j
	}
	return nil
}

func titles(rs []Report) string {
	if len(rs) == 0 {
		return "no report"
	}
	var ts []string
	for _, r := range rs {
		ts = append(ts, fmt.Sprintf("%q (%s)", r.Title, strings.Join(r.Modules, ",")))
	}
	return strings.Join(ts, ", ")
}
