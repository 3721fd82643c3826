package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestMissingQEMURefused: with no QEMU on PATH, run stops before it
// unpacks or builds anything, exit 2, naming the program and its package.
func TestMissingQEMURefused(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	path := t.TempDir()
	for _, tool := range []string{"make", "gcc", "ld", "flex", "bison", "bc"} {
		p, err := exec.LookPath(tool)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(p, filepath.Join(path, tool)))
	}
	out := t.TempDir()
	text, code := runCLIEnv(t, []string{"PATH=" + path}, bin, "run", "--cache", cacheDir(), "--cells", "unload", "--scenarios", "hello", "--out", out)
	assert.Equal(t, 2, code, "%s", text)
	assert.Contains(t, text, "missing qemu-system-x86_64")
	assert.Contains(t, text, "apt-get install qemu-system-x86")
	assert.NotContains(t, text, "configure", "nothing was started")
	assert.NoFileExists(t, filepath.Join(out, "results.json"))
}

// TestDamagedKernelRebuilt: a cached kernel whose vmlinux was truncated
// (a full disk during a copy, a stray truncate) is found damaged by its
// manifest on the hit, said so, rebuilt in place, and its cell passes. The
// cell is the test's own (unload plus a hostname: one object to rebuild
// from the unload tree), so no other test's kernel is touched.
func TestDamagedKernelRebuilt(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	frag := filepath.Join(t.TempDir(), "hostname.config")
	require.NoError(t, os.WriteFile(frag, []byte("CONFIG_DEFAULT_HOSTNAME=\"modmatrix-fault\"\n"), 0o644))
	run := func() (*report.Results, string) {
		out := t.TempDir()
		text, code := runCLI(t, bin, "run", "--cache", cacheDir(), "--cell", "damaged=kconfigs/unload.config,"+frag,
			"--cells", "damaged", "--scenarios", "hello", "--out", out)
		require.Equal(t, 0, code, "%s", text)
		res, err := report.Read(out)
		require.NoError(t, err)
		require.Len(t, res.Results, 1)
		assert.Equal(t, verdict.Pass, res.Results[0].Verdict, res.Results[0].Reason)
		return res, text
	}
	res, _ := run()
	vmlinux := filepath.Join(cacheDir(), "kernels", res.Cells[0].KernelKey, "vmlinux")
	fi, err := os.Stat(vmlinux)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(vmlinux, fi.Size()/2))

	res, text := run()
	assert.Contains(t, text, "damaged: vmlinux has ")
	assert.False(t, res.Cells[0].KernelCached, "rebuilt, not taken as it was")
	after, err := os.Stat(vmlinux)
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), after.Size(), "the entry is whole again")
}
