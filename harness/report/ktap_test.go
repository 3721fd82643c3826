package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/internal/kunitparser"
)

// ktapResults are kunitResults (made up) with the verdicts a matrix can
// hold besides: a cell that never ran, a skip, a hang and a crash whose
// reason carries a line kunit_parser would take for the end of the log.
func ktapResults() *Results {
	r := kunitResults()
	r.MatrixID = "3d6951143c702f45"
	r.Cells = append(r.Cells, Cell{Kernel: "6.12.117", Cell: "unload"}, Cell{Kernel: "6.1.158", Cell: "debug", Error: "kernel build: make exited 2\nmore"})
	add := func(name string, v verdict.Verdict, reason string) {
		r.Results = append(r.Results, ScenarioResult{Kernel: "6.12.117", Cell: "unload", Scenario: name, Verdict: v, Reason: reason})
	}
	add("hello", verdict.Pass, "")
	add("kunit-example", verdict.Skip, "the cell lacks KUNIT")
	add("hang-init", verdict.Hang, "step 1: load did not return within 20s")
	add("panic-init", verdict.Crash, "step 1: Kernel panic - not syncing: VFS: Unable to mount root fs\nsecond line")
	return r
}

func TestWriteKTAP(t *testing.T) {
	r := ktapResults()
	// A reason that reads as a directive must not turn the HANG into a skip.
	r.Results[3].Reason += " # SKIP"
	// A parameter's name is free text: it does not nest at its dots.
	r.Results[0].KUnit[0].Name = "192.168.0.1"
	var b bytes.Buffer
	require.NoError(t, r.WriteKTAP(&b))
	out := b.String()
	for _, want := range []string{
		"KTAP version 1\n# modmatrix matrix 3d6951143c702f45\n1..3\n",
		"    KTAP version 1\n    # Subtest: 6.12.117/kunit\n    1..1\n",
		"        KTAP version 1\n        # Subtest: kunit-example\n        1..1\n",
		"            KTAP version 1\n            # Subtest: s\n            1..5\n            ok 1 192.168.0.1\n",
		"            # bad: EXPECTATION FAILED at x.c:3\n            # Expected 1 == 2\n            # modmatrix: FAIL, as the scenario expects\n            not ok 2 bad\n",
		"            ok 3 later # SKIP no <device>\n",
		"            # modmatrix: CRASH, the scenario expects PASS\n            not ok 4 no.4 # ERROR crashed: no result line\n",
		"            not ok 5 gone # ERROR not in the step's KTAP\n        not ok 1 s\n",
		"    # FAIL: step 1: kunit s.crashy: expected PASS, observed CRASH\n    not ok 1 kunit-example\nnot ok 1 6.12.117/kunit\n",
		"    ok 1 hello\n    ok 2 kunit-example # SKIP the cell lacks KUNIT\n",
		"    not ok 3 hang-init # TIMEOUT step 1: load did not return within 20s no. SKIP\n",
		"    # CRASH: step 1: Kernel panic - not syncing (VFS) Unable to mount root fs\n    # CRASH: second line\n    not ok 4 panic-init # ERROR CRASH\nnot ok 2 6.12.117/unload\n",
		"# cell error: kernel build: make exited 2\nnot ok 3 6.1.158/debug # ERROR kernel build: make exited 2\n",
	} {
		assert.Contains(t, out, want)
	}

	// modmatrix's own parser (kunit_parser's rules) reads it back with
	// the leaves the results hold: non-KUnit scenarios and KUnit cases.
	root, found := ktap.Parse(ktap.Lines(strings.Split(strings.TrimSuffix(out, "\n"), "\n")...))
	require.True(t, found)
	assert.Equal(t, ktap.Counts{Passed: 2, Failed: 6, Skipped: 2}, root.Counts, "errors: %v", root.Errors)
	assert.Equal(t, []string{"6.12.117/kunit", "6.12.117/unload", "6.1.158/debug"}, names(root.Subtests))

	// So does the kernel's own.
	file := filepath.Join(t.TempDir(), "matrix.ktap")
	require.NoError(t, os.WriteFile(file, b.Bytes(), 0o644))
	got := kunitparser.Check(t, kbuild.DefaultCacheDir(), file)
	assert.Empty(t, got.Errors)
	got.Errors = nil
	assert.Equal(t, kunitparser.Result{Status: "FAILURE", Passed: 2, Failed: 6, Skipped: 2}, got)
}

func names(tests []*ktap.Test) []string {
	var out []string
	for _, t := range tests {
		out = append(out, t.Name)
	}
	return out
}
