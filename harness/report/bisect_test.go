package report

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/verdict"
)

func TestBisect(t *testing.T) {
	cell := []Cell{{Kernel: "6.12.118", Cell: "unload"}}
	results := func(vs ...verdict.Verdict) *Results {
		r := &Results{Cells: cell}
		for _, v := range vs {
			r.Results = append(r.Results, ScenarioResult{Scenario: "noexit", Verdict: v, Reason: "step 2: errno: expected EBUSY, observed ok\nmore"})
		}
		return r
	}
	for _, tc := range []struct {
		name string
		res  *Results
		code BisectAnswer
		why  string
	}{
		{"all passed", results(verdict.Pass, verdict.Skip), BisectGood, "every scenario passed"},
		{"a failure", results(verdict.Pass, verdict.Fail), BisectBad, "noexit: FAIL step 2: errno: expected EBUSY, observed ok"},
		{"a crash is bad", results(verdict.Crash), BisectBad, "noexit: CRASH"},
		{"a hang is bad", results(verdict.Hang), BisectBad, "noexit: HANG"},
		{"unjudged is skipped, even beside a failure", results(verdict.Fail, verdict.Error), BisectSkip, "noexit could not be judged"},
		{"nothing ran", results(), BisectSkip, "no scenario ran"},
		{"the kernel did not build", &Results{Cells: []Cell{{Kernel: "6.12.118", Cell: "unload", Error: "kernel 6.12.118, cell unload: make exited 2\n…"}}},
			BisectSkip, "6.12.118 unload could not run: kernel 6.12.118, cell unload: make exited 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, why := tc.res.Bisect()
			assert.Equal(t, tc.code, code)
			assert.Contains(t, why, tc.why)
		})
	}
}

func TestFlipped(t *testing.T) {
	good := ScenarioResult{Scenario: "noexit", Verdict: verdict.Pass, Steps: []StepRecord{{Action: "unload", Module: "noexit", Errno: "EBUSY"}}}
	same := good
	same.Cell = "probe-3"
	assert.Empty(t, Flipped(good, same, Observations))

	failed := good
	failed.Verdict, failed.Reason = verdict.Fail, "step 2: errno: got ok, want EBUSY\nmore"
	assert.Equal(t, []string{"PASS → FAIL step 2: errno: got ok, want EBUSY"}, Flipped(good, failed, nil))

	observed := good
	observed.Steps = []StepRecord{{Action: "unload", Module: "noexit", Errno: "ENOSYS"}}
	assert.Empty(t, Flipped(good, observed, nil), "by verdict, an observation alone is no flip")
	assert.Empty(t, Flipped(good, observed, []string{"kmsg"}), "by kmsg, an errno is no flip")
	assert.Equal(t, []string{`step 1 (unload noexit) errno: "EBUSY" → "ENOSYS"`}, Flipped(good, observed, []string{"errno"}))
}
