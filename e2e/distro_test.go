package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// requireDistroTools skips (or, in CI, fails) when the machine cannot
// fetch Debian's kernel packages, build modules against them and boot.
func requireDistroTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	var missing []string
	// pahole: Debian's kernels have DEBUG_INFO_BTF_MODULES.
	for _, tool := range []string{"qemu-system-x86_64", "gcc", "make", "apt-get", "apt-cache", "dpkg-deb", "pahole"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("distro kernel tests need %v (run make deps)", missing)
	}
	t.Skipf("end-to-end: missing %v (run make deps)", missing)
}

// TestDistroKernelScenarios runs every seed scenario on Debian's own
// prebuilt 6.12 cloud kernel, fetched into an empty cache as a clean
// machine would: all pass, except the vermagic scenario, whose
// built_for-cell step needs a kernel built from source (SKIP, naming the
// step), and the KUnit example, which requires KUNIT (Debian's kernel has
// none). The distribution's configuration shows in what the agent saw:
// MODULE_SIG without MODULE_SIG_FORCE taints an unsigned module E beside
// O, MODULE_FORCE_UNLOAD removes a module without exit (taint R), and
// under MODVERSIONS a module built for another LOCALVERSION of the
// headers loads (its release is not compared).
func TestDistroKernelScenarios(t *testing.T) {
	requireDistroTools(t)
	ctx := testContext(t, 30*time.Minute)
	cache := t.TempDir()
	m, err := matrix.New(ctx,
		matrix.WithRepo(repoRoot(t)),
		matrix.WithCache(cache),
		matrix.WithOut(t.TempDir()),
		matrix.WithKernels(), // no source kernels: only the prebuilt one
		matrix.WithPrebuilt("debian-cloud-6.12"),
	)
	require.NoError(t, err)
	require.Len(t, m.Units(), 1)
	require.Equal(t, "debian-cloud", m.Units()[0].Cell)

	res, err := m.Run(ctx)
	require.NoError(t, err)
	require.Len(t, res.Cells, 1)
	cell := res.Cells[0]
	require.Empty(t, cell.Error)
	assert.True(t, strings.HasPrefix(cell.Kernel, "6.12."), cell.Kernel)

	byName := map[string]report.ScenarioResult{}
	for _, r := range res.Results {
		byName[r.Scenario] = r
		switch r.Scenario {
		case "vermagic":
			assert.Equal(t, verdict.Skip, r.Verdict, r.Reason)
			assert.Regexp(t, `modules/vermagic/scenario\.yaml:\d+: built_for cell unload needs a kernel built from source`, r.Reason)
		case "kunit-example":
			assert.Equal(t, verdict.Skip, r.Verdict, r.Reason)
			assert.Contains(t, r.Reason, "requires KUNIT")
		case "signature":
			// Debian signs its modules with its own key, which we do not have.
			assert.Equal(t, verdict.Skip, r.Verdict, r.Reason)
			assert.Contains(t, r.Reason, "requires MODULE_SIG_ALL")
		default:
			assert.Equal(t, verdict.Pass, r.Verdict, "%s on %s %s: %s", r.Scenario, r.Kernel, r.Cell, r.Reason)
		}
	}
	require.Contains(t, byName, "hello")
	require.Contains(t, byName, "noexit")
	require.Contains(t, byName, "localversion")

	const taintR, taintO, taintE = 1 << 3, 1 << 12, 1 << 13
	load := stepOf(t, byName["hello"], "load", false, 0)
	assert.Equal(t, uint64(taintO|taintE), load.TaintAfter, "an unsigned out-of-tree module taints O and E")
	assert.Contains(t, load.ProcModules, "(OE)")
	assert.Contains(t, strings.Join(load.Kmsg, "\n"), "module verification failed")
	force := stepOf(t, byName["noexit"], "unload", true, 0)
	assert.Equal(t, "", force.Errno, "MODULE_FORCE_UNLOAD=y: O_TRUNC removes a module without exit")
	assert.Equal(t, uint64(taintO|taintE|taintR), force.TaintAfter&(taintO|taintE|taintR))
	// Debian's kernel has MODULE_COMPRESS_XZ and MODULE_DECOMPRESS: it
	// unpacks a .ko.xz itself.
	assert.Equal(t, "", stepOf(t, byName["compressed"], "load", false, 0).Errno, "xz, unpacked by the kernel")
	assert.Equal(t, "EINVAL", stepOf(t, byName["namespace"], "load", false, 2).Errno, "a missing namespace import")
	// The kernel's request_module runs the guest's modprobe over the
	// index depmod made on the host, also for Debian's release.
	assert.True(t, contains(stepOf(t, byName["autoload"], "load", false, 0).Kmsg,
		`autoload_request: request_module("modmatrix-autoload-alias") = 0`), "autoload by alias")
	lv := stepOf(t, byName["localversion"], "load", false, 0)
	assert.Equal(t, "", lv.Errno, "MODVERSIONS: the release in vermagic is not compared")
	assert.Contains(t, lv.ProcModules, "Live")

	// The packages came into the cache, unpacked with their links pointing
	// inside it.
	entries, err := filepath.Glob(filepath.Join(cache, "distro", "linux-image-6.12.*-cloud-amd64_*", "manifest.json"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	var man struct {
		Packages []string `json:"packages"`
		Headers  string   `json:"headers"`
		Vmlinuz  string   `json:"vmlinuz"`
		Config   string   `json:"config"`
	}
	data, err := os.ReadFile(entries[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &man))
	assert.Len(t, man.Packages, 4, "image, headers, common headers, kbuild: %v", man.Packages)
	entry := filepath.Dir(entries[0])
	scripts, err := os.Readlink(filepath.Join(entry, man.Headers, "scripts"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(scripts, entry+"/"), scripts)

	// The general form, through the CLI: the same kernel as files on disk.
	t.Run("files", func(t *testing.T) {
		out := t.TempDir()
		spec := "vmlinuz=" + filepath.Join(entry, man.Vmlinuz) + ",headers=" + filepath.Join(entry, man.Headers) +
			",config=" + filepath.Join(entry, man.Config) + ",cell=cloud-files"
		cmd := exec.CommandContext(ctx, modmatrixBin(t), "run", "--kernel", spec, "--scenarios", "hello,noexit",
			"--cache", cache, "--out", out, "-q")
		cmd.Dir = repoRoot(t)
		text, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", text)
		assert.Regexp(t, `hello\s+PASS`, string(text))
		assert.Regexp(t, `noexit\s+PASS`, string(text))
		got, err := report.Read(filepath.Join(out, "results.json"))
		require.NoError(t, err)
		require.Len(t, got.Cells, 1)
		assert.Equal(t, "cloud-files", got.Cells[0].Cell)
	})
}

// TestDistroModularVirtio: Debian's 6.1 cloud kernel builds VIRTIO_PCI and
// VIRTIO_CONSOLE as modules, which the agent's ports need. Its guest loads
// them from the package (virtio, virtio_ring, the PCI transport's helpers,
// then virtio_pci and virtio_console, in modinfo's dependency order)
// before the agent starts, and every seed scenario runs on it as on the
// 6.12 cloud kernel, which builds them in.
func TestDistroModularVirtio(t *testing.T) {
	ctx, m := prebuiltMatrix(t, "debian-cloud-6.1")
	k := m.Prebuilt()[0].Kernel
	assert.Equal(t, "m", k.Config.Value("VIRTIO_CONSOLE"), "the kernel this test is about")
	var names []string
	for _, ko := range k.BootModules {
		names = append(names, filepath.Base(ko))
	}
	require.NotEmpty(t, names)
	assert.Equal(t, "virtio_console.ko", names[len(names)-1], "each module after what it needs: %v", names)
	assert.Less(t, slices.Index(names, "virtio.ko"), slices.Index(names, "virtio_pci.ko"), "%v", names)

	res, err := m.Run(ctx)
	require.NoError(t, err)
	require.Len(t, res.Cells, 1)
	require.Empty(t, res.Cells[0].Error)
	assert.True(t, strings.HasPrefix(res.Cells[0].Kernel, "6.1."), res.Cells[0].Kernel)
	for _, r := range res.Results {
		switch r.Scenario {
		case "vermagic", "kunit-example", "signature":
			assert.Equal(t, verdict.Skip, r.Verdict, "%s: %s", r.Scenario, r.Reason)
		default:
			assert.Equal(t, verdict.Pass, r.Verdict, "%s on %s %s: %s", r.Scenario, r.Kernel, r.Cell, r.Reason)
		}
	}
}

// TestDistroGenericKernel: Debian's generic 6.12 amd64 kernel (not the
// cloud one: xz-compressed modules, MODULE_SIG without FORCE, virtio
// built in), as a user reproducing a report filed against it names it.
// A few scenarios that read its configuration; make run's default set of
// them all passes there too (measured: every seed scenario but the three
// that skip on the cloud kernels).
func TestDistroGenericKernel(t *testing.T) {
	ctx, m := prebuiltMatrix(t, "debian-amd64-6.12", "hello", "noexit", "compressed", "modversions", "unsigned")
	require.Equal(t, "debian-amd64", m.Units()[0].Cell)
	assert.Contains(t, m.Prebuilt()[0].Packages[0], "-amd64=", "the generic image package")
	assert.NotContains(t, m.Prebuilt()[0].Packages[0], "cloud")
	res, err := m.Run(ctx)
	require.NoError(t, err)
	require.Len(t, res.Cells, 1)
	require.Empty(t, res.Cells[0].Error)
	for _, r := range res.Results {
		assert.Equal(t, verdict.Pass, r.Verdict, "%s on %s %s: %s", r.Scenario, r.Kernel, r.Cell, r.Reason)
	}
}

// prebuiltMatrix is the matrix of one Debian kernel (--kernel spec) alone,
// on the shared cache (the package is downloaded once a machine), with
// the scenarios named (none: all).
func prebuiltMatrix(t *testing.T, spec string, scenarios ...string) (context.Context, *matrix.Matrix) {
	t.Helper()
	requireDistroTools(t)
	ctx := testContext(t, 30*time.Minute)
	m, err := matrix.New(ctx,
		matrix.WithRepo(repoRoot(t)),
		matrix.WithCache(cacheDir()),
		matrix.WithOut(keptOnFailure(t)),
		matrix.WithKernels(),
		matrix.WithPrebuilt(spec),
		matrix.WithScenarios(scenarios...),
	)
	require.NoError(t, err)
	return ctx, m
}
