package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/ksrc"
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

// TestGitBisect drives git bisect run over a small synthetic history in
// the 6.12 test tree: eight commits on top of Debian's source, the fifth
// of which makes delete_module refuse every unload (hello's unload then
// fails with EPERM). git bisect run with run --bisect-exit names that
// commit, booting at most log2 of the commits' kernels, each built
// incrementally where the tree is always built.
func TestGitBisect(t *testing.T) {
	requireTools(t)
	ctx := testContext(t, 40*time.Minute)
	bin := modmatrixBin(t)
	tt := kernelTestTree(t, ctx)
	t.Cleanup(tt.lock(t))
	tt.pristine(t)
	tt.setGit(t, true)
	git := func(args ...string) string {
		t.Helper()
		cmd := ksrc.Git(ctx, tt.tree, append([]string{"-c", "user.name=modmatrix", "-c", "user.email=modmatrix@localhost", "-c", "commit.gpgsign=false"}, args...)...)
		// Fixed dates: the same commits every run, so a warm cache has
		// their kernels.
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE=2026-12-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-12-01T00:00:00Z")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
		return strings.TrimSpace(string(out))
	}
	// The tree's one commit and its branch, also after a run that was
	// killed mid-bisect (HEAD then on the synthetic branch, or detached).
	_ = quiet(ctx, tt.tree, "bisect", "reset")
	base := git("rev-list", "--max-parents=0", "HEAD")
	branch := ""
	for _, b := range strings.Fields(git("for-each-ref", "--points-at", base, "--format=%(refname:short)", "refs/heads/")) {
		if b != "modmatrix-bisect" {
			branch = b
		}
	}
	require.NotEmpty(t, branch, "a branch at the test tree's commit %s", base)
	t.Cleanup(func() {
		// Whatever happened (the test's context may be done), the tree is
		// left on its branch, unedited.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		for _, args := range [][]string{{"bisect", "reset"}, {"checkout", "-q", "-f", branch}, {"branch", "-q", "-D", "modmatrix-bisect"}} {
			if err := quiet(ctx, tt.tree, args...); err != nil {
				t.Logf("git %s: %v", strings.Join(args, " "), err)
			}
		}
		tt.pristine(t)
	})
	git("checkout", "-q", "-f", "-B", "modmatrix-bisect", base)
	const commits, breaking = 8, 5
	main := filepath.Join(tt.tree, "kernel", "module", "main.c")
	var culprit string
	for i := 1; i <= commits; i++ {
		if i == breaking {
			b, err := os.ReadFile(main)
			require.NoError(t, err)
			refused := strings.Replace(string(b), "\tif (!capable(CAP_SYS_MODULE) || modules_disabled)\n\t\treturn -EPERM;\n\n\tlen = strncpy_from_user(name, name_user, MODULE_NAME_LEN);",
				"\tif (!capable(CAP_SYS_MODULE) || modules_disabled)\n\t\treturn -EPERM;\n\treturn -EPERM; /* modmatrix e2e: a synthetic regression */\n\n\tlen = strncpy_from_user(name, name_user, MODULE_NAME_LEN);", 1)
			require.NotEqual(t, string(b), refused, "delete_module's start in %s", main)
			require.NoError(t, os.WriteFile(main, []byte(refused), 0o644))
			git("commit", "-q", "-a", "-m", "module: refuse every unload (synthetic regression)")
			culprit = git("rev-parse", "HEAD")
			continue
		}
		notes := filepath.Join(tt.tree, "Documentation", "modmatrix-bisect.txt")
		f, err := os.OpenFile(notes, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		_, err = fmt.Fprintf(f, "commit %d of a synthetic history: nothing a build reads\n", i)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		git("add", notes)
		git("commit", "-q", "-m", fmt.Sprintf("Documentation: note %d", i))
	}
	git("bisect", "start", "HEAD", base)
	out := t.TempDir()
	cmd := ksrc.Git(ctx, tt.tree, "bisect", "run", bin, "run", "-q", "--repo", repoRoot(t), "--cache", cacheDir(), "--out", out,
		"--kernel-src", tt.tree, "--cells", "unload", "--scenarios", "hello", "--bisect-exit")
	start := time.Now()
	text, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", text)
	steps := len(regexp.MustCompile(`(?m)^bisect: .*\(exit \d+\)$`).FindAllString(string(text), -1))
	t.Logf("git bisect run: %d steps over %d commits, %.0f s", steps, commits, time.Since(start).Seconds())
	assert.Contains(t, string(text), culprit+" is the first bad commit")
	assert.LessOrEqual(t, steps, 3, "log2(%d) steps: %s", commits, text)
}

// quiet runs git in dir, its output kept only for the error.
func quiet(ctx context.Context, dir string, args ...string) error {
	if out, err := ksrc.Git(ctx, dir, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
