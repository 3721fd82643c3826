package verdict

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// readEvents reads a recorded boot's event log.
func readEvents(t *testing.T, path string) []protocol.Event {
	t.Helper()
	events, err := protocol.ReadEventLog(path)
	require.NoError(t, err)
	return events
}

// The recorded boot is hello on a 6.12 kernel with MODULE_UNLOAD=y.
func TestJudgeBoot(t *testing.T) {
	hello := loadScenario(t, helloDir)
	events := readEvents(t, "testdata/boot/hello-unload.events.jsonl")
	require.Len(t, events, 7)
	stepOnly := func(n int) []protocol.Event {
		// boot, then n step_start/step pairs, then nothing: the guest died.
		return events[:1+2*n]
	}
	unloadCfg := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}

	tests := []struct {
		name    string
		config  kconfig.Config
		boot    Boot
		failed  bool // the boot ran no step: the batch's verdict
		verdict Verdict
		reason  string
	}{
		{name: "complete", config: unloadCfg, boot: Boot{Events: events}, verdict: Pass},
		{
			// The same observations judged against MODULE_UNLOAD=n expectations.
			name: "wrong config", config: kconfig.Config{"MODULES": "y"}, boot: Boot{Events: events},
			verdict: Fail, reason: "step 2 (unload hello, ",
		},
		{
			name: "panic mid-scenario", config: unloadCfg,
			boot:    Boot{Events: stepOnly(1), Console: []byte("[    1.5] Kernel panic - not syncing: Fatal exception\n")},
			verdict: Crash, reason: "kernel panic during step 2 (unload hello",
		},
		{
			name: "timeout mid-scenario", config: unloadCfg, boot: Boot{Events: stepOnly(1), TimedOut: true, Duration: 60 * time.Second},
			verdict: Hang, reason: "VM timed out after 1m0s during step 2",
		},
		{
			name: "silent after first step", config: unloadCfg, boot: Boot{Events: stepOnly(1)},
			verdict: Error, reason: "guest stopped reporting during step 2",
		},
		{
			name: "console unreadable", config: unloadCfg, boot: Boot{Events: events, ConsoleErr: errors.New("input/output error")},
			verdict: Error, reason: "console log unreadable (input/output error)",
		},
		{
			// Every step reported, then nothing: results may be lost.
			name: "every step but no end", config: unloadCfg, boot: Boot{Events: stepOnly(2)},
			verdict: Error, reason: "guest stopped reporting after its last step",
		},
		{
			name: "corrupt event stream", config: unloadCfg,
			boot:    Boot{Events: events, Err: fmt.Errorf("%w: a line that is not an event", protocol.ErrCorrupt)},
			verdict: Error, reason: "corrupt event channel: a line that is not an event: nothing this VM reported can be trusted",
		},
		{
			// The console's panic stands; the stream's state is noted.
			name: "corrupt event stream, then a panic", config: unloadCfg,
			boot: Boot{Events: stepOnly(1), Console: []byte("[    1.5] Kernel panic - not syncing: Fatal exception\n"),
				Err: fmt.Errorf("%w: a line that is not an event", protocol.ErrCorrupt)},
			verdict: Crash, reason: "(and corrupt event channel",
		},
		{
			name: "truncated event stream", config: unloadCfg,
			boot:    Boot{Events: events, Err: fmt.Errorf("%w: the last event is cut short", protocol.ErrTruncated)},
			verdict: Error, reason: "a result may be lost",
		},
		{
			// u-root's init exits after the agent: the panic says the agent died.
			name: "agent died", config: unloadCfg,
			boot:    Boot{Events: events[:2], Console: []byte("[    1.400000] modmatrix: hello step 0\n[    1.500000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000\n")},
			verdict: Crash, reason: "step 1 (load hello, " + filepath.Join(helloDir, "scenario.yaml") + ":5): the agent died",
		},
		{
			name: "no events", config: unloadCfg, boot: Boot{},
			failed: true, verdict: Error, reason: "boot produced no scenario events",
		},
		{
			name: "agent failure", config: unloadCfg,
			boot:   Boot{Events: []protocol.Event{{Kind: protocol.EventAgentFailure, Error: "open /modmatrix/plan.json: no such file"}}},
			failed: true, verdict: Error, reason: "agent failed: open /modmatrix/plan.json",
		},
		{
			name: "hang before agent", config: unloadCfg, boot: Boot{TimedOut: true, Duration: 60 * time.Second},
			failed: true, verdict: Hang, reason: "VM timed out",
		},
		{
			name: "panic before agent", config: unloadCfg, boot: Boot{Console: []byte("[    0.5] Kernel panic - not syncing: VFS: Unable to mount root fs\n")},
			failed: true, verdict: Crash, reason: "boot produced no scenario events",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := JudgeBoot(tc.boot, []*Expected{Resolve(hello, kconfig.Lookup(tc.config.Value, "6.12.117", nil))})
			got := out.Failed
			if tc.failed {
				require.NotNil(t, got)
				assert.Empty(t, out.Scenarios)
			} else {
				require.Nil(t, got)
				require.Len(t, out.Scenarios, 1)
				got = &out.Scenarios[0]
			}
			assert.Equal(t, tc.verdict, got.Verdict, got.Reason)
			assert.Contains(t, got.Reason, tc.reason)
		})
	}
}

// A guest that goes silent in a loop is judged as one that goes silent in
// a plain step: a VM timeout is a HANG, a stall after an oops or a panic a
// CRASH, silence alone an ERROR, each naming the last iteration reported.
func TestJudgeBootUnfinishedLoop(t *testing.T) {
	hello := loadScenario(t, helloDir)
	unloadCfg := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}
	lookup := kconfig.Lookup(unloadCfg.Value, "6.12.117", nil)
	rep, why := hello.Repeated(50, lookup)
	require.Empty(t, why)
	iteration := func(k int) protocol.Event {
		ok := protocol.StepResult{TaintBefore: 4096, TaintAfter: 4096}
		return protocol.Event{Kind: protocol.EventIteration, Scenario: "hello", Iteration: &protocol.Iteration{Index: k, Steps: []protocol.StepResult{ok, ok}}}
	}
	events := []protocol.Event{{Kind: protocol.EventBoot}, {Kind: protocol.EventStepStart, Scenario: "hello"}, iteration(1), iteration(2)}
	for _, tc := range []struct {
		name    string
		boot    Boot
		verdict Verdict
		reason  string
	}{
		{name: "VM timeout", boot: Boot{Events: events, TimedOut: true, Duration: time.Minute}, verdict: Hang, reason: "VM timed out after 1m0s during step 1 (repeat 50× [load hello, unload hello], "},
		{name: "stall after an oops", boot: Boot{Events: events, Stalled: true}, verdict: Crash, reason: "kernel oops during step 1"},
		{name: "panic", boot: Boot{Events: events, Console: []byte("[    1.5] Kernel panic - not syncing: Fatal exception\n")}, verdict: Crash, reason: "kernel panic during step 1"},
		{name: "silence", boot: Boot{Events: events}, verdict: Error, reason: "guest stopped reporting during step 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := JudgeBoot(tc.boot, []*Expected{Resolve(rep, lookup)})
			require.Len(t, out.Scenarios, 1)
			got := out.Scenarios[0]
			assert.Equal(t, tc.verdict, got.Verdict, got.Reason)
			assert.Contains(t, got.Reason, tc.reason)
			assert.Contains(t, got.Reason, "(the guest stopped reporting after iteration 2)")
		})
	}
}

func TestConsoleMarkers(t *testing.T) {
	console := []byte("[    1.000000] modmatrix: hello step 0\n" +
		"[    1.100000] hi module being loaded.\n" +
		"[    1.200000] modmatrix: hello step 1\n" +
		"[    1.300000] BUG: kernel NULL pointer dereference, address: 0000000000000000\n")
	ms := consoleMarkers(console)
	require.Len(t, ms, 2)
	assert.Nil(t, ms.before(0), "before the first marker: boot")
	assert.Equal(t, marker{line: 0, scenario: "hello", step: 0}, *ms.before(1))
	assert.Equal(t, marker{line: 2, scenario: "hello", step: 1}, *ms.before(3))

	hello := loadScenario(t, helloDir)
	reports := stepReports(Resolve(hello, unloadOn), &scenarioEvents{started: true}, parseConsole(console), nil)
	require.Len(t, reports[1], 1, "the oops printed after step 1's marker belongs to step 1")
	assert.Equal(t, "NULL_DEREF", reports[1][0].Kind)
	assert.Empty(t, reports[0])
}

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
		assert.False(t, steps[1].Died, "hung or died is for the boot's account to tell")
		assert.Equal(t, "the guest stopped reporting after iteration 2", steps[1].Error)
		assert.Len(t, steps[1].Iterations, 2)
		assert.Equal(t, uint64(4096), steps[1].TaintBefore)
	})
}

func TestClassifyIterations(t *testing.T) {
	its := []protocol.Iteration{
		*iterationEvent(1).Iteration,
		*iterationEvent(2, "WARNING: CPU: 0 PID: 57 at /src/stress_hello.c:12 hi+0x10/0x20 [stress_hello]").Iteration,
	}
	reps := classifyIterations(its)
	require.Len(t, reps, 1)
	assert.Equal(t, "WARNING", reps[0].Kind)
	assert.Equal(t, 2, reps[0].Iteration)
	assert.Equal(t, 0, reps[0].InnerStep)
}
