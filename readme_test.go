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

// TestFaultTableNamesRealTests: every test the README's fault table names
// exists, and (subtests aside) each row names one, so the table cannot
// promise what nothing checks.
func TestFaultTableNamesRealTests(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "### Faults, and what modmatrix does with them")
	require.True(t, ok, "README has the fault table")
	table, _, _ = strings.Cut(table, "\n## ")

	defined := map[string]bool{}
	funcRE := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	require.NoError(t, filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := os.ReadFile(p)
		for _, m := range funcRE.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return err
	}))

	rows := 0
	testRE := regexp.MustCompile(`\bTest[A-Z]\w*`)
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
	}
	assert.Greater(t, rows, 20)
}
