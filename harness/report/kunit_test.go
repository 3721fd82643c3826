package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/internal/junitschema"
)

func kunitResults() *Results {
	kc := func(suite, name string, st, want ktap.Status, reason string, log ...string) verdict.KUnitCase {
		return verdict.KUnitCase{Case: ktap.Case{Suite: suite, Name: name, Status: st, Reason: reason, Log: log, DurationUS: 4000}, Expected: want}
	}
	return &Results{
		SchemaVersion: SchemaVersion,
		Cells:         []Cell{{Kernel: "6.12.117", Cell: "kunit", Boots: 1}},
		Results: []ScenarioResult{{
			Kernel: "6.12.117", Cell: "kunit", Scenario: "kunit-example", Verdict: verdict.Fail,
			Reason: "step 1: kunit s.crashy: expected PASS, observed CRASH",
			KUnit: []verdict.KUnitCase{
				kc("s", "good", ktap.Pass, ktap.Pass, ""),
				kc("s", "bad", ktap.Fail, ktap.Fail, "", "# bad: EXPECTATION FAILED at x.c:3", "Expected 1 == 2"),
				kc("s", "later", ktap.Skip, "", "no <device>"),
				kc("s", "#4", ktap.Crash, ktap.Pass, ""),
				kc("", "s.gone", verdict.Missing, ktap.Pass, ""),
			},
		}},
	}
}

// Each KUnit case is a testcase of its own, classname KERNEL/CELL/SCENARIO,
// with the status the module reported.
func TestJUnitKUnitCases(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, kunitResults().WriteJUnit(dir))
	b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	type result struct {
		Message string `xml:"message,attr"`
		Data    string `xml:",chardata"`
	}
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
			Skipped  int `xml:"skipped,attr"`
			Cases    []struct {
				Name      string  `xml:"name,attr"`
				Classname string  `xml:"classname,attr"`
				Time      string  `xml:"time,attr"`
				Failure   *result `xml:"failure"`
				Error     *result `xml:"error"`
				Skipped   *result `xml:"skipped"`
				Status    string  `xml:"status,attr"`
				SystemOut *result `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	assert.Equal(t, 6, s.Tests)
	assert.Equal(t, 1, s.Failures, "the scenario's FAIL; s.bad fails as expected")
	assert.Equal(t, 2, s.Errors, "the crashed case and the missing one")
	assert.Equal(t, 1, s.Skipped)
	cases := s.Cases
	require.Len(t, cases, 6, "the scenario, then one testcase per KUnit case")
	assert.Equal(t, "kunit-example", cases[0].Name)
	var names []string
	for _, c := range cases[1:] {
		names = append(names, c.Name)
		assert.Equal(t, "6.12.117/kunit/kunit-example", c.Classname)
	}
	assert.Equal(t, []string{"s.good", "s.bad", "s.later", "s.#4", "s.gone"}, names)
	assert.Equal(t, "0.004", cases[1].Time)
	assert.Nil(t, cases[1].Failure)
	assert.Nil(t, cases[2].Failure, "an expected FAIL passes: the dashboard stays green")
	assert.Equal(t, "FAIL", cases[2].Status, "the module's own status stays on the testcase")
	require.NotNil(t, cases[2].SystemOut)
	assert.Contains(t, cases[2].SystemOut.Data, "not ok: # bad: EXPECTATION FAILED at x.c:3 (as the scenario expects)")
	assert.Contains(t, cases[2].SystemOut.Data, "Expected 1 == 2")
	require.NotNil(t, cases[3].Skipped)
	assert.Equal(t, "no <device>", cases[3].Skipped.Data, "the reason is the text (Jenkins allows no message on <skipped>)")
	require.NotNil(t, cases[4].Error)
	assert.Equal(t, "crashed: no result line (the scenario expects PASS)", cases[4].Error.Message)
	require.NotNil(t, cases[5].Error)
	assert.True(t, strings.HasPrefix(cases[5].Error.Message, "not in the step's KTAP"))
}

func TestHTMLKUnitTable(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, kunitResults().WriteHTML(dir))
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	page := string(b)
	assert.Contains(t, page, `<table class="steps kunit">`)
	assert.Contains(t, page, `<tr class="k-FAIL"><td>0</td><td>s.bad</td><td>FAIL</td><td>FAIL</td><td><pre># bad: EXPECTATION FAILED at x.c:3`+"\n"+`Expected 1 == 2</pre></td></tr>`)
	assert.Contains(t, page, `<tr class="k-SKIP"><td>0</td><td>s.later</td><td>SKIP</td><td></td><td><pre>no &lt;device&gt;`)
	assert.Contains(t, page, `<tr class="k-CRASH"><td>0</td><td>s.#4</td><td>CRASH</td><td class="mismatch">PASS</td>`)
}

// The KUnit testcases keep junit.xml valid for Jenkins' schema.
func TestJUnitKUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, kunitResults().WriteJUnit(dir))
	junitschema.Check(t, kbuild.DefaultCacheDir(), filepath.Join(dir, "junit.xml"))
}

// A case whose status changed is a detail of the scenario's change (and
// a regression when the scenario passed both times).
func TestDiffKUnitCases(t *testing.T) {
	base := kunitResults()
	base.Results[0].Verdict = verdict.Pass
	cand := kunitResults()
	cand.Results[0].Verdict = verdict.Pass
	cand.Results[0].KUnit[0].Status = ktap.Fail
	cand.Results[0].KUnit = append(cand.Results[0].KUnit[:2], cand.Results[0].KUnit[3:]...) // s.later gone
	changes := Diff(base, cand, true)
	require.Len(t, changes, 1)
	assert.Equal(t, []string{"kunit s.good: PASS → FAIL", "kunit s.later: SKIP → -"}, changes[0].Details)
	assert.True(t, changes[0].Regression)
	assert.Empty(t, Diff(base, kunitResults(), true)[0].Details)
}
