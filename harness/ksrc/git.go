package ksrc

import (
	"context"
	"os"
	"os/exec"
	"strings"
)

// Git is how modmatrix runs git on a tree: in dir, with no gc started
// behind its back (the first commit of a kernel tree's 86k files
// otherwise starts a detached `git gc --auto` that goes on writing after
// git returns), and with none of the caller's GIT_* variables: under a
// `git rebase -x` or a hook, GIT_DIR points at the caller's repository,
// and a `git init` in a test's temporary tree then re-initialised that
// repository as bare.
func Git(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "gc.auto=0", "-c", "maintenance.auto=false", "-C", dir}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}
