package matrix

import (
	"fmt"
	"strings"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/kreport"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// unfinishedLoop keeps the iterations of a loop step the guest never
// finished: a result whose error names the last iteration it reported.
// Whether the guest hung, stalled after an oops or panicked is for the
// runner to tell (unfinished in judge.go), so the result claims neither.
func (s *scenarioEvents) unfinishedLoop() {
	if len(s.iterations) == 0 {
		return
	}
	last := s.iterations[len(s.iterations)-1]
	loop := ""
	if last.Loop != 0 {
		loop = fmt.Sprintf(" of loop %d", last.Loop+1)
	}
	s.steps = append(s.steps, protocol.StepResult{
		Iterations: s.iterations,
		Error:      fmt.Sprintf("the guest stopped reporting after iteration %d%s", last.Index, loop),
	})
	if first := s.iterations[0]; len(first.Steps) > 0 {
		s.steps[len(s.steps)-1].TaintBefore = first.Steps[0].TaintBefore
	}
	s.iterations = nil
}

// iterationReports classifies each inner step's kmsg of each iteration,
// tagging the report with where it happened.
func iterationReports(its []protocol.Iteration) []verdict.Report {
	var out []verdict.Report
	for _, it := range its {
		for si, st := range it.Steps {
			for _, rep := range kreport.ParseLines(kmsgTexts(st.Kmsg)) {
				v := toVerdict(rep)
				v.Iteration, v.Loop, v.InnerStep = it.Index, it.Loop, si
				out = append(out, v)
			}
		}
	}
	return out
}

// planSteps counts a plan's steps for the boot's timeout: a loop step
// counts its inner step runs at a quarter each (a load or unload takes
// milliseconds even under TCG), plus one agent step timeout (30 s).
func planSteps(steps []protocol.Step) int {
	n := 0
	for _, st := range steps {
		n++
		if len(st.Loops) == 0 {
			continue
		}
		runs := 0
		for _, l := range st.Loops {
			runs += l.Count * len(l.Steps)
		}
		n += 15 + runs/4
	}
	return n
}

// WithRepeat runs each scenario's step sequence n times in one boot, as
// one repeat step (timed per load and unload, a failure naming its
// iteration). A scenario that leaves the kernel otherwise than it found it
// on a cell (a module left loaded, a taint, an expected report), that
// already loops or that expects a hang runs once there, with a note
// saying why.
func WithRepeat(n int) Option { return func(c *Config) { c.Repeat = n } }

// applyRepeat turns the cell's scenarios into their --repeat form.
func (r *cellRun) applyRepeat() {
	n := r.m.cfg.Repeat
	if n <= 1 {
		return
	}
	r.notes = map[string]string{}
	lookup := kconfig.Lookup(r.kernel.Config.Value, r.u.src.Version)
	for i, sc := range r.own {
		rep, why := sc.Repeated(n, lookup)
		if why != "" {
			r.notes[sc.Name] = fmt.Sprintf("--repeat %d not applied, ran once: %s:%s", n, sc.File, strings.TrimPrefix(why, "line "))
			continue
		}
		r.own[i] = rep
		r.notes[sc.Name] = fmt.Sprintf("--repeat %d: the steps ran %d times in one boot", n, n)
	}
}

// indexedResult is a step result with the index of the scenario step it
// belongs to.
type indexedResult struct {
	index  int
	result protocol.StepResult
}

// withIterations is the steps' results in the order they ran, a loop
// step's inner results (each iteration's) in place of the loop step's.
func withIterations(steps []protocol.StepResult) []indexedResult {
	var out []indexedResult
	for i, st := range steps {
		if len(st.Iterations) == 0 {
			out = append(out, indexedResult{i, st})
			continue
		}
		for _, it := range st.Iterations {
			for _, in := range it.Steps {
				out = append(out, indexedResult{i, in})
			}
		}
	}
	return out
}
