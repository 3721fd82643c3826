package cacheentry

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A recorded entry checks whole; truncated, rewritten in place or removed,
// it does not, and the error names the file and how it differs.
func TestSums(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("vmlinux", "an ELF image")
	write("sub/Module.symvers", "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n")
	sums, err := Sum(dir, "vmlinux", "sub/Module.symvers")
	require.NoError(t, err)
	require.NoError(t, sums.Check(dir))
	require.NoError(t, sums.Check(dir), "a second check (remembered) holds too")

	require.NoError(t, os.Truncate(filepath.Join(dir, "vmlinux"), 3))
	assert.EqualError(t, sums.Check(dir), "vmlinux has 3 bytes, the manifest says 12")

	write("vmlinux", "an ELF imagf") // same size, other content
	assert.ErrorContains(t, sums.Check(dir), "vmlinux's content is not what was built")

	write("vmlinux", "an ELF image")
	require.NoError(t, os.Remove(filepath.Join(dir, "sub/Module.symvers")))
	assert.EqualError(t, sums.Check(dir), "sub/Module.symvers is missing")

	_, err = Sum(dir, "nosuch")
	assert.Error(t, err)
}
