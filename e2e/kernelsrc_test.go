package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// editedFile is the file the test edits in the kernel tree, and editMark
// what the edited kernel prints while booting.
const (
	editedFile = "init/version.c"
	editMark   = "modmatrix-ksrc-edit: built from an edited tree"
	editText   = `
/* modmatrix e2e (TestKernelSrcTree): an uncommitted edit the boot shows. */
static int __init modmatrix_ksrc_edit(void)
{
	pr_notice("` + editMark + `\n");
	return 0;
}
early_initcall(modmatrix_ksrc_edit);
`
)

// TestKernelSrcTree runs hello on the unload cell of a --kernel-src tree, a
// copy of Debian's 6.12 source kept under the cache (test-trees/) so that a
// warm machine builds nothing. The same directory is first a plain tree
// (no .git), then a git checkout (a .git file naming a repository beside
// it): unchanged runs are cache hits; an uncommitted edit is a new kernel,
// built incrementally from the last one, whose boot shows the edit;
// reverting the edit is a hit on the first kernel again.
func TestKernelSrcTree(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 50*time.Minute)
	tt := kernelTestTree(t, ctx)
	t.Cleanup(tt.lock(t))
	tt.pristine(t)
	t.Cleanup(func() { tt.pristine(t); tt.setGit(t, true) })

	type outcome struct {
		cell    report.Cell
		console string
	}
	runHello := func(name string) outcome {
		t.Helper()
		start := time.Now()
		out := t.TempDir()
		m, err := matrix.New(ctx,
			matrix.WithRepo(repoRoot(t)),
			matrix.WithCache(cacheDir()),
			matrix.WithOut(out),
			matrix.WithKernelSrc(tt.tree),
			matrix.WithCells("unload"),
			matrix.WithScenarios("hello"),
		)
		require.NoError(t, err)
		res, err := m.Run(ctx)
		require.NoError(t, err)
		require.Len(t, res.Cells, 1)
		c := res.Cells[0]
		require.Empty(t, c.Error, "%s: %s", name, c.Error)
		r := find(t, res, "hello", "unload")
		assert.Equal(t, verdict.Pass, r.Verdict, "%s: %s", name, r.Reason)
		console, err := os.ReadFile(r.ConsoleLog)
		if c.BootConsoleLog != "" {
			// Restored from the cell's snapshot: the boot's messages are
			// in the snapshot boot's console.
			boot, err := os.ReadFile(c.BootConsoleLog)
			require.NoError(t, err)
			console = append(boot, console...)
		}
		require.NoError(t, err)
		t.Logf("%s: kernel %s cached=%v (build %.1fs), run %.1fs", name, c.KernelKey, c.KernelCached, float64(c.KernelBuildMS)/1000, time.Since(start).Seconds())
		return outcome{cell: c, console: string(console)}
	}
	sourceID := func() string {
		t.Helper()
		s, err := ksrc.Dir(tt.tree)
		require.NoError(t, err)
		return s.ID
	}

	// A plain tree.
	tt.setGit(t, false)
	plainID := sourceID()
	require.Regexp(t, `^tree:`, plainID)
	plain := runHello("plain tree")
	assert.NotContains(t, plain.console, editMark)
	again := runHello("plain tree, unchanged")
	assert.True(t, again.cell.KernelCached, "an unchanged tree is a cache hit")
	assert.Equal(t, plain.cell.KernelKey, again.cell.KernelKey)

	// The same directory as a git checkout: another ID, and, on a cold
	// cache, a build that starts from the plain tree's kernel and finds
	// nothing to recompile.
	tt.setGit(t, true)
	clean := runHello("git tree")
	assert.NotEqual(t, plain.cell.KernelKey, clean.cell.KernelKey)
	assert.NotContains(t, clean.console, editMark)
	again = runHello("git tree, unchanged")
	assert.True(t, again.cell.KernelCached, "an unchanged git tree is a cache hit")
	assert.Equal(t, clean.cell.KernelKey, again.cell.KernelKey)

	// An uncommitted edit: a new key, and the boot shows it.
	tt.edit(t)
	assert.Regexp(t, `^git:[0-9a-f]{40}\+dirty:`, sourceID())
	edited := runHello("git tree, edited")
	assert.NotEqual(t, clean.cell.KernelKey, edited.cell.KernelKey)
	assert.Contains(t, edited.console, editMark)
	if !edited.cell.KernelCached && !clean.cell.KernelCached {
		// Both built by this run: the edit must have been built from a
		// copy of an earlier content of the tree, not from scratch.
		assert.Contains(t, []string{clean.cell.KernelKey, plain.cell.KernelKey}, builtFrom(t, edited.cell.KernelKey))
	}

	// Reverted: the first kernel, from the cache.
	tt.pristine(t)
	reverted := runHello("git tree, reverted")
	assert.True(t, reverted.cell.KernelCached)
	assert.Equal(t, clean.cell.KernelKey, reverted.cell.KernelKey)
	assert.NotContains(t, reverted.console, editMark)

	// The plain tree again: after all that (a .git added and removed, an
	// edit reverted with its mtime), still the first plain ID; an edit is
	// a new one, its revert the old. The kernel key is a digest of the ID
	// and the config, so this is the key; not built, because the mtime of
	// an edit is new on every test run and would build a kernel each time.
	tt.setGit(t, false)
	assert.Equal(t, plainID, sourceID())
	tt.edit(t)
	assert.NotEqual(t, plainID, sourceID())
	tt.pristine(t)
	assert.Equal(t, plainID, sourceID())
}

// builtFrom is the key of the entry a cached kernel was built from
// incrementally, from its manifest; "" for a build from scratch.
func builtFrom(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cacheDir(), "kernels", key, "manifest.json"))
	require.NoError(t, err)
	var m struct {
		From string `json:"from"`
	}
	require.NoError(t, json.Unmarshal(data, &m))
	return m.From
}

// testTree is a kernel tree the test may edit: tree/ is the working tree,
// git/ its repository; tree/.git (a file naming ../git) makes it a
// checkout, without it the tree is plain.
type testTree struct {
	dir, tree, git string
	// orig is the Debian source's copy of editedFile, deb that source:
	// its files' contents and mtimes are the pristine state.
	orig, deb string
}

// touchedFiles are the files the tests change in the tree: editedFile,
// and the file TestGitBisect's synthetic history edits.
var touchedFiles = []string{editedFile, "kernel/module/main.c"}

// kernelTestTree returns the test tree for the Debian 6.12 source, making it
// on first use (cold: about 2 minutes, most of it git add) under
// <cache>/test-trees/, atomically: into a temporary directory, then renamed.
func kernelTestTree(t *testing.T, ctx context.Context) *testTree {
	t.Helper()
	deb, err := ksrc.Debian(ctx, cacheDir(), "6.12")
	require.NoError(t, err)
	root := filepath.Join(cacheDir(), "test-trees")
	require.NoError(t, os.MkdirAll(root, 0o755))
	dir := filepath.Join(root, "linux-"+deb.Version+"-"+deb.ShortID())
	tt := &testTree{dir: dir, tree: filepath.Join(dir, "tree"), git: filepath.Join(dir, "git"), orig: filepath.Join(deb.Dir, editedFile), deb: deb.Dir}
	if _, err := os.Stat(dir); err == nil {
		tt.repair(t, ctx)
		return tt
	}
	unlock := tt.lock(t)
	defer unlock()
	if _, err := os.Stat(dir); err == nil {
		return tt // made while we waited
	}
	start := time.Now()
	tmp := dir + ".tmp"
	require.NoError(t, os.RemoveAll(tmp))
	require.NoError(t, os.MkdirAll(tmp, 0o755))
	runCmd(t, ctx, "", "cp", "-a", "--reflink=auto", deb.Dir, filepath.Join(tmp, "tree"))
	copied := time.Since(start)

	// Debian's top-level .gitignore ignores everything ("/*") so that its
	// packaging repository tracks only debian/: cut that stanza, as an
	// upstream checkout has it.
	gi := filepath.Join(tmp, "tree", ".gitignore")
	data, err := os.ReadFile(gi)
	require.NoError(t, err)
	if i := bytes.Index(data, []byte("#\n# Debian packaging")); i >= 0 {
		require.NoError(t, os.WriteFile(gi, data[:i], 0o644))
	}
	// The repository is made where it stays (git/, beside the tree), so
	// nothing is moved under a running git, and ksrc.Git starts no gc.
	git := func(args ...string) {
		t.Helper()
		cmd := ksrc.Git(ctx, filepath.Join(tmp, "tree"), append([]string{
			"--git-dir=" + filepath.Join(tmp, "git"), "--work-tree=" + filepath.Join(tmp, "tree"),
			"-c", "user.name=modmatrix", "-c", "user.email=modmatrix@localhost", "-c", "commit.gpgsign=false",
		}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	}
	git("init", "-q")
	// init records --work-tree as core.worktree, an absolute path into
	// tmp, which the rename below would leave dangling: the tree finds
	// its repository through tree/.git instead (setGit).
	git("config", "--unset", "core.worktree")
	// -f: upstream tracks the dotfiles its own .gitignore ignores.
	git("add", "-f", "-A", ".")
	git("commit", "-q", "-m", "linux "+deb.Version+" from Debian's linux-source-"+deb.Series)
	require.NoFileExists(t, filepath.Join(tmp, "git", "gc.pid"), "a git gc is running in the test repository")
	require.NoError(t, os.Rename(tmp, dir))
	t.Logf("test tree %s: copied in %.1fs, git init+add+commit %.1fs", dir, copied.Seconds(), (time.Since(start) - copied).Seconds())
	return tt
}

// repair mends a test tree an earlier version of this test made, whose
// repository kept core.worktree pointing into the temporary directory it
// was made in (exit status 5: the key was not set, nothing to mend).
func (tt *testTree) repair(t *testing.T, ctx context.Context) {
	t.Helper()
	// --file: git refuses to open a repository whose worktree is gone.
	out, err := ksrc.Git(ctx, tt.dir, "config", "--file", filepath.Join(tt.git, "config"), "--unset", "core.worktree").CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 5) {
		require.NoError(t, err, "%s", out)
	}
}

// lock serializes test processes on the tree: the test edits it.
func (tt *testTree) lock(t *testing.T) func() {
	t.Helper()
	f, err := os.OpenFile(tt.dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	return func() { f.Close() }
}

// setGit makes the tree a git checkout or a plain tree.
func (tt *testTree) setGit(t *testing.T, on bool) {
	t.Helper()
	link := filepath.Join(tt.tree, ".git")
	if on {
		// Relative, so that the rename of the temporary directory kept it valid.
		require.NoError(t, os.WriteFile(link, []byte("gitdir: ../git\n"), 0o644))
		return
	}
	if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
		require.NoError(t, err)
	}
}

// edit appends editText to editedFile, as a user's editor would.
func (tt *testTree) edit(t *testing.T) {
	t.Helper()
	orig, err := os.ReadFile(tt.orig)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tt.tree, editedFile), append(orig, editText...), 0o644))
}

// pristine restores the touched files' contents and mtimes, so that the plain
// tree's ID (which goes by mtimes) is the same on every test run.
func (tt *testTree) pristine(t *testing.T) {
	t.Helper()
	for _, f := range touchedFiles {
		orig := filepath.Join(tt.deb, f)
		want, err := os.ReadFile(orig)
		require.NoError(t, err)
		st, err := os.Stat(orig)
		require.NoError(t, err)
		p := filepath.Join(tt.tree, f)
		if cur, err := os.Stat(p); err == nil && cur.ModTime().Equal(st.ModTime()) && cur.Size() == st.Size() {
			if now, err := os.ReadFile(p); err == nil && bytes.Equal(now, want) {
				continue
			}
		}
		require.NoError(t, os.WriteFile(p, want, 0o644))
		require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime()))
	}
}

func runCmd(t *testing.T, ctx context.Context, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}
