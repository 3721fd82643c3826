package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// kunitTestcases gives each KUnit case a scenario's KTAP reported a
// testcase of its own, classname KERNEL/CELL/SCENARIO and name
// suite.case, with the status the module reported in its status
// attribute: FAIL is a failure, CRASH and a listed case that never
// reported are errors, SKIP is skipped with KUnit's reason. A FAIL or
// CRASH the scenario expects (a test module that proves failures are
// seen) passes, its KTAP in system-out: a CI dashboard must not turn red
// on a run where everything went as expected.
func kunitTestcases(s ScenarioResult) []junit.Testcase {
	var out []junit.Testcase
	for _, c := range s.KUnit {
		d := time.Duration(c.DurationUS) * time.Microsecond
		tc := junit.Testcase{
			Name:      c.ID(),
			Classname: fmt.Sprintf("%s/%s/%s", s.Kernel, s.Cell, s.Scenario),
			Time:      fmt.Sprintf("%.3f", d.Seconds()),
			Status:    string(c.Status),
		}
		note := ""
		switch {
		case c.Expected == "":
		case c.OK():
			note = " (as the scenario expects)"
		default:
			note = fmt.Sprintf(" (the scenario expects %s)", c.Expected)
		}
		res := &junit.Result{Type: string(c.Status), Data: strings.Join(c.Log, "\n")}
		switch c.Status {
		case ktap.Pass:
			if !c.OK() {
				tc.Failure = &junit.Result{Type: "PASS", Message: "ok" + note}
			}
		case ktap.Skip:
			// Jenkins' schema allows no message on <skipped>: the text says why.
			res.Message = c.Reason + note
			res.Data = strings.TrimSpace(res.Message + "\n" + res.Data)
			tc.Skipped = res
		case ktap.Fail:
			res.Message = "not ok" + firstDiagnostic(c.Log) + note
			if c.OK() {
				tc.SystemOut = &junit.Output{Data: xmlSafe(res.Message + "\n" + res.Data)}
				break
			}
			tc.Failure = res
		case verdict.Missing:
			res.Message = "not in the step's KTAP" + note
			tc.Error = res
		default:
			res.Message = "crashed: no result line" + firstDiagnostic(c.Log) + note
			if c.OK() {
				tc.SystemOut = &junit.Output{Data: xmlSafe(res.Message + "\n" + res.Data)}
				break
			}
			tc.Error = res
		}
		out = append(out, tc)
	}
	return out
}

func firstDiagnostic(log []string) string {
	for _, l := range log {
		if l = strings.TrimSpace(l); l != "" {
			return ": " + l
		}
	}
	return ""
}

// kunitChanges names the KUnit cases whose status changed, appeared or
// disappeared between two runs of a scenario.
func kunitChanges(a, b []verdict.KUnitCase) []string {
	status := func(cs []verdict.KUnitCase) (map[string]ktap.Status, []string) {
		m := map[string]ktap.Status{}
		var order []string
		for _, c := range cs {
			if _, dup := m[c.ID()]; !dup {
				order = append(order, c.ID())
			}
			m[c.ID()] = c.Status
		}
		return m, order
	}
	old, oldOrder := status(a)
	cur, curOrder := status(b)
	var out []string
	for _, id := range curOrder {
		if from := old[id]; from != cur[id] {
			out = append(out, fmt.Sprintf("kunit %s: %s → %s", id, orDash(from), cur[id]))
		}
	}
	for _, id := range oldOrder {
		if _, ok := cur[id]; !ok {
			out = append(out, fmt.Sprintf("kunit %s: %s → -", id, old[id]))
		}
	}
	return out
}
