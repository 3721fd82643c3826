package verdict

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// The ledger's differences become LEFTOVER reports of the step where the
// module went away, once each; the scenario's leftovers: lists them by
// "KIND NAME", and any other is FAIL naming the step, kind and name.
func TestLeftovers(t *testing.T) {
	sc, err := scenario.Load("../../modules/leftovers")
	require.NoError(t, err)
	unload := func(sym string) string {
		return map[string]string{"MODULES": "y", "MODULE_UNLOAD": "y"}[sym]
	}
	failed := func(m string, added ...protocol.Resource) protocol.StepResult {
		return protocol.StepResult{Step: sc.Steps[0].Plan(), Errno: "ENODEV", ProcModulesExists: true,
			Ledger: &protocol.Ledger{Module: m, Baseline: true, Compared: true, Added: added}}
	}
	load := func(m string) protocol.StepResult {
		return protocol.StepResult{Step: protocol.Step{Action: "load", Module: m}, ProcModules: m + " 16384 0 - Live 0xffffffffc0000000 (O)", ProcModulesExists: true,
			Ledger: &protocol.Ledger{Module: m, Baseline: true, Since: -1}}
	}
	gone := func(m string, since int, added ...protocol.Resource) protocol.StepResult {
		return protocol.StepResult{Step: protocol.Step{Action: "unload", Module: m}, ProcModulesExists: true,
			Ledger: &protocol.Ledger{Module: m, Compared: true, Since: since, Added: added}}
	}
	kobject := protocol.Resource{Kind: "kobject", Name: "/sys/kernel/leftover_kobject"}
	proc := protocol.Resource{Kind: "proc", Name: "/proc/leftover_proc"}
	chrdev := protocol.Resource{Kind: "chrdev", Name: "250 leftover_chrdev"}
	kthread := protocol.Resource{Kind: "kthread", Name: "leftover_kthread"}
	expected := func() []protocol.StepResult {
		tidy := failed("tidy_kobject")
		tidy.Step = sc.Steps[1].Plan()
		return []protocol.StepResult{
			failed("leftover_kobject", kobject), tidy,
			load("leftover_proc"), gone("leftover_proc", 2, proc), load("tidy_proc"), gone("tidy_proc", 4),
			load("leftover_chrdev"), gone("leftover_chrdev", 6, chrdev), load("tidy_chrdev"), gone("tidy_chrdev", 8),
			load("leftover_kthread"), gone("leftover_kthread", 10, kthread), load("tidy_kthread"), gone("tidy_kthread", 12),
		}
	}
	judge := func(results []protocol.StepResult) Result {
		ev := &scenarioEvents{started: true, steps: results}
		exp := Resolve(sc, unload)
		reports := stepReports(exp, ev, parseConsole(nil), nil)
		return Judge(exp, results, func(i int) []Report { return reports[i] })
	}

	res := judge(expected())
	assert.Equal(t, Pass, res.Verdict, res.Reason)

	// The twin leaves something too.
	results := expected()
	results[5].Ledger.Added = []protocol.Resource{{Kind: "proc", Name: "/proc/tidy_proc"}}
	res = judge(results)
	assert.Equal(t, Fail, res.Verdict)
	assert.Equal(t, "step 6 (unload tidy_proc, ../../modules/leftovers/scenario.yaml:50): leftover proc /proc/tidy_proc: "+
		"still there after tidy_proc was gone, and not before its load", res.Reason)

	// A later step's mismatch (what the leftover then broke) does not
	// hide it: the earliest step's problem is the reason.
	results[6].Errno = "EBUSY"
	res = judge(results)
	assert.Equal(t, Fail, res.Verdict)
	assert.Contains(t, res.Reason, "step 6 (unload tidy_proc")

	// An expected leftover that is not there.
	results = expected()
	results[3].Ledger.Added = nil
	res = judge(results)
	assert.Equal(t, Fail, res.Verdict)
	assert.Contains(t, res.Reason, "step 4 (unload leftover_proc")
	assert.Contains(t, res.Reason, "expected leftover \"proc /proc/leftover_proc\", observed no report")

}

// load lib; load user; unload user; unload lib: what user left is still
// there when lib goes (lib's baseline predates user), and is user's alone.
func TestLeftoverReportedOnce(t *testing.T) {
	x := protocol.Resource{Kind: "proc", Name: "/proc/user_entry"}
	steps := []protocol.StepResult{
		{Step: protocol.Step{Action: "load", Module: "lib"}},
		{Step: protocol.Step{Action: "load", Module: "user"}},
		{Step: protocol.Step{Action: "unload", Module: "user"}, Ledger: &protocol.Ledger{Module: "user", Compared: true, Since: 1, Added: []protocol.Resource{x}}},
		{Step: protocol.Step{Action: "unload", Module: "lib"}, Ledger: &protocol.Ledger{Module: "lib", Compared: true, Since: 0, Added: []protocol.Resource{x}}},
	}
	got := leftoverReports(steps)
	assert.Equal(t, map[int][]Report{2: {{Kind: "LEFTOVER", Title: "leftover proc /proc/user_entry", Modules: []string{"user"}}}}, got)
}

// Recorded: the leftovers scenario's restore on 6.12's unload cell. Every
// bug's leftover is where the scenario expects it, the twins' steps have
// none, and the verdict is PASS.
func TestLeftoversRecorded(t *testing.T) {
	sc := loadScenario(t, "../../modules/leftovers")
	events := readEvents(t, "testdata/boot/leftovers.events.jsonl")
	cfg := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}
	out := JudgeBoot(Boot{Events: events}, []*Expected{Resolve(sc, kconfig.Lookup(cfg.Value, "6.12.117", nil))})
	require.Len(t, out.Scenarios, 1)
	so := out.Scenarios[0]
	assert.Equal(t, Pass, so.Verdict, so.Reason)
	got := map[int][]string{}
	for i, reps := range so.Reports {
		for _, r := range reps {
			got[i] = append(got[i], r.Title)
		}
	}
	assert.Equal(t, map[int][]string{
		0:  {"leftover kobject /sys/kernel/leftover_kobject"},
		3:  {"leftover proc /proc/leftover_proc"},
		7:  {"leftover chrdev 252 leftover_chrdev"},
		11: {"leftover kthread leftover_kthread"},
	}, got)
}

// Recorded: a timer the module left armed fires into its freed data from
// the timer softirq, 1 s after the unload, and the kernel panics. The
// oops's frames name only the kernel (run_timer_softirq); the faulting
// address lies in the module's recorded range, so the module is blamed,
// and the console's step markers put the oops in the unload step.
func TestTimerAfterUnloadRecorded(t *testing.T) {
	sc := loadScenario(t, "../../modules/timer-after-unload")
	events := readEvents(t, "testdata/boot/timer-after-unload.events.jsonl")
	console, err := os.ReadFile("testdata/boot/timer-after-unload.console.log")
	require.NoError(t, err)
	cfg := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}
	out := JudgeBoot(Boot{Events: events, Console: console}, []*Expected{Resolve(sc, kconfig.Lookup(cfg.Value, "6.12.117", nil))})
	require.Len(t, out.Scenarios, 1)
	so := out.Scenarios[0]
	assert.Equal(t, Pass, so.Verdict, so.Reason)
	require.NotEmpty(t, so.Reports[1])
	oops := so.Reports[1][0]
	assert.Equal(t, "OOPS", oops.Kind)
	assert.Equal(t, "timer_after_unload", oops.Modules[0])

	// Without the expectation, the same boot is CRASH at the unload.
	sc.Steps[1].Expect = nil
	out = JudgeBoot(Boot{Events: events, Console: console}, []*Expected{Resolve(sc, kconfig.Lookup(cfg.Value, "6.12.117", nil))})
	assert.Equal(t, Crash, out.Scenarios[0].Verdict)
	assert.Contains(t, out.Scenarios[0].Reason, "step 2 (unload timer_after_unload")
}
