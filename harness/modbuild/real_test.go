package modbuild_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/modbuild"
)

// realKernels is what the opt-in tests build from: the user's cache, the
// 6.12 source and the cells of kconfigs/.
func realKernels(t *testing.T) (context.Context, string, *ksrc.Source, *kconfig.Fragment, []kconfig.Cell) {
	t.Helper()
	if os.Getenv("MODMATRIX_KERNEL_TESTS") != "1" {
		t.Skip("set MODMATRIX_KERNEL_TESTS=1 to build real kernels")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	t.Cleanup(cancel)
	dir := kbuild.DefaultCacheDir()
	src, err := ksrc.Debian(ctx, dir, "6.12")
	require.NoError(t, err)
	base, cells, err := kconfig.LoadCells("../../kconfigs")
	require.NoError(t, err)
	return ctx, dir, src, base, cells
}

// TestRealKernels builds every cell of kconfigs/ on 6.12 in the user's
// cache (about 10 minutes on a cold cache with 2 cores, seconds warm) and
// hello.ko against each. Opt in with MODMATRIX_KERNEL_TESTS=1.
func TestRealKernels(t *testing.T) {
	ctx, dir, src, base, cells := realKernels(t)
	cache := kbuild.NewCache(dir)

	// The module options in vermagic; MODULE_FORCE_UNLOAD is not one of them.
	vermagic := map[string]string{"unload": "mod_unload ", "force-unload": "mod_unload ", "unload-off": ""}
	for _, c := range cells {
		var stages []string
		start := time.Now()
		k, err := cache.Kernel(ctx, src, c.Name, c.Frags(base), kbuild.WithJobs(2),
			kbuild.WithProgress(func(s string) { stages = append(stages, s); t.Logf("%s: %s", c.Name, s) }))
		require.NoError(t, err)
		t.Logf("%s: %s key %s cached=%v in %v (entry build time %v)", c.Name, k.Release, k.Key[:12], k.Cached, time.Since(start), k.BuildTime)
		assert.FileExists(t, k.Vmlinux)
		assert.FileExists(t, k.BzImage)
		assert.NoError(t, kconfig.Validate(k.Config, c.Frags(base)...))

		r, err := modbuild.Build(ctx, k, src.Dir, "../../modules/hello")
		if !k.Modules() {
			assert.ErrorIs(t, err, modbuild.ErrModulesDisabled)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, k.Release+" "+vermagic[c.Name], r.Vermagic)
		assert.FileExists(t, r.Modules["hello"])
		assert.FileExists(t, filepath.Join(k.Dir, "Module.symvers"))

		broken := filepath.Join(t.TempDir(), "broken")
		require.NoError(t, os.MkdirAll(broken, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(broken, "Kbuild"), []byte("obj-m := broken.o\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(broken, "broken.c"), []byte("#include <linux/module.h>\nint f(void) { return 0 }\nMODULE_LICENSE(\"GPL\");\n"), 0o644))
		_, err = modbuild.Build(ctx, k, src.Dir, broken)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "module broken for linux 6.12.117 (cell "+c.Name+", release 6.12.117")
		assert.Contains(t, err.Error(), "broken.c:2:")
		assert.NotContains(t, err.Error(), ".tmp-")
		t.Logf("compile error as reported:\n%v", err)
	}
}

// TestPrebuildReal builds every folder under modules/ that the unload cell
// links (all but the KUnit one) against 6.12 in one Kbuild run, and checks
// that Build then finds each, as it would have built it alone: the same
// modules and vermagic, a folder's exports in its own Module.symvers.
// Opt in with MODMATRIX_KERNEL_TESTS=1 (the kernel comes from the user's
// cache; about 5 minutes cold, 40 s warm).
func TestPrebuildReal(t *testing.T) {
	ctx, dir, src, base, cells := realKernels(t)
	var k *kbuild.Kernel
	var err error
	for _, c := range cells {
		if c.Name == "unload" {
			k, err = kbuild.NewCache(dir).Kernel(ctx, src, c.Name, c.Frags(base))
			require.NoError(t, err)
		}
	}
	require.NotNil(t, k)
	folders, err := filepath.Glob("../../modules/*")
	require.NoError(t, err)
	folders = slices.DeleteFunc(folders, func(d string) bool { return filepath.Base(d) == "kunit-example" })
	var single []string // set a variable that only the top folder's Kbuild file can
	for _, d := range folders {
		if data, _ := os.ReadFile(filepath.Join(d, "Kbuild")); bytes.Contains(data, []byte("CONFIG_")) {
			single = append(single, d)
		}
	}
	assert.Equal(t, []string{"../../modules/namespace"}, single)
	cache := t.TempDir()

	start := time.Now()
	modbuild.Prebuild(ctx, k, src.Dir, folders, modbuild.WithCache(cache))
	t.Logf("prebuilt %d folders in %v", len(folders), time.Since(start))
	for _, d := range folders {
		r, err := modbuild.Build(ctx, k, src.Dir, d, modbuild.WithCache(cache))
		require.NoError(t, err, d)
		assert.Equal(t, !slices.Contains(single, d), r.Cached, "%s: prebuilt", d)
		assert.Equal(t, k.Release+" mod_unload ", r.Vermagic, d)
	}
	dep, err := modbuild.Build(ctx, k, src.Dir, "../../modules/dependency", modbuild.WithCache(cache))
	require.NoError(t, err)
	symvers, err := os.ReadFile(dep.Symvers)
	require.NoError(t, err)
	assert.Contains(t, string(symvers), "\tdep_a_answer\t"+filepath.Join(dep.Dir, "dep_a")+"\t")
	assert.NotContains(t, string(symvers), "autoload", "only the folder's own exports")

	alone, err := modbuild.Build(ctx, k, src.Dir, "../../modules/warn-init", modbuild.WithCache(t.TempDir()))
	require.NoError(t, err)
	batched, err := modbuild.Build(ctx, k, src.Dir, "../../modules/warn-init", modbuild.WithCache(cache))
	require.NoError(t, err)
	for name, ko := range alone.Modules {
		a, err := os.ReadFile(ko)
		require.NoError(t, err)
		b, err := os.ReadFile(batched.Modules[name])
		require.NoError(t, err)
		// __FILE__, which WARN() prints, is the bare file name either way.
		assert.Equal(t, bytes.Contains(a, []byte("warn_init.c")), bytes.Contains(b, []byte("warn_init.c")))
		assert.NotContains(t, string(b), "prebuild", "no temporary path in the module")
	}
}
