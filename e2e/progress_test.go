package e2e

import (
	"bytes"
	"io"
	"os/exec"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProgressViews: in a terminal, run redraws a live block (cells done,
// running, left and each running cell's stage); in a CI log (stderr not a
// terminal) it prints plain lines without escape sequences.
func TestProgressViews(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	args := []string{"run", "--cache", cacheDir(), "--cells", "unload,unload-off", "--scenarios", "hello,dependency", "-j", "1"}

	cmd := exec.Command(bin, append(args, "--out", t.TempDir())...)
	cmd.Dir = repoRoot(t)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	require.NoError(t, err)
	var screen bytes.Buffer
	_, _ = io.Copy(&screen, tty) // ends with EIO once the command exits
	require.NoError(t, cmd.Wait(), "%s", screen.String())
	tty.Close()
	out := screen.String()
	assert.Contains(t, out, "running,", "the live block counts cells: %q", out)
	assert.Regexp(t, `\d+ done, \d+ running, \d+ left`, out)
	assert.Contains(t, out, "\x1b[", "the block is redrawn in place")
	assert.Contains(t, out, "SCENARIO", "the table follows")

	cmd = exec.Command(bin, append(args, "--out", t.TempDir())...)
	cmd.Dir = repoRoot(t)
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	require.NoError(t, cmd.Run(), "%s", stderr.String())
	assert.NotContains(t, stderr.String(), "\x1b[", "no escape sequences in a log")
	assert.Regexp(t, `(?m)^\[\d+:\d\d\] 6\.12\.\d+ +unload +snapshot`, stderr.String())
	assert.Regexp(t, `(?m)^\[\d+:\d\d\] 6\.12\.\d+ +unload +done in .*restore\(s\)`, stderr.String())
	assert.Regexp(t, `(?m)^\[\d+:\d\d\] 6\.12\.\d+ +unload-off +done in `, stderr.String())
	assert.Contains(t, stdout.String(), "SCENARIO")
}
