package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

func TestBisectStatus(t *testing.T) {
	cell := []report.Cell{{Kernel: "6.12.118", Cell: "unload"}}
	results := func(vs ...verdict.Verdict) *report.Results {
		r := &report.Results{Cells: cell}
		for _, v := range vs {
			r.Results = append(r.Results, report.ScenarioResult{Scenario: "noexit", Verdict: v, Reason: "step 2: errno: expected EBUSY, observed ok\nmore"})
		}
		return r
	}
	for _, tc := range []struct {
		name string
		res  *report.Results
		code int
		why  string
	}{
		{"all passed", results(verdict.Pass, verdict.Skip), bisectGood, "every scenario passed"},
		{"a failure", results(verdict.Pass, verdict.Fail), bisectBad, "noexit: FAIL step 2: errno: expected EBUSY, observed ok"},
		{"a crash is bad", results(verdict.Crash), bisectBad, "noexit: CRASH"},
		{"a hang is bad", results(verdict.Hang), bisectBad, "noexit: HANG"},
		{"unjudged is skipped, even beside a failure", results(verdict.Fail, verdict.Error), bisectSkip, "noexit could not be judged"},
		{"nothing ran", results(), bisectSkip, "no scenario ran"},
		{"the kernel did not build", &report.Results{Cells: []report.Cell{{Kernel: "6.12.118", Cell: "unload", Error: "kernel 6.12.118, cell unload: make exited 2\n…"}}},
			bisectSkip, "6.12.118 unload could not run: kernel 6.12.118, cell unload: make exited 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, why := bisectStatus(tc.res)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, why, tc.why)
		})
	}
}
