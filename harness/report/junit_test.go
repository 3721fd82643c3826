package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/internal/junitschema"
)

// everyVerdict has one scenario result of each verdict on two cells.
func everyVerdict() *Results {
	r := &Results{
		SchemaVersion: SchemaVersion,
		Cells: []Cell{
			{Kernel: "6.12.117", Cell: "unload", Boots: 2},
			{Kernel: "6.12.117", Cell: "modules-off", Boots: 1},
		},
	}
	for i, v := range []verdict.Verdict{verdict.Pass, verdict.Fail, verdict.Error, verdict.Crash, verdict.Hang, verdict.Skip} {
		for _, cell := range []string{"unload", "modules-off"} {
			r.Results = append(r.Results, ScenarioResult{
				Kernel: "6.12.117", Cell: cell, Scenario: string(rune('a'+i)) + "-scenario",
				Verdict: v, Reason: "why <it> & \"how\"\nsecond line", DurationMS: 1234,
				Steps: []StepRecord{{Action: "load", Module: "m", Errno: "EIO", Kmsg: []string{"m: init \x1b failed"},
					Mismatches: []verdict.Mismatch{{What: "errno", Expected: "ok", Observed: "EIO"}}}},
			})
		}
	}
	return r
}

func TestJUnitShape(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, everyVerdict().WriteJUnit(dir))
	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	require.Len(t, doc.Suites, 2, "one testsuite per kernel × cell")
	for _, s := range doc.Suites {
		assert.Len(t, s.Cases, 6, "%s: one testcase per scenario", s.Name)
		assert.Equal(t, 6, s.Tests)
		assert.Equal(t, 1, s.Failures, "%s: FAIL is a failure", s.Name)
		assert.Equal(t, 3, s.Errors, "%s: ERROR, CRASH and HANG are errors", s.Name)
		assert.Equal(t, 1, s.Skipped)
	}
}

// TestJUnitValidatesAgainstJenkinsSchema checks the file with xmllint
// against the schema Jenkins' JUnit plugin uses. The schema comes from npm
// (see package junitschema); without npm or xmllint the test skips, except
// under CI=true.
func TestJUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, everyVerdict().WriteJUnit(dir))
	junitschema.Check(t, kbuild.DefaultCacheDir(), filepath.Join(dir, "junit.xml"))

	// An empty run (every cell failed to build, say) is still a valid file.
	empty := &Results{SchemaVersion: SchemaVersion, Cells: []Cell{{Kernel: "6.12.117", Cell: "unload", Error: "build failed"}}}
	require.NoError(t, empty.WriteJUnit(dir))
	junitschema.Check(t, kbuild.DefaultCacheDir(), filepath.Join(dir, "junit.xml"))
}
