package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestHelloOnEveryCell builds the four default cells of 6.12, boots each
// with the hello module and checks what each kernel did, step by step.
func TestHelloOnEveryCell(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 80*time.Minute)
	out := t.TempDir()
	m, err := matrix.New(ctx,
		matrix.WithRepo(repoRoot(t)),
		matrix.WithCache(cacheDir()),
		matrix.WithOut(out),
		matrix.WithKernels("6.12"),
		matrix.WithCells("modules-off", "unload-off", "unload", "force-unload"),
		matrix.WithScenarios("hello"),
	)
	require.NoError(t, err)
	res, err := m.Run(ctx)
	require.NoError(t, err)

	loaded := `^hello \d+ 0 - Live 0x[0-9a-f]+ \(O\)$`
	tests := []struct {
		cell                   string
		loadErrno, unloadErrno string
		procModules            string // regexp of the line after load; "" = absent
		loadKmsg, unloadKmsg   bool
		taintAfterLoad         uint64
		procModulesAfterUnload bool
	}{
		{cell: "modules-off", loadErrno: "ENOSYS", unloadErrno: "ENOSYS"},
		{cell: "unload-off", procModules: `^hello \d+ - - Live 0x[0-9a-f]+ \(O\)$`, unloadErrno: "ENOSYS",
			loadKmsg: true, taintAfterLoad: 4096, procModulesAfterUnload: true},
		{cell: "unload", procModules: loaded, loadKmsg: true, unloadKmsg: true, taintAfterLoad: 4096},
		{cell: "force-unload", procModules: loaded, loadKmsg: true, unloadKmsg: true, taintAfterLoad: 4096},
	}
	for _, tc := range tests {
		t.Run(tc.cell, func(t *testing.T) {
			r := find(t, res, "hello", tc.cell)
			assert.Equal(t, verdict.Pass, r.Verdict, r.Reason)
			require.Len(t, r.Steps, 2)
			load, unload := r.Steps[0], r.Steps[1]

			assert.Equal(t, "load", load.Action)
			assert.Equal(t, tc.loadErrno, load.Errno)
			assert.Equal(t, tc.taintAfterLoad, load.TaintAfter)
			if tc.procModules == "" {
				assert.Empty(t, load.ProcModules)
			} else {
				assert.Regexp(t, tc.procModules, load.ProcModules)
			}
			assert.Equal(t, tc.loadKmsg, contains(load.Kmsg, "hi module being loaded."), "load kmsg: %q", load.Kmsg)

			assert.Equal(t, "unload", unload.Action)
			assert.Equal(t, tc.unloadErrno, unload.Errno)
			assert.Equal(t, tc.unloadKmsg, contains(unload.Kmsg, "hi module being unloaded."), "unload kmsg: %q", unload.Kmsg)
			assert.Equal(t, tc.procModulesAfterUnload, unload.ProcModules != "", "after unload: %q", unload.ProcModules)
		})
	}
	requireRestoredScenarios(t, res)

	written, err := report.Read(out)
	require.NoError(t, err)
	assert.Len(t, written.Results, 4)
	junitXML, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(string(junitXML), "<testcase "), "one testcase per scenario × cell")
	requireJUnitSchema(t, filepath.Join(out, "junit.xml"))
}

// TestWrongExpectationFails runs the CLI with hello's ENOSYS expectations
// changed to EBUSY: the run must exit 1, fail exactly the cells where ENOSYS
// applies (modules-off, unload-off), and name the step, the expected and the
// observed value.
func TestWrongExpectationFails(t *testing.T) {
	requireTools(t)
	modules := helloCopy(t, func(scenarioYAML string) string {
		return strings.ReplaceAll(scenarioYAML, "errno: ENOSYS", "errno: EBUSY")
	})
	out := t.TempDir()
	cmd := exec.Command(modmatrixBin(t), "run", "--modules", modules, "--cache", cacheDir(), "--out", out,
		"--cells", "modules-off,unload-off,unload,force-unload")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "run should fail: %v\n%s\n%s", err, stdout.String(), stderr.String())
	assert.Equal(t, 1, exit.ExitCode(), stderr.String())
	assert.Regexp(t, `hello 6\.12\.\d+ unload-off: FAIL step 2 \(unload hello, \S+scenario.yaml:\d+\): errno: expected EBUSY, observed ENOSYS`, stdout.String())

	res, err := report.Read(out)
	require.NoError(t, err)
	for _, r := range res.Results {
		want := verdict.Pass
		if r.Cell == "modules-off" || r.Cell == "unload-off" {
			want = verdict.Fail
		}
		assert.Equal(t, want, r.Verdict, "%s: %s", r.Cell, r.Reason)
	}
}

// TestBrokenScenarioRejectedBeforeBuild: a scenario file with an unknown key
// and a bad predicate stops the run with file:line before any kernel is
// configured or built (the cache stays empty).
func TestBrokenScenarioRejectedBeforeBuild(t *testing.T) {
	requireTools(t)
	modules := helloCopy(t, func(scenarioYAML string) string {
		s := strings.Replace(scenarioYAML, "when: MODULES\n", "when: MODULES &&\n", 1)
		return strings.Replace(s, "  - unload: hello\n", "  - unload: hello\n    expct: []\n", 1)
	})
	cache := t.TempDir()
	cmd := exec.Command(modmatrixBin(t), "run", "--modules", modules, "--cache", cache, "--out", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Less(t, time.Since(start), time.Minute)
	assert.Regexp(t, `hello/scenario.yaml:\d+: .*predicate`, stderr.String())
	assert.Regexp(t, `hello/scenario.yaml:\d+: unknown key "expct"`, stderr.String())
	entries, _ := os.ReadDir(filepath.Join(cache, "kernels"))
	assert.Empty(t, entries, "nothing may be built for a broken scenario")
}

// TestInterruptLeavesNoQEMU sends SIGINT or SIGTERM while a scenario's VM,
// restored from the cell's snapshot, runs: the run exits 130, no QEMU
// process it started survives, and results.json is readable.
func TestInterruptLeavesNoQEMU(t *testing.T) {
	requireTools(t)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			modules := helloCopy(t, func(scenarioYAML string) string {
				// A long pause keeps the VM up long enough to interrupt it
				// (on the host's clock: under icount it would take no time).
				return strings.Replace(scenarioYAML, "steps:\n", "steps:\n  - pause: 20s\n", 1)
			})
			out := t.TempDir()
			cmd := exec.Command(modmatrixBin(t), "run", "--modules", modules, "--cache", cacheDir(),
				"--out", out, "--cells", "unload", "--no-icount")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			qemuPIDs := waitForQEMU(t, cmd, &stderr, 1)
			qemuPIDs = append(qemuPIDs, childQEMU(cmd.Process.Pid, "-kernel")...)
			require.NoError(t, cmd.Process.Signal(sig))
			err := cmd.Wait()
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "%v: %s", err, stderr.String())
			assert.Equal(t, 130, exit.ExitCode(), stderr.String())
			for _, pid := range qemuPIDs {
				_, err := os.Stat(filepath.Join("/proc", pid))
				assert.True(t, os.IsNotExist(err), "qemu %s outlived the run", pid)
			}
			res, err := report.Read(out)
			require.NoError(t, err)
			assert.True(t, res.Interrupted)
			for _, r := range res.Results {
				assert.NotEqual(t, verdict.Pass, r.Verdict)
			}
		})
	}
}

// TestQEMUKilledFromOutside kills one cell's QEMU: that cell is ERROR, the
// other cell still passes, and the run exits 1.
func TestQEMUKilledFromOutside(t *testing.T) {
	requireTools(t)
	modules := helloCopy(t, func(scenarioYAML string) string {
		return strings.Replace(scenarioYAML, "steps:\n", "steps:\n  - pause: 8s\n", 1)
	})
	out := t.TempDir()
	cmd := exec.Command(modmatrixBin(t), "run", "--modules", modules, "--cache", cacheDir(),
		"--out", out, "--cells", "unload,force-unload", "-j", "2", "--no-icount")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	pids := waitForQEMU(t, cmd, &stderr, 2)
	pid, err := strconv.Atoi(pids[0])
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v: %s", err, stderr.String())
	assert.Equal(t, 1, exit.ExitCode(), stderr.String())

	res, err := report.Read(out)
	require.NoError(t, err)
	verdicts := map[verdict.Verdict]int{}
	for _, r := range res.Results {
		verdicts[r.Verdict]++
		if r.Verdict == verdict.Error {
			assert.Contains(t, r.Reason, "signal: killed", "the reason says QEMU was killed")
		}
	}
	assert.Equal(t, map[verdict.Verdict]int{verdict.Error: 1, verdict.Pass: 1}, verdicts)
}

// waitForQEMU waits until the run has n QEMU processes restoring a
// scenario (not making a snapshot) and returns their PIDs.
func waitForQEMU(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, n int) []string {
	t.Helper()
	var pids []string
	require.Eventually(t, func() bool {
		pids = childQEMU(cmd.Process.Pid, "-incoming")
		return len(pids) >= n
	}, 20*time.Minute, 100*time.Millisecond, "no QEMU started: %s", stderr)
	time.Sleep(2 * time.Second)
	return pids
}

func find(t *testing.T, res *report.Results, scenario, cell string) report.ScenarioResult {
	t.Helper()
	for _, r := range res.Results {
		if r.Scenario == scenario && r.Cell == cell {
			return r
		}
	}
	t.Fatalf("no result for %s on %s", scenario, cell)
	return report.ScenarioResult{}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// helloCopy is a modules folder holding only a copy of hello, its scenario
// file rewritten by edit.
func helloCopy(t *testing.T, edit func(string) string) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "modules", "hello")
	dir := t.TempDir()
	hello := filepath.Join(dir, "hello")
	require.NoError(t, os.MkdirAll(hello, 0o755))
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		if e.Name() == "scenario.yaml" {
			b = []byte(edit(string(b)))
		}
		require.NoError(t, os.WriteFile(filepath.Join(hello, e.Name()), b, 0o644))
	}
	return dir
}

// childQEMU lists the PIDs of qemu processes descended from pid whose
// command line has arg.
func childQEMU(pid int, arg string) []string {
	out, err := exec.Command("pgrep", "-f", "qemu-system-x86_64.* "+arg).Output()
	if err != nil {
		return nil
	}
	var pids []string
	for _, p := range strings.Fields(string(out)) {
		if descends(p, pid) {
			pids = append(pids, p)
		}
	}
	return pids
}

func descends(p string, ancestor int) bool {
	for i := 0; i < 10 && p != "" && p != "0" && p != "1"; i++ {
		b, err := os.ReadFile(filepath.Join("/proc", p, "stat"))
		if err != nil {
			return false
		}
		// pid (comm) state ppid ...
		s := string(b)
		fields := strings.Fields(s[strings.LastIndex(s, ")")+1:])
		if len(fields) < 2 {
			return false
		}
		p = fields[1]
		if p == strconv.Itoa(ancestor) {
			return true
		}
	}
	return false
}
