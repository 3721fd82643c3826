package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/verdict"
)

func TestWriteGitHubAnnotations(t *testing.T) {
	r := ktapResults()
	for _, name := range []string{"hello", "hang-init", "panic-init"} {
		r.Scenarios = append(r.Scenarios, ScenarioInfo{Name: name, File: "/ws/modules/" + name + "/scenario.yaml"})
	}
	// hang-init's step 1 hung; panic-init's failed the check of the
	// expect block on line 9; kunit-example is built in, outside /ws.
	r.Scenarios = append(r.Scenarios, ScenarioInfo{Name: "kunit-example", File: "/usr/share/modmatrix/modules/kunit-example/scenario.yaml"})
	r.Results[3].Steps = []StepRecord{{Line: 4, Action: "load", Hung: true}}
	r.Results[4].Steps = []StepRecord{{Line: 3}, {Line: 7, Mismatches: []verdict.Mismatch{{What: "errno", Line: 9}}}}

	var b bytes.Buffer
	require.NoError(t, r.WriteGitHubAnnotations(&b, "/ws", 10))
	assert.Equal(t, strings.Join([]string{
		"::error title=6.1.158 debug could not run::kernel build: make exited 2%0Amore",
		"::error title=kunit-example on 6.12.117 kunit (FAIL) in kunit-example/scenario.yaml::step 1: kunit s.crashy: expected PASS, observed CRASH",
		"::error file=modules/hang-init/scenario.yaml,line=4,title=hang-init on 6.12.117 unload (HANG)::step 1: load did not return within 20s",
		"::error file=modules/panic-init/scenario.yaml,line=9,title=panic-init on 6.12.117 unload (CRASH)::step 1: Kernel panic - not syncing: VFS: Unable to mount root fs%0Asecond line",
		"",
	}, "\n"), b.String())

	b.Reset()
	require.NoError(t, r.WriteGitHubAnnotations(&b, "/ws", 2))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3, "as many as GitHub shows, then a notice")
	assert.Equal(t, "::notice title=modmatrix::2 more did not pass: the job summary (--summary-md) and results.json list them all", lines[2])
}
