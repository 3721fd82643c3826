package verdict

import (
	"fmt"

	"modmatrix.dev/modmatrix/harness/scenario"
)

// Expected is a scenario resolved against one kernel: for every step
// (and every inner step of its loops), the expect blocks whose when:
// holds on that kernel's resolved .config. A scenario × cell is resolved
// once; judging, explaining and the loop checks all read this.
type Expected struct {
	Scenario *scenario.Scenario
	Steps    []ExpectedStep
	// Kernel answers what the kernel is, not what to expect of it: HZ,
	// for the resolution of a loop's timings.
	Kernel func(sym string) string
}

// ExpectedStep is one step with the expectations that apply to it.
type ExpectedStep struct {
	scenario.Step
	Expect []scenario.Expectation
	// Loops are a repeat or concurrent step's inner steps, resolved.
	Loops [][]ExpectedStep
}

// Resolve picks, for each step of sc, the expectations that hold for
// lookup (symbols of the resolved .config, and KERNELVERSION).
func Resolve(sc *scenario.Scenario, lookup func(sym string) string) *Expected {
	return &Expected{Scenario: sc, Steps: resolveSteps(sc.Steps, lookup), Kernel: lookup}
}

func resolveSteps(steps []scenario.Step, lookup func(string) string) []ExpectedStep {
	out := make([]ExpectedStep, len(steps))
	for i, st := range steps {
		out[i] = ExpectedStep{Step: st, Expect: st.Applicable(lookup)}
		for _, l := range st.Loops {
			out[i].Loops = append(out[i].Loops, resolveSteps(l.Steps, lookup))
		}
	}
	return out
}

// upTo is e with only its first n steps: a scenario that ended the boot
// as it expected to is judged up to the step that ended it.
func (e *Expected) upTo(n int) *Expected {
	out := *e
	out.Steps = e.Steps[:n]
	return &out
}

// reports are the kernel reports the step's expectations ask for.
func (s ExpectedStep) reports() []scenario.ReportExpect {
	var out []scenario.ReportExpect
	for _, e := range s.Expect {
		out = append(out, e.Reports...)
	}
	return out
}

// Unchecked names the steps that have expect blocks of which none applies
// on this kernel: the scenario says what to expect on other cells and
// nothing here, which is most often a case its author forgot (a when: for
// MODULE_UNLOAD and none for !MODULE_UNLOAD). Steps without expect blocks
// (open, pause) are meant to check nothing and are not named.
func (e *Expected) Unchecked() []string {
	var out []string
	var walk func(steps []ExpectedStep, where string)
	walk = func(steps []ExpectedStep, where string) {
		for i, st := range steps {
			at := fmt.Sprintf("%sstep %d (%s, %s:%d)", where, i+1, st.Describe(), e.Scenario.File, st.Line)
			if len(st.Step.Expect) > 0 && len(st.Expect) == 0 {
				out = append(out, at+": no expect block's when: holds on this cell, so nothing is checked")
			}
			for j, loop := range st.Loops {
				walk(loop, fmt.Sprintf("%sstep %d loop %d ", where, i+1, j+1))
			}
		}
	}
	walk(e.Steps, "")
	return out
}
