package modmatrix_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultTableNamesRealTests: each row of the README's fault table names
// a test, and every test, subtest and seed scenario it names exists, so
// the table cannot promise what nothing checks.
func TestFaultTableNamesRealTests(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "### Faults, and what modmatrix does with them")
	require.True(t, ok, "README has the fault table")
	table, _, _ = strings.Cut(table, "\n## ")

	// A row names a test, optionally a subtest (TestX/name) or a seed
	// scenario it checks (TestSeedScenarios (oom-init)): each must exist.
	sources := ""
	require.NoError(t, filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			b, rerr := os.ReadFile(p)
			sources += string(b)
			return rerr
		}
		return err
	}))
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllStringSubmatch(sources, -1) {
		defined[m[1]] = true
	}
	rows := 0
	testRE := regexp.MustCompile(`\bTest[A-Z]\w*`)
	subRE := regexp.MustCompile(`\bTest[A-Z]\w*/(\w+)`)
	scenarioRE := regexp.MustCompile(`\bTest[A-Z]\w* \(([a-z0-9-]+)\)`)
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "fault" {
			continue
		}
		rows++
		names := testRE.FindAllString(cells[3], -1)
		assert.NotEmpty(t, names, "row %q names no test", strings.TrimSpace(cells[1]))
		for _, n := range names {
			assert.True(t, defined[n], "row %q names %s, which no _test.go defines", strings.TrimSpace(cells[1]), n)
		}
		for _, m := range subRE.FindAllStringSubmatch(cells[3], -1) {
			assert.Contains(t, sources, `"`+m[1]+`"`, "row %q names subtest %s, which no _test.go names", strings.TrimSpace(cells[1]), m[0])
		}
		for _, m := range scenarioRE.FindAllStringSubmatch(cells[3], -1) {
			assert.DirExists(t, filepath.Join("modules", m[1]), "row %q names scenario %s", strings.TrimSpace(cells[1]), m[1])
		}
	}
	assert.Greater(t, rows, 20)
}
