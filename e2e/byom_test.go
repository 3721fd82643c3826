package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// runCLI runs the modmatrix binary from the repository and returns its
// combined output and exit code.
func runCLI(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	return runCLIEnv(t, nil, bin, args...)
}

// runCLIEnv is runCLI with env (KEY=VALUE) replacing those variables of
// the test's environment.
func runCLIEnv(t *testing.T, env []string, bin string, args ...string) (string, int) {
	t.Helper()
	return runCLIIn(t, repoRoot(t), env, bin, args...)
}

// runCLIIn is runCLIEnv from the folder dir.
func runCLIIn(t *testing.T, dir string, env []string, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	require.NoError(t, err)
	return "", -1
}

// TestOwnModuleDefaultScenario: an out-of-tree folder with two modules, one
// using the other's export and listed first in its Kbuild, and no scenario
// file. The default scenario loads them in dependency order and passes on
// every default cell.
func TestOwnModuleDefaultScenario(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	out := t.TempDir()
	text, code := runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--module", "e2e/testdata/byom", "--out", out)
	require.Equal(t, 0, code, "%s", text)

	res, err := report.Read(out)
	require.NoError(t, err)
	cells, err := filepath.Glob(filepath.Join(repoRoot(t), "kconfigs", "*.config"))
	require.NoError(t, err)
	assert.Len(t, res.Results, len(cells)-1, "one result per default cell (base.config is not a cell)")
	for _, r := range res.Results {
		assert.Equal(t, "byom", r.Scenario)
		assert.Equal(t, verdict.Pass, r.Verdict, "%s: %s", r.Cell, r.Reason)
		if r.Cell == "unload" {
			require.GreaterOrEqual(t, len(r.Steps), 2)
			assert.Equal(t, "byo_lib", r.Steps[0].Module, "the library loads first")
			assert.Equal(t, "byo_user", r.Steps[1].Module)
			assert.True(t, contains(r.Steps[1].Kmsg, "byo_user: byo_lib answers 42"), "%q", r.Steps[1].Kmsg)
		}
	}
	gen, err := os.ReadFile(filepath.Join(out, res.Cells[0].Kernel, "unload", "generated", "byom", "scenario.yaml"))
	require.NoError(t, err, "the generated scenario is kept for the user")
	assert.Less(t, strings.Index(string(gen), "load: byo_lib"), strings.Index(string(gen), "load: byo_user"))
}

// TestOwnModuleBuildError: a module that does not compile fails its cell
// with the compiler's message, the module and the kernel named.
func TestOwnModuleBuildError(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	out := t.TempDir()
	text, code := runCLI(t, bin, "run", "--cache", cacheDir(), "--module", "e2e/testdata/byom-broken", "--cells", "unload", "--out", out)
	assert.Equal(t, 1, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	reason := res.Results[0].Reason
	assert.Equal(t, verdict.Error, res.Results[0].Verdict)
	assert.Contains(t, reason, "module byom-broken for linux 6.12.")
	assert.Contains(t, reason, "cell unload")
	assert.Contains(t, reason, "broken.c:7")
	assert.Contains(t, reason, "undeclared_thing")
}

// TestUserFragmentUnknownSymbol: --kconfig with a symbol no kernel has is
// refused by name, file and line before anything is built.
func TestUserFragmentUnknownSymbol(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	frag := filepath.Join(t.TempDir(), "mine.config")
	require.NoError(t, os.WriteFile(frag, []byte("CONFIG_MODULES=y\nCONFIG_MODMATRIX_NO_SUCH_SYMBOL=y\n"), 0o644))
	text, code := runCLI(t, bin, "run", "--cache", cacheDir(), "--kconfig", frag, "--scenarios", "hello", "--out", t.TempDir())
	assert.Equal(t, 2, code, "%s", text)
	assert.Contains(t, text, frag+":2: CONFIG_MODMATRIX_NO_SUCH_SYMBOL: no such Kconfig symbol")

	text, code = runCLI(t, bin, "list", "--cache", cacheDir(), "--cell", "mine="+frag)
	assert.Equal(t, 2, code, "%s", text)
	assert.Contains(t, text, "CONFIG_MODMATRIX_NO_SUCH_SYMBOL: no such Kconfig symbol")
}

// TestUserKconfig: a fragment merged into a cell (--kconfig) and a cell
// defined on the command line (--cell) change the kernel. Both resolve to
// the force-unload cell's config, so their kernels come from the cache.
func TestUserKconfig(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	force := filepath.Join(t.TempDir(), "force.config")
	require.NoError(t, os.WriteFile(force, []byte("CONFIG_MODULE_FORCE_UNLOAD=y\n"), 0o644))

	out := t.TempDir()
	text, code := runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--kconfig", force,
		"--cells", "unload", "--scenarios", "refheld", "--out", out)
	// The expectations follow the resolved config: the cell now passes as
	// force-unload does.
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	forced := stepOf(t, res.Results[0], "unload", true, 0)
	assert.Empty(t, forced.Errno, "forced unload succeeds once the fragment adds MODULE_FORCE_UNLOAD")

	out = t.TempDir()
	unloadFrag := filepath.Join(repoRoot(t), "kconfigs", "unload.config")
	text, code = runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--cell", "mine="+unloadFrag+","+force,
		"--cells", "mine", "--scenarios", "hello", "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err = report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Cells, 1)
	assert.Equal(t, "mine", res.Cells[0].Cell)
	assert.True(t, res.Cells[0].KernelCached, "same resolved config as force-unload: a cache hit")
	assert.Equal(t, verdict.Pass, res.Results[0].Verdict, res.Results[0].Reason)
}

// TestOwnModuleScenarioFile: --scenario drives the folder with a file of
// the user's, here one that pins the library's refusal to unload while
// its user is loaded.
func TestOwnModuleScenarioFile(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	file := filepath.Join(t.TempDir(), "busy.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`description: byo_lib cannot go while byo_user uses it.
steps:
  - load: byo_lib
  - load: byo_user
    expect:
      - kmsg: ["byo_user: byo_lib answers 42"]
  - unload: byo_lib
    expect:
      - errno: EWOULDBLOCK
        loaded: true
  - unload: byo_user
  - unload: byo_lib
    expect:
      - errno: ok
        loaded: false
`), 0o644))
	out := t.TempDir()
	text, code := runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--module", "e2e/testdata/byom",
		"--scenario", file, "--cells", "unload", "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	assert.Len(t, res.Results[0].Steps, 5, "the file's steps ran, not the default scenario's")
}

// TestOwnModuleFolders: two --module folders, the second exporting what
// the first uses (and given after it). The user's folder is built against
// the library's Module.symvers, so on MODVERSIONS kernels (the debug kernel, which kunit boots) its
// import carries the library's CRC; its default scenario loads the library
// first. A scenario file in the user's folder loads the other folder's
// module by name. Alone, the folder is refused before any boot, naming
// the symbol.
func TestOwnModuleFolders(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	out := t.TempDir()
	text, code := runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--module", "e2e/testdata/byom-user",
		"--module", "e2e/testdata/byom-lib", "--cells", "unload,kunit,modules-off", "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err := report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 6)
	for _, r := range res.Results {
		require.Equal(t, verdict.Pass, r.Verdict, "%s %s: %s", r.Cell, r.Scenario, r.Reason)
		if r.Scenario != "byom-user" || r.Cell == "modules-off" {
			continue
		}
		require.GreaterOrEqual(t, len(r.Steps), 2, r.Cell)
		assert.Equal(t, "byom_lib", r.Steps[0].Module, "%s: the other folder's library loads first", r.Cell)
		assert.True(t, contains(r.Steps[1].Kmsg, "byom_user: byom_lib answers 42"), "%s: %q", r.Cell, r.Steps[1].Kmsg)
	}

	user := filepath.Join(t.TempDir(), "byom-user")
	require.NoError(t, os.CopyFS(user, os.DirFS(filepath.Join(repoRoot(t), "e2e", "testdata", "byom-user"))))
	require.NoError(t, os.WriteFile(filepath.Join(user, "scenario.yaml"), []byte(`description: byom_lib cannot go while byom_user uses it.
steps:
  - load: byom_lib
  - load: byom_user
  - unload: byom_lib
    expect:
      - errno: EWOULDBLOCK
        loaded: true
  - unload: byom_user
  - unload: byom_lib
`), 0o644))
	out = t.TempDir()
	text, code = runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--module", user,
		"--module", "e2e/testdata/byom-lib", "--cells", "unload", "--scenarios", "byom-user", "--out", out)
	require.Equal(t, 0, code, "%s", text)
	res, err = report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	assert.Len(t, res.Results[0].Steps, 5, "the file's steps ran")

	out = t.TempDir()
	text, code = runCLI(t, bin, "run", "-q", "--cache", cacheDir(), "--module", "e2e/testdata/byom-user", "--cells", "unload", "--out", out)
	assert.Equal(t, 1, code, "%s", text)
	res, err = report.Read(out)
	require.NoError(t, err)
	require.Len(t, res.Results, 1)
	assert.Contains(t, res.Results[0].Reason, `ERROR: modpost: "byom_lib_answer" [byom_user.ko] undefined!`)
	assert.Contains(t, res.Results[0].Reason, "no --module folder exports byom_lib_answer")
}
