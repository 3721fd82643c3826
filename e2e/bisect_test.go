package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBisectExit: run --bisect-exit answers as git bisect run reads it, on
// a real boot of the unload cell: 0 where hello behaves as its scenario
// says, 1 where the scenario expects what the kernel does not do (the
// commit is bad), 128 for a mistake no commit is to blame for.
func TestBisectExit(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	good := helloCopy(t, func(s string) string { return s })
	text, code := runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--modules", good, "--out", t.TempDir(), "--cells", "unload", "--bisect-exit")
	assert.Equal(t, 0, code, text)
	assert.Contains(t, text, "bisect: every scenario passed (exit 0)")

	bad := helloCopy(t, func(s string) string { return strings.ReplaceAll(s, "errno: ok", "errno: EBUSY") })
	text, code = runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--modules", bad, "--out", t.TempDir(), "--cells", "unload", "--bisect-exit")
	assert.Equal(t, 1, code, text)
	assert.Contains(t, text, "bisect: hello: FAIL step 1")

	text, code = runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--modules", good, "--cells", "nosuch", "--bisect-exit")
	assert.Equal(t, 128, code, text)
}
