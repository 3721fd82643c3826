package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/ktap"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/internal/kunitparser"
)

// TestOtherForms reads the default matrix's --ktap with the kernel's own
// parser (tools/testing/kunit/kunit_parser.py from the 6.12 source) and
// its --summary-md: both say what results.json says, leaf for leaf.
func TestOtherForms(t *testing.T) {
	requireTools(t)
	out := defaultMatrix(t)
	res, err := report.Read(out)
	require.NoError(t, err)

	// The leaves: each scenario, or each KUnit case of a scenario that
	// reported some; ok is PASS or SKIP for a scenario, PASS or SKIP for a
	// case (the status the kernel printed, whatever the scenario expects).
	var want kunitparser.Result
	count := func(ok, skip bool) {
		switch {
		case skip:
			want.Skipped++
		case ok:
			want.Passed++
		default:
			want.Failed++
		}
	}
	kunitCases := 0
	for _, s := range res.Results {
		if len(s.KUnit) == 0 {
			count(s.Verdict == verdict.Pass, s.Verdict == verdict.Skip)
			continue
		}
		for _, c := range s.KUnit {
			kunitCases++
			count(c.Status == ktap.Pass, c.Status == ktap.Skip)
		}
	}
	require.NotZero(t, kunitCases, "the default matrix runs a KUnit module, whose cases nest in the KTAP")

	file := filepath.Join(out, "matrix.ktap")
	got := kunitparser.Check(t, cacheDir(), file)
	assert.Empty(t, got.Errors, "kunit_parser reads the whole matrix without errors")
	got.Errors = nil
	want.Status = "SUCCESS"
	if want.Failed > 0 {
		// kunit-example's cases fail on purpose: the kernel said not ok.
		want.Status = "FAILURE"
	}
	assert.Equal(t, want, got)

	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	root, found := ktap.Parse(ktap.Lines(strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")...))
	require.True(t, found)
	require.Len(t, root.Subtests, len(res.Cells), "a suite per kernel × cell")
	for i, c := range res.Cells {
		cell := root.Subtests[i]
		assert.Equal(t, c.Kernel+"/"+c.Cell, cell.Name)
		assert.Equal(t, ktap.Pass, cell.Status, "%s passed: its suite is ok", cell.Name)
	}

	md, err := os.ReadFile(filepath.Join(out, "summary.md"))
	require.NoError(t, err)
	for _, s := range res.Results {
		assert.Contains(t, string(md), "| "+strings.ReplaceAll(s.Scenario, "_", `\_`)+" |")
	}
	assert.Contains(t, string(md), fmt.Sprintf(" on %d cell(s)\n", len(res.Cells)))
}
