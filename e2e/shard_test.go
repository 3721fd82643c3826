package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestShardsMerge runs hello as shards 1/3, 2/3 and 3/3 (the third from
// GitLab's environment variables), checks they cover every cell once, and
// that merging them gives the verdicts of one unsharded run.
func TestShardsMerge(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	run := func(out string, env []string, args ...string) {
		cmd := exec.Command(bin, append([]string{"run", "--cache", cacheDir(), "--scenarios", "hello", "--out", out}, args...)...)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(cmd.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Run(), stderr.String())
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	run(whole, nil)
	var shards []string
	for i, env := range [][]string{nil, nil, {"CI_NODE_INDEX=3", "CI_NODE_TOTAL=3"}} {
		out := filepath.Join(dir, "shard", string(rune('1'+i)))
		var args []string
		if env == nil {
			args = []string{"--shard", string(rune('1'+i)) + "/3"}
		}
		run(out, env, args...)
		shards = append(shards, out)
	}

	seen := map[string]int{}
	for _, s := range shards {
		r, err := report.Read(s)
		require.NoError(t, err)
		for _, c := range r.Cells {
			seen[c.Kernel+" "+c.Cell]++
		}
	}
	want, err := report.Read(whole)
	require.NoError(t, err)
	require.Len(t, seen, len(want.Cells))
	for cell, n := range seen {
		assert.Equal(t, 1, n, cell)
	}

	merged := filepath.Join(dir, "merged")
	cmd := exec.Command(bin, append([]string{"merge", "--out", merged}, shards...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	got, err := report.Read(merged)
	require.NoError(t, err)
	verdicts := func(r *report.Results) map[string]verdict.Verdict {
		m := map[string]verdict.Verdict{}
		for _, s := range r.Results {
			m[s.Kernel+" "+s.Cell+" "+s.Scenario] = s.Verdict
		}
		return m
	}
	assert.Equal(t, verdicts(want), verdicts(got))

	// The GitHub matrix names every shard.
	cmd = exec.Command(bin, "matrix", "--format", "github", "--shards", "3")
	cmd.Dir = repoRoot(t)
	js, err := cmd.Output()
	require.NoError(t, err)
	var gh struct {
		Include []map[string]string `json:"include"`
	}
	require.NoError(t, json.Unmarshal(js, &gh))
	assert.Equal(t, []map[string]string{{"shard": "1/3"}, {"shard": "2/3"}, {"shard": "3/3"}}, gh.Include)
}

// TestDiffNamesChangedCells: a run and the same run with one expectation
// changed differ in exactly the cells it applies to, and diff exits 1.
func TestDiffNamesChangedCells(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	cells := "modules-off,unload-off,unload,force-unload"
	dir := keptOnFailure(t)
	run := func(out string, modules string) {
		cmd := exec.Command(bin, "run", "--cache", cacheDir(), "--modules", modules, "--cells", cells, "--out", out)
		cmd.Dir = repoRoot(t)
		_ = cmd.Run() // the second run fails on purpose
	}
	run(filepath.Join(dir, "base"), helloCopy(t, func(s string) string { return s }))
	run(filepath.Join(dir, "new"), helloCopy(t, func(s string) string {
		return strings.ReplaceAll(s, "errno: ENOSYS", "errno: EBUSY")
	}))
	cmd := exec.Command(bin, "diff", filepath.Join(dir, "base"), filepath.Join(dir, "new"))
	out, err := cmd.Output()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v\n%s", err, out)
	assert.Equal(t, 1, exit.ExitCode(), "%s", out)

	b, err := os.ReadFile(filepath.Join(dir, "new", "diff.json"))
	require.NoError(t, err)
	var d struct {
		Changes []report.Change `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	var changed []string
	for _, c := range d.Changes {
		changed = append(changed, c.Cell)
		assert.True(t, c.Regression)
	}
	assert.ElementsMatch(t, []string{"modules-off", "unload-off"}, changed, "modmatrix diff:\n%s", out)

	page, err := os.ReadFile(filepath.Join(dir, "new", "index.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "Changes since the baseline", "the page of the new run shows the diff")
}

// TestDiffNamesChangedConfig: a run and the same run with one cell's
// kernel config changed (unload gains MODULE_FORCE_UNLOAD) differ in that
// cell only. The changed cell resolves to the force-unload cell's config,
// so its kernel comes from the cache.
func TestDiffNamesChangedConfig(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	dir := keptOnFailure(t)
	run := func(out, kconfigs string) {
		cmd := exec.Command(bin, "run", "-q", "--cache", cacheDir(), "--kconfigs", kconfigs,
			"--cells", "unload,force-unload", "--scenarios", "refheld", "--out", out)
		cmd.Dir = repoRoot(t)
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
	}
	kconfigs := filepath.Join(repoRoot(t), "kconfigs")
	changed := filepath.Join(dir, "kconfigs")
	require.NoError(t, os.CopyFS(changed, os.DirFS(kconfigs)))
	require.NoError(t, os.WriteFile(filepath.Join(changed, "unload.config"),
		[]byte("# description: unload, now with forced unload\nCONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n"), 0o644))

	run(filepath.Join(dir, "base"), kconfigs)
	run(filepath.Join(dir, "new"), changed)
	cmd := exec.Command(bin, "diff", filepath.Join(dir, "base"), filepath.Join(dir, "new"))
	out, _ := cmd.Output()

	b, err := os.ReadFile(filepath.Join(dir, "new", "diff.json"))
	require.NoError(t, err, "%s", out)
	var d struct {
		Changes []report.Change `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	require.NotEmpty(t, d.Changes, "%s", out)
	for _, c := range d.Changes {
		assert.Equal(t, "unload", c.Cell, "only the changed cell differs: %+v", c)
		assert.Equal(t, "refheld", c.Scenario)
		assert.NotEmpty(t, c.Details, "the changed observations are named")
	}
	assert.Contains(t, string(out), "unload", "the terminal table names the cell")
}

// TestRepeatedRunsAgree: the default 6.12 matrix, run once whole (the
// package's shared run, defaultMatrix) and again as two shards merged,
// gives the same verdicts, and diff finds nothing between the two (no
// asynchronous kernel message, no timing, counts as a change). The merged
// run is the repeat: a third whole run would cost a cold CI run some 3
// CPU-minutes and check nothing the merged one does not.
func TestRepeatedRunsAgree(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	dir := keptOnFailure(t)
	run := func(out string, args ...string) {
		text, code := runCLI(t, bin, append([]string{"run", "-q", "--cache", cacheDir(), "--out", out}, args...)...)
		require.Equal(t, 0, code, "%s", text)
	}
	first, merged := defaultMatrix(t), filepath.Join(dir, "merged")
	shards := []string{filepath.Join(dir, "shard1"), filepath.Join(dir, "shard2")}
	run(shards[0], "--shard", "1/2")
	run(shards[1], "--shard", "2/2")
	text, code := runCLI(t, bin, append([]string{"merge", "--out", merged}, shards...)...)
	require.Equal(t, 0, code, "%s", text)

	verdicts := func(out string) map[string]verdict.Verdict {
		r, err := report.Read(out)
		require.NoError(t, err)
		m := map[string]verdict.Verdict{}
		for _, s := range r.Results {
			m[s.Kernel+" "+s.Cell+" "+s.Scenario] = s.Verdict
		}
		return m
	}
	assert.Equal(t, verdicts(first), verdicts(merged))
	text, code = runCLI(t, bin, "diff", first, merged)
	assert.Equal(t, 0, code, "diff %s %s:\n%s", first, merged, text)
	b, err := os.ReadFile(filepath.Join(merged, "diff.json"))
	require.NoError(t, err)
	var d struct {
		Changes []report.Change `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	assert.Empty(t, d.Changes, "diff %s %s:\n%s", first, merged, text)
}
