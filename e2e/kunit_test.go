package e2e

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// kunitExampleCases is what modules/kunit-example reports, case by case.
var kunitExampleCases = map[string]ktap.Status{
	"modmatrix_example.example_pass":                ktap.Pass,
	"modmatrix_example.example_fail":                ktap.Fail,
	"modmatrix_example.example_skip":                ktap.Skip,
	"modmatrix_example_params.example_square.two":   ktap.Pass,
	"modmatrix_example_params.example_square.three": ktap.Pass,
	"modmatrix_example_params.example_square.four":  ktap.Fail,
}

// TestKUnitModule loads the KUnit example module on the kunit cell (KUnit
// built in) of 6.12 and 6.1: each of its cases must show up on its own with
// the status the module printed, in results.json, junit.xml and
// index.html. On the unload cell (no KUnit) the scenario is SKIP and its
// module is not built.
func TestKUnitModule(t *testing.T) {
	requireTools(t)
	kernels := testedKernels(t)
	ctx := testContext(t, 60*time.Minute)
	out := t.TempDir()
	m, err := matrix.New(ctx,
		matrix.WithRepo(repoRoot(t)),
		matrix.WithCache(cacheDir()),
		matrix.WithOut(out),
		matrix.WithKernels(kernels...),
		matrix.WithCells("kunit", "unload"),
		matrix.WithScenarios("kunit-example"),
	)
	require.NoError(t, err)
	res, err := m.Run(ctx)
	require.NoError(t, err)
	require.Len(t, res.Results, 2*len(kernels))

	for _, r := range res.Results {
		t.Run(r.Kernel+"/"+r.Cell, func(t *testing.T) {
			if r.Cell == "unload" {
				assert.Equal(t, verdict.Skip, r.Verdict)
				assert.Regexp(t, `^the kernel does not meet requires KUNIT \(\S+/modules/kunit-example/scenario.yaml:\d+\)$`, r.Reason)
				assert.Empty(t, r.Steps, "nothing ran")
				assert.Empty(t, r.KUnit)
				return
			}
			assert.Equal(t, verdict.Pass, r.Verdict, r.Reason)
			got := map[string]ktap.Status{}
			for _, c := range r.KUnit {
				got[c.ID()] = c.Status
				assert.Equal(t, 0, c.Step, "%s: the load step's kmsg carries the KTAP", c.ID())
				assert.Equal(t, c.Status, c.Expected, "%s: as the scenario expects", c.ID())
				switch c.Status {
				case ktap.Fail:
					require.NotEmpty(t, c.Log, c.ID())
					assert.Regexp(t, `EXPECTATION FAILED at \S*kunit_example\.c:\d+`, c.Log[0])
				case ktap.Skip:
					assert.Equal(t, "needs hardware this guest does not have", c.Reason)
				}
			}
			assert.Equal(t, kunitExampleCases, got)
			assert.Len(t, r.KUnit, len(kunitExampleCases), "each case once")
			// Running KUnit tests taints the kernel N (TAINT_TEST, bit 18).
			assert.NotZero(t, r.Steps[0].TaintAfter&(1<<18), "taint N after the load")
		})
	}
	requireRestoredScenarios(t, res)
	for _, c := range res.Cells {
		if c.Cell == "unload" {
			// The only scenario is skipped: no snapshot, no VM at all.
			assert.Zero(t, c.Boots+c.Restores, "%s %s", c.Kernel, c.Cell)
		}
	}

	// junit.xml: per kunit cell, the scenario's testcase and one per case.
	b, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	require.NoError(t, err)
	requireJUnitSchema(t, filepath.Join(out, "junit.xml"))
	var doc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string    `xml:"name,attr"`
				Classname string    `xml:"classname,attr"`
				Status    string    `xml:"status,attr"`
				Failure   *struct{} `xml:"failure"`
				Skipped   *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	require.Len(t, doc.Suites, 2*len(kernels))
	for _, s := range doc.Suites {
		if !strings.HasSuffix(s.Name, "/kunit") {
			require.Len(t, s.Cases, 1, "%s: only the skipped scenario", s.Name)
			assert.NotNil(t, s.Cases[0].Skipped, s.Name)
			continue
		}
		require.Len(t, s.Cases, 1+len(kunitExampleCases), "%s: the scenario, then one testcase per KUnit case", s.Name)
		assert.Equal(t, "kunit-example", s.Cases[0].Name)
		for _, c := range s.Cases[1:] {
			want, ok := kunitExampleCases[c.Name]
			require.True(t, ok, "%s: unexpected testcase %s", s.Name, c.Name)
			assert.Equal(t, s.Name+"/kunit-example", c.Classname)
			assert.Equal(t, string(want), c.Status, "%s %s: the status the module reported", s.Name, c.Name)
			assert.Nil(t, c.Failure, "%s %s: every case reported what the scenario expects", s.Name, c.Name)
			assert.Equal(t, want == ktap.Skip, c.Skipped != nil, "%s %s: skipped element", s.Name, c.Name)
		}
	}

	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	require.NoError(t, err)
	for id := range kunitExampleCases {
		assert.Contains(t, string(page), "<td>"+id+"</td>", "index.html lists %s", id)
	}

	written, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, written.Results, len(res.Results))
	for i := range res.Results {
		assert.Equal(t, res.Results[i].KUnit, written.Results[i].KUnit, "results.json holds the KUnit cases")
	}
}
