package bisect

import (
	"context"
	"os"
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
			o, why := r.judge("good", result(verdict.Pass, "", "EBUSY"))
			require.Equal(t, Good, o, why)
			o, why = r.judge("probe 1", tt.probe)
			assert.Equal(t, tt.want, o)
			assert.Equal(t, tt.why, why)
		})
	}
}

// A stored result is whole or absent: a damaged one is not taken.
func TestStore(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	_, ok := s.Get("k")
	assert.False(t, ok)
	require.NoError(t, s.Put(context.Background(), "k", []byte(`{"x":1}`)))
	data, ok := s.Get("k")
	assert.True(t, ok)
	assert.Equal(t, `{"x":1}`, string(data))
	require.NoError(t, writeFile(s.path("k")+"/"+resultFile, `{"x":2}`))
	_, ok = s.Get("k")
	assert.False(t, ok, "a result that is not what its sums say is not taken")
	assert.Error(t, CheckEntry(s.path("k")))
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
