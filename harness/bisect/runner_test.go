package bisect

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

func TestJudge(t *testing.T) {
	result := func(v verdict.Verdict, reason, errno string) *record {
		return &record{Result: &report.ScenarioResult{Scenario: "noexit", Verdict: v, Reason: reason,
			Steps: []report.StepRecord{{Action: "unload", Module: "noexit", Errno: errno}}}}
	}
	for _, tt := range []struct {
		name    string
		observe []string
		probe   *record
		want    Outcome
		why     string
	}{
		{"same verdict", nil, result(verdict.Pass, "", "EBUSY"), Good, "noexit: PASS"},
		{"verdict flipped", nil, result(verdict.Fail, "step 2: errno: got ok, want EBUSY", "ok"), Bad, "PASS → FAIL step 2: errno: got ok, want EBUSY"},
		{"an observation, by verdict", nil, result(verdict.Pass, "", "ENOSYS"), Good, "noexit: PASS"},
		{"an observation, by observation", report.Observations, result(verdict.Pass, "", "ENOSYS"), Bad, `step 1 (unload noexit) errno: "EBUSY" → "ENOSYS"`},
		{"kernel did not build", nil, &record{Cell: report.Cell{Error: "kernel 6.12.118, cell probe-3: build: make: exit 2\nmore"}}, Skip, "kernel 6.12.118, cell probe-3: build: make: exit 2"},
		{"scenario not judged", nil, result(verdict.Error, "no boot", "ok"), Skip, "noexit: ERROR no boot"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &Runner{Observe: tt.observe}
			o, why := r.judge("good", result(verdict.Skip, "requires: MODULE_UNLOAD", "ok"))
			assert.Equal(t, Skip, o, "a good that skips is nothing to compare with: %s", why)
			o, why = r.judge("good", result(verdict.Pass, "", "EBUSY"))
			require.Equal(t, Good, o, why)
			o, why = r.judge("probe 1", tt.probe)
			assert.Equal(t, tt.want, o)
			assert.Equal(t, tt.why, why)
		})
	}
}
