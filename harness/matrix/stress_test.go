package matrix

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

func iterationEvent(index int, kmsg ...string) protocol.Event {
	var recs []protocol.Kmsg
	for _, k := range kmsg {
		recs = append(recs, protocol.Kmsg{Text: k})
	}
	return protocol.Event{Kind: protocol.EventIteration, Scenario: "s", StepIndex: 1, Iteration: &protocol.Iteration{
		Index: index, Steps: []protocol.StepResult{{TaintBefore: 4096, TaintAfter: 4096, Kmsg: recs}, {}},
	}}
}

func TestGroupEventsIterations(t *testing.T) {
	step := func(i int, a protocol.Action) protocol.Event {
		return protocol.Event{Kind: protocol.EventStep, Scenario: "s", StepIndex: i, Step: &protocol.StepResult{Step: protocol.Step{Action: a}}}
	}
	t.Run("finished", func(t *testing.T) {
		by, _ := groupEvents([]protocol.Event{
			step(0, protocol.ActionLoad), iterationEvent(1), iterationEvent(2), step(1, protocol.ActionRepeat),
			{Kind: protocol.EventScenarioEnd, Scenario: "s"},
		})
		steps := by["s"].steps
		require.Len(t, steps, 2)
		assert.Empty(t, steps[0].Iterations)
		require.Len(t, steps[1].Iterations, 2)
		assert.Equal(t, 2, steps[1].Iterations[1].Index)
	})
	t.Run("the guest died during iteration 3", func(t *testing.T) {
		by, _ := groupEvents([]protocol.Event{step(0, protocol.ActionLoad), iterationEvent(1), iterationEvent(2)})
		steps := by["s"].steps
		require.Len(t, steps, 2, "the iterations it reported stand for the loop step")
		assert.True(t, steps[1].Died)
		assert.Contains(t, steps[1].Error, "during iteration 3 of loop 1")
		assert.Len(t, steps[1].Iterations, 2)
		assert.Equal(t, uint64(4096), steps[1].TaintBefore)
	})
}

func TestIterationReports(t *testing.T) {
	its := []protocol.Iteration{
		*iterationEvent(1).Iteration,
		*iterationEvent(2, "WARNING: CPU: 0 PID: 57 at /src/stress_hello.c:12 hi+0x10/0x20 [stress_hello]").Iteration,
	}
	reps := iterationReports(its)
	require.Len(t, reps, 1)
	assert.Equal(t, "WARNING", reps[0].Kind)
	assert.Equal(t, 2, reps[0].Iteration)
	assert.Equal(t, 0, reps[0].InnerStep)
}

func TestPlanSteps(t *testing.T) {
	load := protocol.Step{Action: protocol.ActionLoad}
	assert.Equal(t, 2, planSteps([]protocol.Step{load, load}))
	rep := protocol.Step{Action: protocol.ActionRepeat, Loops: []protocol.Loop{{Count: 200, Steps: []protocol.Step{load, load}}}}
	// 400 inner runs at a quarter step each, plus one step timeout.
	assert.Equal(t, 1+1+15+100, planSteps([]protocol.Step{load, rep}))
}
