package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestCmdlineCell: a cell whose fragment adds only a boot parameter
// ("# cmdline: module_blacklist=hello") boots the unload cell's kernel (one
// build for both; a snapshot each, the command line being part of it), and
// a scenario tells the cells apart with a CMDLINE predicate: the kernel
// refuses the blacklisted module with EPERM and "Module hello is
// blacklisted", and loads it on the cell without the parameter.
func TestCmdlineCell(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	frag := filepath.Join(t.TempDir(), "blacklist.config")
	require.NoError(t, os.WriteFile(frag, []byte("# description: hello is on module_blacklist\n# cmdline: module_blacklist=hello\n"), 0o644))
	mod := filepath.Join(t.TempDir(), "blacklisted")
	require.NoError(t, os.MkdirAll(mod, 0o755))
	for _, f := range []string{"hello.c", "Kbuild"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "modules", "hello", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(mod, f), b, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(mod, "scenario.yaml"), []byte(`description: hello, refused where the cell's command line blacklists it.
steps:
  - load: hello
    expect:
      - when: 'CMDLINE.module_blacklist = "hello"'
        errno: EPERM
        loaded: false
        kmsg: ["Module hello is blacklisted"]
      - when: '!CMDLINE.module_blacklist'
        errno: ok
        loaded: true
`), 0o644))
	cell := "blacklist=kconfigs/unload.config," + frag

	text, code := runCLI(t, bin, "list", "--cache", cacheDir(), "--cell", cell, "--cells", "blacklist")
	require.Equal(t, 0, code, "%s", text)
	assert.Contains(t, text, "boots with module_blacklist=hello")

	out := keptOnFailure(t)
	text, code = runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--cell", cell, "--cells", "unload,blacklist", "--module", mod, "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 2)
	for _, r := range res.Results {
		assert.Equal(t, verdict.Pass, r.Verdict, "%s: %s", r.Cell, r.Reason)
	}
	cells := map[string]report.Cell{}
	for _, c := range res.Cells {
		cells[c.Cell] = c
	}
	assert.Equal(t, cells["unload"].KernelKey, cells["blacklist"].KernelKey, "one kernel for both cells")
	assert.NotEqual(t, cells["unload"].SnapshotKey, cells["blacklist"].SnapshotKey, "a snapshot each")
	assert.Equal(t, []string{"module_blacklist=hello"}, cells["blacklist"].Cmdline)
	assert.Empty(t, cells["unload"].Cmdline)
}
