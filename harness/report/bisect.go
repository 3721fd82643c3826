package report

import (
	"fmt"

	"modmatrix.dev/modmatrix/harness/verdict"
)

// BisectAnswer is what a run's results say of the commit under test.
type BisectAnswer int

// The answers, as git bisect run asks for them.
const (
	BisectGood BisectAnswer = iota // every scenario passed or was skipped
	BisectBad                      // a scenario failed, hung or crashed the kernel
	BisectSkip                     // untestable: no build, no boot, or a scenario not judged
)

// Bisect answers for the commit the run's kernel was built from, and says
// why: skip when a cell could not be built or booted or a scenario could
// not be judged (ERROR), bad when a scenario failed, hung or crashed,
// good when every one passed or was skipped.
func (r *Results) Bisect() (BisectAnswer, string) {
	for _, c := range r.Cells {
		if c.Error != "" {
			return BisectSkip, fmt.Sprintf("%s %s could not run: %s", c.Kernel, c.Cell, FirstLine(c.Error))
		}
	}
	if len(r.Results) == 0 {
		return BisectSkip, "no scenario ran"
	}
	answer, why := BisectGood, "every scenario passed"
	for _, s := range r.Results {
		switch s.Verdict {
		case verdict.Error:
			return BisectSkip, fmt.Sprintf("%s could not be judged: %s", s.Scenario, FirstLine(s.Reason))
		case verdict.Fail, verdict.Hang, verdict.Crash:
			if answer == BisectGood {
				answer, why = BisectBad, fmt.Sprintf("%s: %s %s", s.Scenario, s.Verdict, FirstLine(s.Reason))
			}
		}
	}
	return answer, why
}

// Flipped says how probe differs from good, the same scenario on another
// configuration: its verdict, and the observations named in observe
// (names of Observations; nil: the verdict alone). None: probe is as good
// is.
func Flipped(good, probe ScenarioResult, observe []string) []string {
	var out []string
	if good.Verdict != probe.Verdict {
		out = append(out, fmt.Sprintf("%s → %s %s", good.Verdict, probe.Verdict, FirstLine(probe.Reason)))
	}
	if len(observe) > 0 {
		out = append(out, observationChanges(good, probe, observe)...)
	}
	return out
}
