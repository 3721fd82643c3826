package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// observed picks what a test asserts of one step.
type observed struct {
	errno      string
	taintAfter uint64
}

// stepOf finds the n-th (0-based) step of a scenario result with action and
// flags, so the assertions survive reordering elsewhere in the file.
func stepOf(t *testing.T, r report.ScenarioResult, action string, force bool, n int) report.StepRecord {
	t.Helper()
	for _, s := range r.Steps {
		isForce := len(s.Flags) > 0 && s.Flags[0] == "O_TRUNC"
		if s.Action == action && isForce == force {
			if n == 0 {
				return s
			}
			n--
		}
	}
	t.Fatalf("%s %s: no %s step (force=%v)", r.Scenario, r.Cell, action, force)
	return report.StepRecord{}
}

// notOnLaterKernels is the one default cell the end-to-end tests run on
// 6.12 only: without MODULES there is no module syscall, on any version
// (every load and unload is ENOSYS, no /proc/modules), and its full
// kernel build costs a cold CI run some 6 minutes. `modmatrix run
// --kernels 6.1` still runs it.
const notOnLaterKernels = "modules-off"

// laterCells are the names of cells run on the kernels after 6.12.
func laterCells(cells []kconfig.Cell) []string {
	var names []string
	for _, c := range cells {
		if c.Name != notOnLaterKernels {
			names = append(names, c.Name)
		}
	}
	return names
}

// onDebugKernel tells the cells that boot kconfigs/debug.config's kernel
// (KUnit, signatures, symbol versions): debug itself and those that add
// only a command line to it.
func onDebugKernel(cell string) bool {
	switch cell {
	case "debug", "kunit", "sig-enforce", "lockdown":
		return true
	}
	return false
}

// TestSeedScenarios runs every scenario under modules/ on every cell of
// kconfigs/ for 6.12 and 6.1 (but notOnLaterKernels): all must pass, and a few observations that define
// the cells are asserted directly.
func TestSeedScenarios(t *testing.T) {
	requireTools(t)
	kernels := testedKernels(t)
	ctx := testContext(t, 80*time.Minute)
	newMatrix := func(kernels []string, opts ...matrix.Option) *matrix.Matrix {
		m, err := matrix.New(ctx, append([]matrix.Option{
			matrix.WithRepo(repoRoot(t)),
			matrix.WithCache(cacheDir()),
			matrix.WithOut(t.TempDir()),
			matrix.WithKernels(kernels...),
		}, opts...)...)
		require.NoError(t, err)
		return m
	}
	// 6.12's default matrix is the run the package shares (defaultMatrix,
	// which TestRepeatedRunsAgree repeats); the others run here.
	m := newMatrix(kernels)
	res, err := report.Read(defaultMatrix(t))
	require.NoError(t, err)
	if len(kernels) > 1 {
		more, err := newMatrix(kernels[1:], matrix.WithCells(laterCells(m.Cells())...)).Run(ctx)
		require.NoError(t, err)
		res.Cells = append(res.Cells, more.Cells...)
		res.Results = append(res.Results, more.Results...)
	}

	// Every scenario × cell × kernel came back, once: a result that went
	// missing is no pass.
	var want, got []string
	for i, src := range m.Sources() {
		for _, c := range m.Cells() {
			if i > 0 && c.Name == notOnLaterKernels {
				continue
			}
			for _, sc := range m.Scenarios() {
				want = append(want, src.Version+" "+c.Name+" "+sc.Name)
			}
		}
	}
	for _, r := range res.Results {
		got = append(got, r.Kernel+" "+r.Cell+" "+r.Scenario)
	}
	require.ElementsMatch(t, want, got)
	require.Len(t, m.Cells(), 9, "the default cells")
	require.GreaterOrEqual(t, len(m.Scenarios()), 27, "every scenario under modules/")

	for _, r := range res.Results {
		want := verdict.Pass
		if (r.Scenario == "kunit-example" || r.Scenario == "signature") && !onDebugKernel(r.Cell) {
			want = verdict.Skip // requires KUNIT, MODULE_SIG_ALL: the debug kernel's
		}
		assert.Equal(t, want, r.Verdict, "%s on %s %s: %s", r.Scenario, r.Kernel, r.Cell, r.Reason)
	}

	const taintR, taintO = 1 << 3, 1 << 12
	noexit := map[string]struct{ unload, force observed }{
		"modules-off":   {observed{errno: "ENOSYS"}, observed{errno: "ENOSYS"}},
		"unload-off":    {observed{"ENOSYS", taintO}, observed{"ENOSYS", taintO}},
		"unload":        {observed{"EBUSY", taintO}, observed{"EBUSY", taintO}},
		"modprobe-path": {observed{"EBUSY", taintO}, observed{"EBUSY", taintO}},
		"force-unload":  {observed{"EBUSY", taintO}, observed{"", taintO | taintR}},
		"debug":         {observed{"EBUSY", taintO}, observed{"EBUSY", taintO}},
		// Signed by the kernel's own key: no E.
		"kunit":       {observed{"EBUSY", taintO}, observed{"EBUSY", taintO}},
		"sig-enforce": {observed{"EBUSY", taintO}, observed{"EBUSY", taintO}},
		"lockdown":    {observed{"EBUSY", taintO}, observed{"EBUSY", taintO}},
	}
	// What each cell's kernel answered to an unsigned module (unsigned),
	// one signed with a key it does not have (signature's fourth step),
	// xz data (compressed) and a missing namespace import (namespace).
	type moduleChecks struct{ unsigned, otherKey, xz, nsMissing string }
	const taintE = 1 << 13
	checks := map[string]moduleChecks{
		"modules-off":   {"ENOSYS", "", "ENOSYS", "ENOSYS"},
		"unload-off":    {"", "", "EOPNOTSUPP", "EINVAL"},
		"unload":        {"", "", "EOPNOTSUPP", "EINVAL"},
		"modprobe-path": {"", "", "EOPNOTSUPP", "EINVAL"},
		"force-unload":  {"", "", "EOPNOTSUPP", ""},
		"debug":         {"", "", "", "EINVAL"},
		"kunit":         {"", "", "", "EINVAL"},
		"sig-enforce":   {"EKEYREJECTED", "EKEYREJECTED", "", "EINVAL"},
		"lockdown":      {"EPERM", "EPERM", "", "EINVAL"},
	}
	for _, r := range res.Results {
		switch r.Scenario {
		case "noexit":
			want := noexit[r.Cell]
			unload, force := stepOf(t, r, "unload", false, 0), stepOf(t, r, "unload", true, 0)
			assert.Equal(t, want.unload, observed{unload.Errno, unload.TaintAfter}, "noexit unload on %s %s", r.Kernel, r.Cell)
			assert.Equal(t, want.force, observed{force.Errno, force.TaintAfter}, "noexit forced unload on %s %s", r.Kernel, r.Cell)
		case "init-eperm", "init-eio":
			want := map[string]string{"init-eperm": "EPERM", "init-eio": "EIO"}[r.Scenario]
			if r.Cell == "modules-off" {
				want = "ENOSYS"
			}
			assert.Equal(t, want, stepOf(t, r, "load", false, 0).Errno, "%s on %s %s", r.Scenario, r.Kernel, r.Cell)
		case "leaky":
			if r.Cell == "debug" {
				assertReport(t, stepOf(t, r, "unload", false, 0), "LEAK", "memory leak", "leaky")
				kmemleakWait(t, r, res)
			}
			if onDebugKernel(r.Cell) && r.Cell != "debug" {
				// The debug kernel booted with kmemleak=off: no scan, no wait.
				events, err := protocol.ReadEventLog(r.EventLog)
				require.NoError(t, err)
				for _, e := range events {
					assert.NotEqual(t, protocol.EventKmemleak, e.Kind, "a kmemleak scan on %s %s", r.Kernel, r.Cell)
				}
				assert.Empty(t, stepOf(t, r, "unload", false, 0).Reports, "leaky on %s %s", r.Kernel, r.Cell)
			}
		case "exit-oops":
			if r.Cell == "unload" || r.Cell == "force-unload" || r.Cell == "debug" {
				st := stepOf(t, r, "unload", false, 0)
				assert.True(t, st.Died, "exit-oops on %s %s: the unloading task dies", r.Kernel, r.Cell)
				assertReport(t, st, "NULL_DEREF", "BUG: kernel NULL pointer dereference in exit_oops_exit", "exit_oops")
			}
		case "warn-init":
			if r.Cell != "modules-off" {
				st := stepOf(t, r, "load", false, 0)
				assertReport(t, st, "WARNING", "WARNING in warn_init_init", "warn_init")
				assert.NotZero(t, st.TaintAfter&(1<<9), "taint W")
			}
		case "hang-init":
			if r.Cell != "modules-off" {
				assert.True(t, stepOf(t, r, "load", false, 0).Hung, "hang-init on %s %s", r.Kernel, r.Cell)
				assert.Less(t, r.DurationMS, int64(15000), "a hang costs its step timeout plus a few seconds")
			}
		case "oom-init":
			if r.Cell != "modules-off" {
				// The OOM killer's victim is the agent that loads it; the
				// allocation that hit it is usually the module's.
				st := stepOf(t, r, "load", false, 0)
				require.NotEmpty(t, st.Reports, "oom-init on %s %s", r.Kernel, r.Cell)
				assert.Equal(t, "OOM", st.Reports[0].Kind)
				assert.Regexp(t, `^out of memory in \S+, killed uinit$`, st.Reports[0].Title)
			}
		case "force-load":
			// The forced load (the scenario's second) taints F exactly where
			// MODULE_FORCE_LOAD is set and the signature, which a forced load
			// drops, is not required: force-unload, debug and kunit here.
			const taintF = 1 << 1
			if r.Cell != "modules-off" {
				forced := stepOf(t, r, "load", false, 1)
				assert.Equal(t, r.Cell == "force-unload" || r.Cell == "debug" || r.Cell == "kunit", forced.TaintAfter&taintF != 0, "force-load on %s %s: taint %d", r.Kernel, r.Cell, forced.TaintAfter)
			}
		case "unsigned":
			st := stepOf(t, r, "load", false, 0)
			assert.Equal(t, checks[r.Cell].unsigned, st.Errno, "unsigned on %s %s", r.Kernel, r.Cell)
			assert.Equal(t, r.Cell == "debug" || r.Cell == "kunit", st.TaintAfter&taintE != 0, "unsigned on %s %s: taint E only where MODULE_SIG is not enforced", r.Kernel, r.Cell)
		case "signature":
			if r.Verdict == verdict.Skip {
				continue // requires MODULE_SIG_ALL
			}
			assert.Equal(t, "EKEYREJECTED", stepOf(t, r, "load", false, 1).Errno, "damaged signature on %s %s", r.Kernel, r.Cell)
			assert.Equal(t, checks[r.Cell].otherKey, stepOf(t, r, "load", false, 2).Errno, "other key on %s %s", r.Kernel, r.Cell)
			assert.Zero(t, stepOf(t, r, "load", false, 0).TaintAfter&taintE, "signed with the kernel's key on %s %s: no E", r.Kernel, r.Cell)
		case "compressed":
			// ENOTSUP and EOPNOTSUPP are one number on Linux.
			assert.Equal(t, checks[r.Cell].xz, strings.Replace(stepOf(t, r, "load", false, 0).Errno, "ENOTSUP", "EOPNOTSUPP", 1), "xz on %s %s", r.Kernel, r.Cell)
		case "modversions":
			want := ""
			switch r.Cell {
			case "modules-off":
				want = "ENOSYS"
			case "debug", "kunit", "sig-enforce", "lockdown":
				want = "EINVAL" // MODVERSIONS: _printk's CRC disagrees
			}
			assert.Equal(t, want, stepOf(t, r, "load", false, 0).Errno, "modversions on %s %s", r.Kernel, r.Cell)
		case "namespace":
			assert.Equal(t, checks[r.Cell].nsMissing, stepOf(t, r, "load", false, 2).Errno, "missing namespace import on %s %s", r.Kernel, r.Cell)
		case "panic-init":
			if r.Cell != "modules-off" {
				assertReport(t, stepOf(t, r, "load", false, 0), "PANIC", "kernel panic: panic_init: giving up on purpose", "panic_init")
			}
		case "hang-exit":
			if r.Cell != "modules-off" && r.Cell != "unload-off" {
				assert.True(t, stepOf(t, r, "unload", false, 0).Hung, "hang-exit on %s %s", r.Kernel, r.Cell)
			}
		case "refheld":
			if r.Cell == "force-unload" {
				assertReport(t, stepOf(t, r, "close", false, 1), "OOPS", "BUG: unable to handle page fault in ", "refheld")
			}
		case "kunit-example":
			if onDebugKernel(r.Cell) {
				statuses := map[string]ktap.Status{}
				for _, c := range r.KUnit {
					statuses[c.ID()] = c.Status
				}
				assert.Equal(t, kunitExampleCases, statuses, "kunit-example's cases on %s %s", r.Kernel, r.Cell)
			}
		case "stress-hello":
			// 200 iterations on every cell; what each load finds depends
			// on the cell (the module stays where it cannot be unloaded).
			loop := stressOf(t, r).Loops[0]
			requireSaneTiming(t, loop, 200)
			want := map[string]string{"modules-off": "ENOSYS", "unload-off": "EEXIST"}[r.Cell]
			for _, it := range loop.Iterations {
				if it.Steps[0].Errno != want {
					t.Errorf("stress-hello on %s %s: iteration %d load: errno %q, want %q", r.Kernel, r.Cell, it.Index, it.Steps[0].Errno, want)
					break
				}
			}
		case "stress-concurrent":
			for _, l := range stressOf(t, r).Loops {
				requireSaneTiming(t, l, 50)
			}
		case "autoload":
			// kmod's modprobe in the guest, and request_module through it.
			probe, remove := stepOf(t, r, "modprobe", false, 0), stepOf(t, r, "modprobe", false, 1)
			request := stepOf(t, r, "load", false, 0)
			status := func(st report.StepRecord) int {
				require.NotNil(t, st.Status, "autoload %s on %s %s: no exit status", st.Module, r.Kernel, r.Cell)
				return *st.Status
			}
			answers := []string{`request_module("autoload_target") = 0`, `request_module("modmatrix-autoload-alias") = 0`, `request_module("modmatrix-no-such-module") = 256`}
			switch r.Cell {
			case "modules-off":
				assert.Equal(t, 1, status(probe))
				assert.Equal(t, "ENOSYS", request.Errno)
				continue
			case "modprobe-path":
				answers = []string{`request_module("autoload_target") = -2`, `request_module("modmatrix-autoload-alias") = -2`, `request_module("modmatrix-no-such-module") = -2`}
			}
			assert.Equal(t, 0, status(probe), "modprobe autoload_user on %s %s: %s", r.Kernel, r.Cell, probe.Output)
			assert.Equal(t, map[bool]int{true: 1, false: 0}[r.Cell == "unload-off"], status(remove), "modprobe -r on %s %s: %s", r.Kernel, r.Cell, remove.Output)
			for _, a := range answers {
				assert.True(t, contains(request.Kmsg, "autoload_request: "+a), "autoload on %s %s: %q", r.Kernel, r.Cell, request.Kmsg)
			}
			assert.Equal(t, r.Cell != "modprobe-path", contains(request.KmsgBackground, "autoload_target: loaded"),
				"autoload on %s %s: the module request_module loaded prints from the helper's thread: %q", r.Kernel, r.Cell, request.KmsgBackground)
			missing := stepOf(t, r, "load", false, 1)
			assert.True(t, contains(missing.Kmsg, `autoload_missing: request_module("autoload_target") = -2`), "autoload on %s %s: %q", r.Kernel, r.Cell, missing.Kmsg)
		case "double-load":
			if r.Cell != "modules-off" {
				assert.Equal(t, "EEXIST", stepOf(t, r, "load", false, 1).Errno, "second load on %s %s", r.Kernel, r.Cell)
			}
		}
	}

	// Every scenario ran in a VM of its own, restored from its cell's
	// snapshot, and found the kernel untouched by the others.
	requireRestoredScenarios(t, res)
}

// assertReport checks that a step caught a kernel report of kind whose
// title starts with title and that names module.
func assertReport(t *testing.T, st report.StepRecord, kind, title, module string) {
	t.Helper()
	for _, r := range st.Reports {
		if r.Kind == kind && strings.HasPrefix(r.Title, title) {
			assert.Contains(t, r.Modules, module, "%s", r.Title)
			return
		}
	}
	t.Errorf("no %s report titled %q on %s %s: %+v", kind, title, st.Action, st.Module, st.Reports)
}

// TestScenarioIsolation: a scenario finds the kernel as it would alone,
// whatever ran before it on the cell. On unload-off noexit's module can
// never go (nothing can be unloaded there) and its load taints the kernel
// O, yet hello, run after it, starts at taint 0 with no module loaded; on
// unload an oops at unload (exit-oops) leaves the cell's other scenarios
// PASS.
func TestScenarioIsolation(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 60*time.Minute)
	run := func(cell string, scenarios ...string) *report.Results {
		// One VM at a time: noexit has finished before hello starts.
		return runMatrix(t, ctx, matrix.WithCells(cell), matrix.WithScenarios(scenarios...), matrix.WithJobs(1))
	}
	after := run("unload-off", "noexit", "hello")
	requireRestoredScenarios(t, after)
	noexit := find(t, after, "noexit", "unload-off")
	require.Equal(t, verdict.Pass, noexit.Verdict, noexit.Reason)
	require.NotEmpty(t, noexit.Steps)
	assert.NotZero(t, noexit.Steps[0].TaintAfter&(1<<12), "noexit's load taints O")
	hello := find(t, after, "hello", "unload-off")
	assert.Equal(t, verdict.Pass, hello.Verdict, hello.Reason)
	require.NotNil(t, hello.Start)
	assert.Zero(t, hello.Start.Taint, "hello starts untainted")
	assert.NotContains(t, hello.Start.Modules, "noexit")
	require.NotEmpty(t, hello.Steps)
	assert.Zero(t, hello.Steps[0].TaintBefore, "hello's first step sees taint 0")

	oops := run("unload", "exit-oops", "hello", "noexit", "leaky")
	requireRestoredScenarios(t, oops)
	for _, r := range oops.Results {
		assert.Equal(t, verdict.Pass, r.Verdict, "%s: %s", r.Scenario, r.Reason)
	}
}
