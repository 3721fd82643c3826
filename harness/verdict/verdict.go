// Package verdict compares what the agent observed in a boot with what a
// scenario expects of the kernel configuration that ran it: the scenario
// resolved for that kernel (expected.go), the boot's events and console
// grouped and attributed to steps (events.go, attribution.go, leaks.go),
// each step checked (checks.go, kunit.go, loop.go, reports.go), how the
// boot ended (boot.go), and which verdict wins (precedence.go).
package verdict

import (
	"fmt"
	"slices"

	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// Verdict is a scenario's outcome on one cell.
type Verdict string

// Evaluate gives PASS, FAIL, ERROR or HANG; Judge adds CRASH from the
// kernel's reports, JudgeBoot what the boot's end says (a VM timeout, a
// panic, a silent guest); the runner gives SKIP. Which verdict wins when a
// scenario earns several is the precedence table (precedence.go).
const (
	Pass  Verdict = "PASS"
	Fail  Verdict = "FAIL"  // the kernel did not do what the scenario expects
	Error Verdict = "ERROR" // the observations are missing or untrustworthy
	Hang  Verdict = "HANG"
	Crash Verdict = "CRASH"
	Skip  Verdict = "SKIP"
)

// Result is the verdict on one scenario run.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Reason names the first problem: the step, its file:line, what was
	// expected and observed. Empty on PASS.
	Reason string        `json:"reason,omitempty"`
	Steps  []StepOutcome `json:"steps"`
	// KUnit is every KUnit case the steps' KTAP reported, in step order.
	KUnit []KUnitCase `json:"kunit,omitempty"`
	// failStep is the step of the FAIL reason: of the problems that earn
	// FAIL, the earliest step's gives the reason.
	failStep int
	// endedEarly: a step ended the boot as its expectations said it
	// would (a pinned hang or crash), so no later result was to come.
	endedEarly bool
}

// StepOutcome is one step with what was expected of it and what differed.
type StepOutcome struct {
	Index  int      `json:"index"` // 0-based like protocol.Event.StepIndex; reasons count from 1
	Line   int      `json:"line"`
	Action string   `json:"action"`
	Module string   `json:"module,omitempty"`
	Flags  []string `json:"flags,omitempty"`
	// Expected lists the conditions that applied, as people read them:
	// "errno ENOSYS", `kmsg contains "hi module being loaded."`.
	Expected   []string   `json:"expected,omitempty"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// Error says why the step could not be judged (no result, agent failure).
	Error string `json:"error,omitempty"`
	// Stress sums up a repeat or concurrent step's iterations (loop.go).
	Stress *StressSummary `json:"stress,omitempty"`
}

// Mismatch is one condition that did not hold.
type Mismatch struct {
	What     string `json:"what"` // "errno", "sysfs refcnt", "kmsg", …
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	Line     int    `json:"line,omitempty"` // of the expect block
}

// Evaluate judges results, the agent's step results in step order, against
// the expectations of the scenario on the kernel that ran (see Resolve).
// Missing results (the guest died) and agent failures make the verdict
// ERROR whatever else happened (HANG when a step overran its timeout);
// otherwise any mismatch is FAIL.
func Evaluate(exp *Expected, results []protocol.StepResult) Result {
	return evaluate(exp, results, func(int) []Report { return nil })
}

// evaluate is Evaluate with the kernel reports of each step, which a loop
// step judges iteration by iteration.
func evaluate(exp *Expected, results []protocol.StepResult, reports func(i int) []Report) Result {
	sc := exp.Scenario
	res := Result{Verdict: Pass}
	var hangReason, errorReason, failReason string
	for i, es := range exp.Steps {
		st := es.Step
		out := StepOutcome{Index: i, Line: st.Line, Action: string(st.Action), Module: st.Module, Flags: st.Flags}
		var checks []check
		if st.Action == protocol.ActionModprobe && !slices.ContainsFunc(es.Expect, func(e scenario.Expectation) bool { return e.Status != nil }) {
			// A modprobe that failed is no pass unless the scenario says so.
			ok := 0
			checks = checksOf(st, scenario.Expectation{Line: st.Line, Status: &ok})
		}
		for _, e := range es.Expect {
			checks = append(checks, checksOf(st, e)...)
		}
		for _, c := range checks {
			out.Expected = append(out.Expected, c.desc)
		}
		where := fmt.Sprintf("step %d (%s, %s:%d)", i+1, st.Describe(), sc.File, st.Line)
		switch {
		case i >= len(results):
			out.Error = "no result"
			if errorReason == "" {
				errorReason = where + " produced no result"
			}
		case results[i].Hung:
			out.Error = results[i].Error
			if hangReason == "" {
				hangReason = fmt.Sprintf("%s: %s", where, results[i].Error)
			}
		case results[i].Error != "":
			out.Error = "agent: " + results[i].Error
		case !samePlan(st.Plan(), results[i].Step):
			got := results[i].Step
			out.Error = fmt.Sprintf("the result is for %s %s%s", got.Action, got.Module, got.Path)
		default:
			for _, c := range checks {
				if observed, ok := c.observe(&results[i]); !ok {
					out.Mismatches = append(out.Mismatches, Mismatch{What: c.what, Expected: c.want, Observed: observed, Line: c.line})
				}
			}
			cases, expected, mismatches := kunitOutcome(i, es.Expect, &results[i])
			res.KUnit = append(res.KUnit, cases...)
			out.Expected = append(out.Expected, expected...)
			out.Mismatches = append(out.Mismatches, mismatches...)
		}
		if st.IsLoop() && i < len(results) {
			loopOutcome(es, exp.Kernel, &results[i], reports(i), &out)
		}
		if i < len(results) && (out.Error != "" || results[i].Hung) {
			// What the KTAP says up to the failure still tells which case broke.
			res.KUnit = append(res.KUnit, KUnitCases(i, results[i].Kmsg)...)
		}
		if out.Error != "" && errorReason == "" {
			errorReason = fmt.Sprintf("%s: %s", where, out.Error)
		}
		if m := out.Mismatches; len(m) > 0 && failReason == "" {
			res.failStep = i
			failReason = fmt.Sprintf("%s: %s: expected %s, observed %s", where, m[0].What, m[0].Expected, m[0].Observed)
		}
		res.Steps = append(res.Steps, out)
	}
	if extra := len(results) - len(exp.Steps); extra > 0 && errorReason == "" {
		errorReason = fmt.Sprintf("%s: %d results for %d steps", sc.File, len(results), len(exp.Steps))
	}
	var o outcome
	o.addIf(Hang, hangReason)
	o.addIf(Error, errorReason)
	o.addIf(Fail, failReason)
	res.Verdict, res.Reason = o.verdict()
	return res
}

// samePlan guards against results that do not line up with the steps; a
// result that does not echo its step is taken on trust.
func samePlan(want, got protocol.Step) bool {
	return got.Action == "" || want.Action == got.Action && want.Module == got.Module && want.Path == got.Path
}
