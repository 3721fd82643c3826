package verdict

import (
	"fmt"
	"strings"

	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// KUnitCase is one KUnit test case a step's KTAP reported (or one the
// scenario expected and the KTAP never named), with what was expected.
type KUnitCase struct {
	// Step is the 0-based index of the step whose kmsg carried the KTAP.
	Step int `json:"step"`
	ktap.Case
	// Expected is the status the scenario's kunit list asks for; empty
	// when the case is not listed (then only FAIL and CRASH are wrong).
	Expected ktap.Status `json:"expected,omitempty"`
}

// Missing is the status of a listed case the KTAP never named.
const Missing ktap.Status = "MISSING"

// OK tells whether the case reported what the scenario expects.
func (c KUnitCase) OK() bool {
	if c.Expected == "" {
		return c.Status != ktap.Fail && c.Status != ktap.Crash
	}
	return c.Status == c.Expected
}

// KUnitCases parses the KTAP in a step's kmsg records.
func KUnitCases(step int, records []protocol.Kmsg) []KUnitCase {
	var lines []ktap.Line
	for _, k := range records {
		for _, l := range strings.Split(k.Text, "\n") {
			lines = append(lines, ktap.Line{Text: l, TimeUS: k.TimeUS})
		}
	}
	root, found := ktap.Parse(lines)
	if !found {
		return nil
	}
	var out []KUnitCase
	for _, c := range root.Cases() {
		out = append(out, KUnitCase{Step: step, Case: c})
	}
	return out
}

// kunitOutcome matches a step's KTAP cases with the kunit lists of the
// expect blocks that apply: a listed case must report its status, and a
// case that fails or crashes must be listed as such.
func kunitOutcome(step int, applicable []scenario.Expectation, r *protocol.StepResult) (cases []KUnitCase, expected []string, mismatches []Mismatch) {
	cases = KUnitCases(step, r.Kmsg)
	byID := map[string]int{}
	for i, c := range cases {
		byID[c.ID()] = i
	}
	listed := map[string]bool{}
	for _, e := range applicable {
		for _, want := range e.KUnit {
			expected = append(expected, kunitDesc(want))
			listed[want.Case] = true
			i, ok := byID[want.Case]
			if !ok {
				cases = append(cases, KUnitCase{Step: step, Case: ktap.Case{Name: want.Case, Status: Missing}, Expected: want.Status})
				mismatches = append(mismatches, Mismatch{What: "kunit " + want.Case, Expected: string(want.Status), Observed: "not in the KTAP" + kunitSummary(cases), Line: want.Line})
				continue
			}
			cases[i].Expected = want.Status
			if cases[i].Status != want.Status {
				mismatches = append(mismatches, Mismatch{What: "kunit " + want.Case, Expected: string(want.Status), Observed: caseText(cases[i].Case), Line: want.Line})
			}
		}
	}
	for _, c := range cases {
		if !listed[c.ID()] && !c.OK() {
			mismatches = append(mismatches, Mismatch{What: "kunit " + c.ID(), Expected: "no failure (the case is not in the step's kunit list)", Observed: caseText(c.Case)})
		}
	}
	return cases, expected, mismatches
}

// kunitDesc is how an expected case reads in results and explanations.
func kunitDesc(want scenario.KUnitExpect) string {
	return fmt.Sprintf("kunit %s %s", want.Case, want.Status)
}

// caseText is a status with the first diagnostic line that explains it.
func caseText(c ktap.Case) string {
	for _, l := range c.Log {
		if strings.TrimSpace(l) != "" && c.Status != ktap.Pass {
			return fmt.Sprintf("%s (%s)", c.Status, clip(strings.TrimSpace(l)))
		}
	}
	if c.Reason != "" {
		return fmt.Sprintf("%s (%s)", c.Status, c.Reason)
	}
	return string(c.Status)
}

func kunitSummary(cases []KUnitCase) string {
	var ids []string
	for _, c := range cases {
		if c.Status != Missing {
			ids = append(ids, c.ID())
		}
	}
	if len(ids) == 0 {
		return " (no KUnit results in the step's kmsg)"
	}
	return fmt.Sprintf(" (it reports %s)", strings.Join(ids, ", "))
}
