// Package e2e boots real kernels: it builds the cells' kernels (through the
// shared cache, so a warm machine rebuilds nothing), boots them in QEMU with
// the agent and checks what the kernels did. Under CI=true a missing QEMU,
// compiler or kernel source fails these tests instead of skipping them.
package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/internal/junitschema"
)

// requireTools skips (or, in CI, fails) when the machine cannot build and
// boot kernels.
func requireTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	missing := missingTools()
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("end-to-end tests need %v (run make deps); CI must boot real kernels", missing)
	}
	t.Skipf("end-to-end: missing %v (run make deps)", missing)
}

// missingTools lists what the machine lacks to build and boot kernels.
func missingTools() []string {
	var missing []string
	for _, tool := range []string{"qemu-system-x86_64", "gcc", "make", "flex", "bison", "bc"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat("/usr/src/linux-source-6.12.tar.xz"); err != nil {
		missing = append(missing, "linux-source-6.12")
	}
	return missing
}

// laterKernel is the kernel series the tests run beside 6.12.
const laterKernel = "6.1"

// laterSourceInstalled tells whether Debian's source of laterKernel is.
func laterSourceInstalled() bool {
	_, err := os.Stat("/usr/src/linux-source-" + laterKernel + ".tar.xz")
	return err == nil
}

// testedKernels are the series a test of every kernel runs: 6.12 and
// laterKernel, or 6.12 alone where laterKernel's source is missing (a
// failure under CI=true).
func testedKernels(t *testing.T) []string {
	t.Helper()
	if laterSourceInstalled() {
		return []string{"6.12", laterKernel}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("linux-source-%s is missing (make test-deps)", laterKernel)
	}
	return []string{"6.12"}
}

// repoRoot is the checkout this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	return checkout()
}

func checkout() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// cacheDir is shared with `make run` so CI on a warm machine builds nothing.
func cacheDir() string {
	if d := os.Getenv("MODMATRIX_CACHE"); d != "" {
		return d
	}
	return kbuild.DefaultCacheDir()
}

// keptOnFailure is a temporary directory for a test's run outputs that
// survives the test when it fails (moved beside the system's temporary
// files, and named in the log), so a failure on CI can be read afterwards.
func keptOnFailure(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		kept, err := os.MkdirTemp("", "modmatrix-"+strings.ReplaceAll(t.Name(), "/", "-")+"-")
		if err == nil {
			err = os.CopyFS(kept, os.DirFS(dir))
		}
		if err != nil {
			t.Logf("keeping the outputs of %s: %v", dir, err)
			return
		}
		t.Logf("outputs kept in %s", kept)
	})
	return dir
}

// modmatrixBin builds the CLI once per test binary (into binDir, which
// TestMain removes at the end).
func modmatrixBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		var dir string
		if dir, binErr = os.MkdirTemp("", "modmatrix-e2e-bin-"); binErr != nil {
			return
		}
		binDir = dir
		bin := filepath.Join(dir, "modmatrix")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/modmatrix")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		binPath = bin
	})
	require.NoError(t, binErr)
	return binPath
}

// defaultMatrix runs the default matrix (6.12, every cell and scenario)
// through the CLI once per test binary and returns its --out:
// TestSeedScenarios judges it and TestRepeatedRunsAgree runs it again, so
// the suite pays for it once.
func defaultMatrix(t *testing.T) string {
	t.Helper()
	bin := modmatrixBin(t)
	defaultOnce.Do(func() {
		out := filepath.Join(binDir, "default")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		// Its KTAP and Markdown forms cost nothing more (TestOtherForms).
		cmd := exec.CommandContext(ctx, bin, "run", "-q", "--cache", cacheDir(), "--out", out,
			"--ktap", filepath.Join(out, "matrix.ktap"), "--summary-md", filepath.Join(out, "summary.md"))
		cmd.Dir = repoRoot(t)
		// Exit 1 (a scenario did not pass) is for the callers' assertions
		// to explain, scenario by scenario.
		var exit *exec.ExitError
		if text, err := cmd.CombinedOutput(); err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
			defaultErr = fmt.Errorf("the default matrix: %w\n%s", err, text)
			return
		}
		defaultOut = out
	})
	require.NoError(t, defaultErr)
	return defaultOut
}

var (
	defaultOnce sync.Once
	defaultOut  string
	defaultErr  error
)

var (
	binOnce         sync.Once
	binDir, binPath string
	binErr          error
)

func TestMain(m *testing.M) {
	if os.Getenv(warmUpEnv) != "" {
		os.Exit(warmUp())
	}
	flag.Parse()
	stopWarmUp := startWarmUp()
	code := m.Run()
	stopWarmUp(code != 0)
	switch {
	case binDir == "":
	case code != 0 && defaultOut != "":
		fmt.Fprintf(os.Stderr, "the default matrix's outputs are kept in %s\n", defaultOut)
	default:
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// requireJUnitSchema validates a run's junit.xml against the schema
// Jenkins' JUnit plugin reads (see package junitschema).
func requireJUnitSchema(t *testing.T, file string) {
	t.Helper()
	junitschema.Check(t, cacheDir(), file)
}

// requireRestoredScenarios checks that every scenario that ran got a VM of
// its own restored from its cell's snapshot, and found the kernel as the
// cell's other scenarios did: same taint, no module loaded.
func requireRestoredScenarios(t *testing.T, res *report.Results) {
	t.Helper()
	ran := map[[2]string]int{}
	start := map[[2]string]*report.Start{}
	for _, r := range res.Results {
		if r.Verdict == verdict.Skip {
			continue
		}
		key := [2]string{r.Kernel, r.Cell}
		ran[key]++
		assert.Equal(t, "restore", r.Started, "%s on %s %s", r.Scenario, r.Kernel, r.Cell)
		if assert.NotNil(t, r.Start, "%s on %s %s", r.Scenario, r.Kernel, r.Cell) {
			assert.Empty(t, r.Start.Modules, "%s on %s %s starts with modules loaded", r.Scenario, r.Kernel, r.Cell)
			if first := start[key]; first == nil {
				start[key] = r.Start
			} else {
				assert.Equal(t, first.Taint, r.Start.Taint, "%s on %s %s starts tainted otherwise", r.Scenario, r.Kernel, r.Cell)
			}
		}
	}
	for _, c := range res.Cells {
		key := [2]string{c.Kernel, c.Cell}
		assert.Empty(t, c.SnapshotNote, "%s %s", c.Kernel, c.Cell)
		assert.Equal(t, ran[key], c.Restores, "%s %s: one restore per scenario", c.Kernel, c.Cell)
		assert.LessOrEqual(t, c.Boots, 1, "%s %s: at most the snapshot's boot", c.Kernel, c.Cell)
	}
}

// onCells is res cut down to the named cells: their cells and results.
func onCells(res *report.Results, names ...string) *report.Results {
	cut := *res
	cut.Cells = slices.DeleteFunc(slices.Clone(res.Cells), func(c report.Cell) bool { return !slices.Contains(names, c.Cell) })
	cut.Results = slices.DeleteFunc(slices.Clone(res.Results), func(r report.ScenarioResult) bool { return !slices.Contains(names, r.Cell) })
	return &cut
}

// runMatrix runs the repository's matrix (narrowed by opts) on the shared
// cache into a fresh output folder, and returns its results.
func runMatrix(t *testing.T, ctx context.Context, opts ...matrix.Option) *report.Results {
	t.Helper()
	m, err := matrix.New(ctx, append([]matrix.Option{
		matrix.WithRepo(repoRoot(t)),
		matrix.WithCache(cacheDir()),
		matrix.WithOut(t.TempDir()),
	}, opts...)...)
	require.NoError(t, err)
	res, err := m.Run(ctx)
	require.NoError(t, err)
	return res
}
