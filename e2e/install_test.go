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
	dest, _ := builtPackage(t)
	bin := filepath.Join(dest, "usr", "bin", "modmatrix")
	for _, f := range []string{
		"usr/share/man/man1/modmatrix.1", "usr/share/man/man1/modmatrix-run.1", "usr/share/man/man1/modmatrix-shell.1",
		"usr/share/bash-completion/completions/modmatrix", "usr/share/zsh/site-functions/_modmatrix",
		"usr/share/fish/vendor_completions.d/modmatrix.fish",
	} {
		assert.FileExists(t, filepath.Join(dest, f))
	}

	noGo := []string{"PATH=" + pathWithoutGo(t)}
	work := runDriver(t, bin, root, noGo...)
	installed := func(args ...string) (string, int) {
		t.Helper()
		return runCLIIn(t, work, noGo, bin, args...)
	}

	text, code := installed("version")
	require.Equal(t, 0, code, "%s", text)
	assert.Regexp(t, `(?m)^guest [0-9a-f]{16}$`, text, "it carries its guest programs")

	// Its built-in cells and scenarios.
	text, code = installed("list", "--cache", cacheDir())
	require.Equal(t, 0, code, "%s", text)
	assert.Contains(t, text, "force-unload")
	assert.Contains(t, text, "noexit")

	// A mistake in the user's own file names that file, as given.
	require.NoError(t, os.WriteFile(filepath.Join(work, "mine.config"), []byte("CONFIG_MODULE_UNLOAD=maybe\n"), 0o644))
	text, code = installed("run", "--kconfig", "mine.config", "--cells", "unload", "--cache", cacheDir(), "--out", filepath.Join(root, "refused"))
	assert.Equal(t, 2, code, "%s", text)
	assert.Contains(t, text, "mine.config:1")

	// The shell's image comes from the binary too.
	cmd := exec.Command(bin, "shell", "--cell", "unload", "--scenarios", "hello", "--cache", cacheDir())
	cmd.Dir, cmd.Env = work, append(os.Environ(), noGo...)
	sh := startShellCmd(t, cmd)
	c := sh.console
	c.send(t, "insmod /modmatrix/ko/hello.ko; lsmod; echo end-$((1000+1))\r")
	assert.Regexp(t, `(?m)^hello +\d+ +0`, c.waitFor(t, time.Minute, regexp.MustCompile(`end-1001\r\n\$ $`)))
	c.send(t, "poweroff\r")
	c.waitFor(t, time.Minute, regexp.MustCompile(`reboot: Restarting system`))
	require.NoError(t, sh.wait(t))
	sh.checkClean(t)
}

// TestGoInstalledBinary: a binary built as go install builds it (the
// guest programs not embedded, only their source) runs a driver's folder
// from an unrelated directory, far from any checkout: it builds the
// guest programs with Go from the copy of its source it puts in the cache.
func TestGoInstalledBinary(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t) // go build ./cmd/modmatrix, as go install does
	root := t.TempDir()
	work := runDriver(t, bin, root)
	text, code := runCLIIn(t, work, nil, bin, "version")
	require.Equal(t, 0, code, "%s", text)
	assert.Contains(t, text, "guest built with Go from its source on each run")
	// Without Go it says what it needs, before anything is built.
	text, code = runCLIIn(t, work, []string{"PATH=" + pathWithoutGo(t)}, bin, "run", "--cells", "unload", "--cache", cacheDir(), "--out", filepath.Join(root, "no-go"))
	assert.Equal(t, 2, code, "%s", text)
	assert.Contains(t, text, "no go command to build them from the source it carries")
}

// builtPackage is makeDeb's tree and package, made once per test binary
// (beside the CLI modmatrixBin builds, removed with it).
func builtPackage(t *testing.T) (dest, deb string) {
	t.Helper()
	modmatrixBin(t) // makes binDir
	dir := filepath.Join(binDir, "package")
	dest, deb = filepath.Join(dir, "dest"), filepath.Join(dir, "modmatrix.deb")
	if _, err := os.Stat(deb); err != nil {
		makeDeb(t, filepath.Join(dir, "src"), dest, deb)
	}
	return dest, deb
}

// makeDeb runs `make deb` in a copy of the checkout's files at src (the
// working tree as it is, not only what is committed), keeps the tree it
// packed (what `make install DESTDIR=dest PREFIX=/usr` installs) at dest
// and the package at deb, and removes the copy.
func makeDeb(t *testing.T, src, dest, deb string) {
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
	runCmd(t, ctx, src, "make", "deb")
	debs, err := filepath.Glob(filepath.Join(src, "bin", "modmatrix_*_amd64.deb"))
	require.NoError(t, err)
	require.Len(t, debs, 1, "make deb made one package")
	require.NoError(t, os.Rename(debs[0], deb))
	require.NoError(t, os.RemoveAll(filepath.Join(src, "bin", "deb", "DEBIAN")))
	require.NoError(t, os.Rename(filepath.Join(src, "bin", "deb"), dest))
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

// TestDebianPackage: the package `make deb` makes installs with dpkg -i
// (its Depends are what a machine that ran make deps has), and its
// /usr/bin/modmatrix runs a driver's folder from an unrelated directory
// with only the package's files and no Go; dpkg -r removes it all. It
// installs into this machine, so it runs as root only (CI's case).
func TestDebianPackage(t *testing.T) {
	requireTools(t)
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("installs a package with dpkg: CI runs as root")
		}
		t.Skip("installs a package with dpkg: root only")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "modmatrix").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Skip("a modmatrix package is installed on this machine already: not replacing it")
	}
	root := t.TempDir()
	_, deb := builtPackage(t)
	fields, err := exec.Command("dpkg-deb", "-f", deb, "Depends", "Recommends").Output()
	require.NoError(t, err)
	assert.Contains(t, string(fields), "qemu-system-x86")
	assert.Contains(t, string(fields), "linux-source-6.12")

	runCmd(t, testContext(t, 5*time.Minute), "", "dpkg", "-i", deb)
	t.Cleanup(func() {
		out, err := exec.Command("dpkg", "-r", "modmatrix").CombinedOutput()
		assert.NoError(t, err, "dpkg -r: %s", out)
		assert.NoFileExists(t, "/usr/bin/modmatrix")
		assert.NoFileExists(t, "/usr/share/man/man1/modmatrix-run.1")
	})
	files, err := exec.Command("dpkg", "-L", "modmatrix").Output()
	require.NoError(t, err)
	assert.Contains(t, string(files), "/usr/share/man/man1/modmatrix.1")
	assert.Contains(t, string(files), "/usr/share/bash-completion/completions/modmatrix")

	runDriver(t, "/usr/bin/modmatrix", root, "PATH="+pathWithoutGo(t))
}

// runDriver runs bin on a copy of e2e/testdata/byom (root/work/mydriver)
// from root/work, without Go on PATH, on the unload cell, checks that it
// passed, and returns root/work.
func runDriver(t *testing.T, bin, root string, env ...string) string {
	t.Helper()
	work := filepath.Join(root, "work")
	require.NoError(t, os.MkdirAll(work, 0o755))
	runCmd(t, testContext(t, time.Minute), "", "cp", "-r", filepath.Join(repoRoot(t), "e2e", "testdata", "byom"), filepath.Join(work, "mydriver"))
	out := filepath.Join(root, "out")
	text, code := runCLIIn(t, work, env, bin,
		"run", "-q", "--module", "./mydriver", "--cells", "unload", "--cache", cacheDir(), "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	assert.Equal(t, "mydriver", res.Results[0].Scenario)
	assert.Equal(t, verdict.Pass, res.Results[0].Verdict, res.Results[0].Reason)
	return work
}
