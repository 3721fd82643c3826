package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// TestInstalledBinary: what `make install` installs (the binary, a man
// page per command, bash, zsh and fish completions) runs a driver's own
// folder from an unrelated directory, with no Go on PATH and no checkout
// anywhere (the one it was built in is gone): the binary carries the
// guest's programs and the built-in cells and scenarios. Its shell boots
// too.
func TestInstalledBinary(t *testing.T) {
	requireTools(t)
	root := t.TempDir()
	dest := filepath.Join(root, "dest")
	installCopy(t, filepath.Join(root, "src"), dest)
	bin := filepath.Join(dest, "usr", "bin", "modmatrix")
	for _, f := range []string{
		"usr/share/man/man1/modmatrix.1", "usr/share/man/man1/modmatrix-run.1", "usr/share/man/man1/modmatrix-shell.1",
		"usr/share/bash-completion/completions/modmatrix", "usr/share/zsh/site-functions/_modmatrix",
		"usr/share/fish/vendor_completions.d/modmatrix.fish",
	} {
		assert.FileExists(t, filepath.Join(dest, f))
	}

	work := filepath.Join(root, "work")
	require.NoError(t, os.MkdirAll(work, 0o755))
	runCmd(t, testContext(t, time.Minute), "", "cp", "-r", filepath.Join(repoRoot(t), "e2e", "testdata", "byom"), filepath.Join(work, "mydriver"))
	env := append(os.Environ(), "PATH="+pathWithoutGo(t))
	installed := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "%s", out)
			return string(out), exit.ExitCode()
		}
		return string(out), 0
	}

	out := filepath.Join(root, "out")
	text, code := installed("run", "-q", "--module", "./mydriver", "--cells", "unload", "--cache", cacheDir(), "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	assert.Equal(t, verdict.Pass, res.Results[0].Verdict, res.Results[0].Reason)
	assert.Equal(t, "mydriver", res.Results[0].Scenario)

	text, code = installed("version")
	require.Equal(t, 0, code, "%s", text)
	assert.Regexp(t, `(?m)^guest [0-9a-f]{16}$`, text, "it carries its guest programs")

	// Its built-in cells and scenarios.
	text, code = installed("list", "--cache", cacheDir())
	require.Equal(t, 0, code, "%s", text)
	assert.Contains(t, text, "force-unload")
	assert.Contains(t, text, "noexit")

	// A mistake in the user's own file names that file, as given.
	require.NoError(t, os.WriteFile(filepath.Join(work, "mine.config"), []byte("CONFIG_MODULE_UNLOAD=maybe\n"), 0o644))
	text, code = installed("run", "--kconfig", "mine.config", "--cells", "unload", "--cache", cacheDir(), "--out", out)
	assert.Equal(t, 2, code, "%s", text)
	assert.Contains(t, text, "mine.config:1")

	// The shell's image comes from the binary too.
	cmd := exec.Command(bin, "shell", "--cell", "unload", "--scenarios", "hello", "--cache", cacheDir())
	cmd.Dir, cmd.Env = work, env
	sh := startShellCmd(t, cmd)
	c := sh.console
	c.send(t, "insmod /modmatrix/ko/hello.ko; lsmod; echo end-$((1000+1))\r")
	assert.Regexp(t, `(?m)^hello +\d+ +0`, c.waitFor(t, time.Minute, regexp.MustCompile(`end-1001\r\n\$ $`)))
	c.send(t, "poweroff\r")
	c.waitFor(t, time.Minute, regexp.MustCompile(`reboot: Restarting system`))
	require.NoError(t, sh.wait(t))
	sh.checkClean(t)
}

// installCopy runs `make install DESTDIR=dest PREFIX=/usr` in a copy of
// the checkout's files at src (the working tree as it is, not only what is
// committed), and removes the copy.
func installCopy(t *testing.T, src, dest string) {
	t.Helper()
	ctx := testContext(t, 10*time.Minute)
	files, err := exec.CommandContext(ctx, "git", "-C", repoRoot(t), "ls-files", "-co", "--exclude-standard", "-z").Output()
	require.NoError(t, err)
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		from := filepath.Join(repoRoot(t), f)
		fi, err := os.Lstat(from)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree
		}
		b, err := os.ReadFile(from)
		require.NoError(t, err)
		to := filepath.Join(src, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
		require.NoError(t, os.WriteFile(to, b, fi.Mode().Perm()))
	}
	runCmd(t, ctx, src, "make", "install", "DESTDIR="+dest, "PREFIX=/usr")
	require.NoError(t, os.RemoveAll(src))
}

// pathWithoutGo is $PATH without the folders that hold a go command.
func pathWithoutGo(t *testing.T) string {
	t.Helper()
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "go")); err != nil {
			keep = append(keep, d)
		}
	}
	return strings.Join(keep, string(filepath.ListSeparator))
}
