package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/internal/junitschema"
)

// stressResults has one 200-iteration repeat step that failed at 37, and
// one scenario --repeat left as it was.
func stressResults() *Results {
	return &Results{
		SchemaVersion: SchemaVersion,
		Cells:         []Cell{{Kernel: "6.12.117", Cell: "unload", Boots: 1}},
		Results: []ScenarioResult{{
			Kernel: "6.12.117", Cell: "unload", Scenario: "stress-hello", Verdict: verdict.Fail,
			Reason: "step 1 (repeat 200× [load hello, unload hello], s.yaml:3): iteration 37/200: unload hello: errno: expected \"\" (success), observed EBUSY",
			Steps: []StepRecord{{Action: "repeat", Stress: &verdict.StressSummary{
				Loops: []verdict.LoopSummary{{Planned: 200, Ran: 200, Timing: []verdict.Timing{
					{Step: "load hello", Count: 200, MedianUS: 1798, MaxUS: 9331},
					{Step: "unload hello", Count: 200, MedianUS: 824, MaxUS: 4635},
				}}},
				FailedIterations: 1,
				FirstFailure:     "iteration 37/200: unload hello: errno: observed EBUSY, expected \"\" (success)",
			}}},
		}, {
			Kernel: "6.12.117", Cell: "unload", Scenario: "noexit", Verdict: verdict.Pass,
			Note: "--repeat 200 not applied, ran once: noexit/scenario.yaml:9: it leaves module noexit loaded",
		}},
	}
}

func TestStressInTable(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, stressResults().WriteTable(&b))
	assert.Contains(t, b.String(), "\nstress:\n"+
		"  stress-hello 6.12.117 unload: step 1 repeat: 200/200 iterations; load hello ×200 median 1.8ms max 9.3ms; unload hello ×200 median 824µs max 4.6ms; taint drift none; 1 failed, first: iteration 37/200: unload hello: errno: observed EBUSY, expected \"\" (success)\n"+
		"  noexit 6.12.117 unload: note: --repeat 200 not applied, ran once: noexit/scenario.yaml:9: it leaves module noexit loaded\n")
}

func TestStressInJUnitAndHTML(t *testing.T) {
	dir := t.TempDir()
	res := stressResults()
	require.NoError(t, res.WriteJUnit(dir))
	require.NoError(t, res.WriteHTML(dir))
	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	assert.Contains(t, string(junit), "<system-out>step 1 repeat: 200/200 iterations; load hello ×200 median 1.8ms")
	assert.Contains(t, string(junit), "note: --repeat 200 not applied")
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), `<tr><td>1</td><td>200/200</td><td>unload hello</td><td>200</td><td>824</td><td>4635</td></tr>`)
	assert.Contains(t, string(page), `<p class="note">--repeat 200 not applied`)

	// system-out in a testcase is what Jenkins' schema allows.
	junitschema.Check(t, kbuild.DefaultCacheDir(), filepath.Join(dir, "junit.xml"))
}
