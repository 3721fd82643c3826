package matrix

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
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
	t.Run("the guest went silent during iteration 3", func(t *testing.T) {
		by, _ := groupEvents([]protocol.Event{step(0, protocol.ActionLoad), iterationEvent(1), iterationEvent(2)})
		steps := by["s"].steps
		require.Len(t, steps, 2, "the iterations it reported stand for the loop step")
		assert.False(t, steps[1].Died, "hung or died is for the runner to tell")
		assert.Equal(t, "the guest stopped reporting after iteration 2", steps[1].Error)
		assert.Len(t, steps[1].Iterations, 2)
		assert.Equal(t, uint64(4096), steps[1].TaintBefore)
	})
}

// A guest that goes silent in a loop is judged as one that goes silent in
// a plain step: a VM timeout is a HANG, a stall after an oops or a panic a
// CRASH, silence alone an ERROR, each naming the last iteration reported.
func TestJudgeUnfinishedLoop(t *testing.T) {
	hello, err := scenario.Load("../../modules/hello")
	require.NoError(t, err)
	unloadCfg := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}
	rep, why := hello.Repeated(50, kconfig.Lookup(unloadCfg.Value, "6.12.117"))
	require.Empty(t, why)
	iteration := func(k int) protocol.Event {
		ok := protocol.StepResult{TaintBefore: 4096, TaintAfter: 4096}
		return protocol.Event{Kind: protocol.EventIteration, Scenario: "hello", Iteration: &protocol.Iteration{Index: k, Steps: []protocol.StepResult{ok, ok}}}
	}
	events := []protocol.Event{{Kind: protocol.EventBoot}, {Kind: protocol.EventStepStart, Scenario: "hello"}, iteration(1), iteration(2)}
	for _, tc := range []struct {
		name    string
		res     vm.Result
		console string
		verdict verdict.Verdict
		reason  string
	}{
		{name: "VM timeout", res: vm.Result{Events: events, TimedOut: true, Duration: time.Minute}, verdict: verdict.Hang, reason: "VM timed out after 1m0s during step 1 (repeat 50× [load hello, unload hello], "},
		{name: "stall after an oops", res: vm.Result{Events: events, Stalled: true}, verdict: verdict.Crash, reason: "kernel oops during step 1"},
		{name: "panic", res: vm.Result{Events: events}, console: "[    1.5] Kernel panic - not syncing: Fatal exception\n", verdict: verdict.Crash, reason: "kernel panic during step 1"},
		{name: "silence", res: vm.Result{Events: events}, verdict: verdict.Error, reason: "guest stopped reporting during step 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "boot-1")
			require.NoError(t, os.WriteFile(prefix+".console.log", []byte(tc.console), 0o644))
			r := &cellRun{
				u:      unit{src: &ksrc.Source{Version: "6.12.117"}, cell: kconfig.Cell{Name: "unload"}},
				kernel: &kbuild.Kernel{Config: unloadCfg},
				boots:  1,
			}
			_, results := r.judge([]*scenario.Scenario{rep}, &tc.res, prefix)
			require.Len(t, results, 1)
			assert.Equal(t, tc.verdict, results[0].Verdict, results[0].Reason)
			assert.Contains(t, results[0].Reason, tc.reason)
			assert.Contains(t, results[0].Reason, "(the guest stopped reporting after iteration 2)")
		})
	}
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
