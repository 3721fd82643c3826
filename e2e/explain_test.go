package e2e

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExplainNoexit: explain resolves a scenario on a cell's real resolved
// .config (Debian's 6.12 source) and prints each step's expectations.
func TestExplainNoexit(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	explain := func(cell string) string {
		t.Helper()
		cmd := exec.Command(bin, "explain", "noexit", "--cell", cell, "--cache", cacheDir())
		cmd.Dir = repoRoot(t)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	force := explain("force-unload")
	assert.Contains(t, force, "noexit on 6.12.")
	assert.Contains(t, force, "step 3: unload noexit (line 32)\n  errno ok\n  not loaded\n  taint gains R\n")
	assert.Contains(t, force, `/proc/modules line matches /^noexit \d+ 0 \[permanent\], Live /`, "the MODULE_UNLOAD block of step 1")
	off := explain("unload-off")
	assert.Contains(t, off, "step 2: unload noexit (line 23)\n  errno ENOSYS\n")
	assert.NotContains(t, off, "[permanent]")

	cmd := exec.Command(bin, "explain", "noexit", "--cell", "nosuch", "--cache", cacheDir())
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "nosuch")
}
