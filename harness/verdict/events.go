package verdict

import (
	"fmt"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// scenarioEvents is what one boot said about one scenario.
type scenarioEvents struct {
	started, ended bool
	steps          []protocol.StepResult
	startMS, endMS int64
	// cleanUp are the kmsg records of the agent's clean-up after the last step.
	cleanUp []protocol.Kmsg
	// iterations are a loop step's, streamed before its step event.
	iterations []protocol.Iteration
}

// groupEvents sorts a boot's events by scenario; agentErr is the agent's
// own failure, if it reported one.
func groupEvents(events []protocol.Event) (by map[string]*scenarioEvents, agentErr string) {
	by = map[string]*scenarioEvents{}
	get := func(name string) *scenarioEvents {
		if by[name] == nil {
			by[name] = &scenarioEvents{}
		}
		return by[name]
	}
	for _, e := range events {
		switch e.Kind {
		case protocol.EventStepStart:
			s := get(e.Scenario)
			if !s.started {
				s.started, s.startMS = true, e.UptimeMS
			}
		case protocol.EventIteration:
			if e.Iteration != nil {
				get(e.Scenario).iterations = append(get(e.Scenario).iterations, *e.Iteration)
			}
		case protocol.EventStep:
			if e.Step != nil {
				s := get(e.Scenario)
				st := *e.Step
				st.Iterations, s.iterations = s.iterations, nil
				s.steps = append(s.steps, st)
			}
		case protocol.EventScenarioEnd:
			s := get(e.Scenario)
			s.ended, s.endMS, s.cleanUp = true, e.UptimeMS, e.Kmsg
		case protocol.EventAgentFailure:
			agentErr = e.Error
		}
	}
	for _, s := range by {
		s.unfinishedLoop()
	}
	return by, agentErr
}

// unfinishedLoop keeps the iterations of a loop step the guest never
// finished: a result whose error names the last iteration it reported.
// Whether the guest hung, stalled after an oops or panicked is for the
// boot's account to tell (unfinished in boot.go), so the result claims
// neither.
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
