package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// stressOf is the summary of the first repeat or concurrent step of r.
func stressOf(t *testing.T, r report.ScenarioResult) *verdict.StressSummary {
	t.Helper()
	for _, st := range r.Steps {
		if st.Stress != nil {
			return st.Stress
		}
	}
	t.Fatalf("%s on %s: no stress step", r.Scenario, r.Cell)
	return nil
}

// requireSaneTiming: every inner step ran count times, with a median no
// larger than the maximum.
func requireSaneTiming(t *testing.T, l verdict.LoopSummary, count int) {
	t.Helper()
	assert.Equal(t, count, l.Planned)
	assert.Equal(t, count, l.Ran)
	assert.Len(t, l.Iterations, count)
	require.NotEmpty(t, l.Timing)
	for _, tm := range l.Timing {
		assert.Equal(t, count, tm.Count, tm.Step)
		assert.GreaterOrEqual(t, tm.MedianUS, int64(0), tm.Step)
		assert.LessOrEqual(t, tm.MedianUS, tm.MaxUS, tm.Step)
	}
}

// TestStressHello loads and unloads hello 200 times in one boot of the
// 6.12 unload cell, and two independent modules 50 times each from two
// loops at once: both pass, report per-step timing, and the whole run
// (kernel cached) finishes within its deadline.
func TestStressHello(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 20*time.Minute)
	out := t.TempDir()
	start := time.Now()
	m, err := matrix.New(ctx,
		matrix.WithRepo(repoRoot(t)),
		matrix.WithCache(cacheDir()),
		matrix.WithOut(out),
		matrix.WithKernels("6.12"),
		matrix.WithCells("unload"),
		matrix.WithScenarios("stress-hello", "stress-concurrent"),
	)
	require.NoError(t, err)
	res, err := m.Run(ctx)
	require.NoError(t, err, "the run must end before its deadline")
	t.Logf("run took %s", time.Since(start).Round(time.Millisecond))

	hello := find(t, res, "stress-hello", "unload")
	require.Equal(t, verdict.Pass, hello.Verdict, hello.Reason)
	s := stressOf(t, hello)
	require.Len(t, s.Loops, 1)
	requireSaneTiming(t, s.Loops[0], 200)
	assert.Equal(t, "load stress_hello", s.Loops[0].Timing[0].Step)
	assert.Equal(t, "unload stress_hello", s.Loops[0].Timing[1].Step)
	for _, tm := range s.Loops[0].Timing {
		// Even timed in jiffies (4 ms), 200 real loads and unloads of
		// a millisecond or more each cross a tick.
		assert.Positive(t, tm.MaxUS, tm.Step)
	}
	assert.Zero(t, s.FailedIterations)
	assert.Empty(t, s.TaintGained, "no taint drift: O came with the first load, before the loop")
	for _, it := range s.Loops[0].Iterations {
		assert.Equal(t, "0", it.Steps[0].Refcnt, "refcnt after load, iteration %d", it.Index)
		assert.Empty(t, it.Steps[1].Refcnt, "no refcnt once unloaded, iteration %d", it.Index)
	}
	// 200 loads and unloads take seconds even under TCG, not minutes.
	assert.Less(t, hello.DurationMS, int64(60_000))

	conc := find(t, res, "stress-concurrent", "unload")
	require.Equal(t, verdict.Pass, conc.Verdict, conc.Reason)
	cs := stressOf(t, conc)
	require.Len(t, cs.Loops, 2)
	requireSaneTiming(t, cs.Loops[0], 50)
	requireSaneTiming(t, cs.Loops[1], 50)

	// The figures reach every output.
	var table bytes.Buffer
	require.NoError(t, res.WriteTable(&table))
	// Without --repeat the terminal only says where the figures are.
	assert.Contains(t, table.String(), "stress: 2 passing loop step(s); their timings are in results.json and index.html")
	written, err := report.Read(out)
	require.NoError(t, err)
	assert.Equal(t, 200, stressOf(t, find(t, written, "stress-hello", "unload")).Loops[0].Timing[0].Count)
	junitXML, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	require.NoError(t, err)
	assert.Contains(t, string(junitXML), "<system-out>")
	assert.Contains(t, string(junitXML), "load stress_hello ×200 median")
	requireJUnitSchema(t, filepath.Join(out, "junit.xml"))
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), `<table class="steps stress">`)
}

// TestStressFailureNamesIteration repeats a load without its unload: the
// first iteration loads, the second finds the module there (EEXIST), and
// the verdict names iteration 2.
func TestStressFailureNamesIteration(t *testing.T) {
	requireTools(t)
	modules := helloCopy(t, func(string) string {
		return "steps:\n  - repeat: 5\n    steps:\n      - load: hello\n        expect: [{errno: ok}]\n"
	})
	ctx := testContext(t, 20*time.Minute)
	m, err := matrix.New(ctx,
		matrix.WithRepo(repoRoot(t)),
		matrix.WithModulesDir(modules),
		matrix.WithCache(cacheDir()),
		matrix.WithOut(t.TempDir()),
		matrix.WithKernels("6.12"),
		matrix.WithCells("unload"),
	)
	require.NoError(t, err)
	res, err := m.Run(ctx)
	require.NoError(t, err)
	r := find(t, res, "hello", "unload")
	assert.Equal(t, verdict.Fail, r.Verdict)
	assert.Regexp(t, `^step 1 \(repeat 5× \[load hello\], \S+scenario.yaml:2\): iteration 2/5: load hello: errno: expected "" \(success\), observed EEXIST`, r.Reason)
	s := stressOf(t, r)
	assert.Equal(t, 4, s.FailedIterations, "iterations 2 to 5")
	assert.Equal(t, 5, s.Loops[0].Ran)
}

// TestRepeatFlag runs hello through the CLI with --repeat 20: on the unload
// cell its two steps run 20 times in one boot; on unload-off, where hello's
// module stays loaded, it runs once with a note saying why.
func TestRepeatFlag(t *testing.T) {
	requireTools(t)
	out := t.TempDir()
	cmd := exec.Command(modmatrixBin(t), "run", "--repo", repoRoot(t), "--cache", cacheDir(), "--out", out,
		"--scenarios", "hello", "--cells", "unload,unload-off", "--repeat", "20", "-q")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("run failed: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		require.NoError(t, err)
	case <-time.After(20 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("modmatrix run --repeat 20 did not finish in 20 minutes")
	}
	assert.Regexp(t, `hello 6\.12\.\d+ unload: step 1 repeat: 20/20 iterations; load hello ×20 median \S+ max \S+; unload hello ×20`, stdout.String())
	assert.Regexp(t, `hello 6\.12\.\d+ unload-off: note: --repeat 20 not applied, ran once: \S+scenario.yaml:\d+: it leaves module hello loaded`, stdout.String())

	res, err := report.Read(out)
	require.NoError(t, err)
	on := find(t, res, "hello", "unload")
	assert.Equal(t, verdict.Pass, on.Verdict, on.Reason)
	require.Len(t, on.Steps, 1)
	requireSaneTiming(t, stressOf(t, on).Loops[0], 20)
	assert.True(t, strings.HasPrefix(on.Note, "--repeat 20: "), on.Note)
	off := find(t, res, "hello", "unload-off")
	assert.Equal(t, verdict.Pass, off.Verdict, off.Reason)
	assert.Len(t, off.Steps, 2, "run once, as written")
}

// TestStressOopsEndsLoop repeats exit-oops's load and unload: the first
// unload oopses in its thread, which ends the loop there; the verdict is
// CRASH and names iteration 1, not a later one.
func TestStressOopsEndsLoop(t *testing.T) {
	requireTools(t)
	modules := t.TempDir()
	dir := filepath.Join(modules, "exit-oops")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, f := range []string{"Kbuild", "exit_oops.c"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "modules", "exit-oops", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "scenario.yaml"), []byte(
		"steps:\n  - repeat: 5\n    steps:\n      - load: exit_oops\n      - unload: exit_oops\n        timeout: 20s\n"), 0o644))
	ctx := testContext(t, 20*time.Minute)
	m, err := matrix.New(ctx,
		matrix.WithRepo(repoRoot(t)),
		matrix.WithModulesDir(modules),
		matrix.WithCache(cacheDir()),
		matrix.WithOut(t.TempDir()),
		matrix.WithKernels("6.12"),
		matrix.WithCells("unload"),
	)
	require.NoError(t, err)
	res, err := m.Run(ctx)
	require.NoError(t, err)
	r := find(t, res, "exit-oops", "unload")
	t.Logf("reason: %s", firstLineOf(r.Reason))
	assert.Equal(t, verdict.Crash, r.Verdict, r.Reason)
	assert.Contains(t, r.Reason, "iteration 1/5: unload exit_oops: unexpected kernel report: BUG: kernel NULL pointer dereference in exit_oops_exit")
	s := stressOf(t, r)
	assert.Equal(t, 1, s.Loops[0].Ran, "the loop stops at the oops")
	assert.Contains(t, s.FirstFailure, "iteration 1/5: unload exit_oops")
	var titles []string
	for _, st := range r.Steps {
		for _, rep := range st.Reports {
			titles = append(titles, fmt.Sprintf("%d:%s", rep.Iteration, rep.Title))
		}
	}
	assert.Contains(t, titles, "1:BUG: kernel NULL pointer dereference in exit_oops_exit")
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
