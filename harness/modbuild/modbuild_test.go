package modbuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
)

// fakeKbuild is a "kernel source" whose Makefile stands in for kbuild's
// external module build: it compiles an object carrying a .modinfo section
// into $(M)/hello.ko (and into each subdirectory's, for a Prebuild run), or
// fails like a compiler when a module says so.
const fakeKbuild = `modules:
	@test -f $(O)/.config || { echo "no O= tree"; exit 2; }
	@for d in $(M) $(wildcard $(M)/*/); do \
		test -f $$d/hello.c || continue; \
		if grep -q BROKEN $$d/hello.c; then echo "$$d/hello.c:3:9: error: expected ';' before '}' token"; exit 2; fi; \
		printf 'const char m[] __attribute__((section(".modinfo"), used)) = "license=GPL\\0vermagic=6.12.117 mod_unload ";\n' > $$d/fake.c; \
		gcc -c -o $$d/hello.ko $$d/fake.c || exit 2; \
	done
	@echo built >> $(O)/../../builds
	@echo '$(KBUILD_EXTRA_SYMBOLS)' > $(M)/extra
`

type fixture struct {
	src, mod, cache string
	k               *kbuild.Kernel
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("needs gcc")
	}
	f := &fixture{src: t.TempDir(), mod: filepath.Join(t.TempDir(), "hello"), cache: t.TempDir()}
	require.NoError(t, os.WriteFile(filepath.Join(f.src, "Makefile"), []byte(fakeKbuild), 0o644))
	kdir := filepath.Join(f.cache, "kernels", "key1")
	require.NoError(t, os.MkdirAll(kdir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(kdir, ".config"), []byte("CONFIG_MODULES=y\n"), 0o644))
	f.k = &kbuild.Kernel{Key: "key1", Dir: kdir, Version: "6.12.117", Release: "6.12.117", Cell: "unload",
		Config: kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y"}}
	f.write(t, "hello.c", "int x;\n")
	f.write(t, "Kbuild", "obj-m := hello.o\n")
	f.write(t, "scenario.yaml", "steps: []\n")
	return f
}

func (f *fixture) write(t *testing.T, name, text string) {
	t.Helper()
	p := filepath.Join(f.mod, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
}

func (f *fixture) builds(t *testing.T) int {
	data, err := os.ReadFile(filepath.Join(f.cache, "builds"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(data), "built")
}

func listDir(t *testing.T, dir string) []string {
	var names []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		names = append(names, rel)
		return err
	}))
	return names
}

func TestBuild(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before := listDir(t, f.mod)

	r, err := Build(ctx, f.k, f.src, f.mod)
	require.NoError(t, err)
	assert.False(t, r.Cached)
	assert.Equal(t, filepath.Join(f.cache, "modules", "key1"), filepath.Dir(r.Dir), "next to the kernel's cache")
	assert.Regexp(t, `^hello-[0-9a-f]{16}$`, filepath.Base(r.Dir))
	assert.Equal(t, map[string]string{"hello": filepath.Join(r.Dir, "hello.ko")}, r.Modules)
	assert.Equal(t, "6.12.117 mod_unload ", r.Vermagic)
	assert.Equal(t, before, listDir(t, f.mod), "the user's module folder is not written to")
	assert.NoFileExists(t, filepath.Join(r.Dir, "scenario.yaml"), "scenarios are not build inputs")
	ents, err := os.ReadDir(filepath.Dir(r.Dir))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary directory left")

	r2, err := Build(ctx, f.k, f.src, f.mod)
	require.NoError(t, err)
	assert.True(t, r2.Cached)
	assert.Equal(t, r.Dir, r2.Dir)

	f.write(t, "scenario.yaml", "steps: [changed]\n")
	r3, err := Build(ctx, f.k, f.src, f.mod)
	require.NoError(t, err)
	assert.True(t, r3.Cached, "a scenario edit does not rebuild")
	assert.Equal(t, 1, f.builds(t))

	f.write(t, "hello.c", "int y;\n")
	r4, err := Build(ctx, f.k, f.src, f.mod)
	require.NoError(t, err)
	assert.False(t, r4.Cached)
	assert.NotEqual(t, r.Dir, r4.Dir)

	other := *f.k
	other.Key = "key2"
	r5, err := Build(ctx, &other, f.src, f.mod, WithCache(t.TempDir()))
	require.NoError(t, err)
	assert.Contains(t, r5.Dir, filepath.Join("modules", "key2"))
	assert.Equal(t, 3, f.builds(t))
}

// TestBuildExtraSymbols: another folder's Module.symvers goes to modpost,
// and its symbols (not the temporary path its module was built in) are
// part of the build's key.
func TestBuildExtraSymbols(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	symvers := filepath.Join(t.TempDir(), "Module.symvers")
	write := func(line string) {
		require.NoError(t, os.WriteFile(symvers, []byte(line), 0o644))
	}
	write("0x91ae8f5b\tlib_answer\t/cache/.tmp-lib-1/lib\tEXPORT_SYMBOL_GPL\t\n")
	r, err := Build(ctx, f.k, f.src, f.mod, WithExtraSymbols(symvers))
	require.NoError(t, err)
	extra, err := os.ReadFile(filepath.Join(r.Dir, "extra"))
	require.NoError(t, err)
	assert.Equal(t, symvers+"\n", string(extra))

	write("0x91ae8f5b\tlib_answer\t/cache/.tmp-lib-2/lib\tEXPORT_SYMBOL_GPL\t\n")
	again, err := Build(ctx, f.k, f.src, f.mod, WithExtraSymbols(symvers))
	require.NoError(t, err)
	assert.True(t, again.Cached, "the library rebuilt in another folder: same symbols")

	write("0x12345678\tlib_answer\t/cache/.tmp-lib-2/lib\tEXPORT_SYMBOL_GPL\t\n")
	changed, err := Build(ctx, f.k, f.src, f.mod, WithExtraSymbols(symvers))
	require.NoError(t, err)
	assert.False(t, changed.Cached, "another CRC: built again")

	write("0x12345678\tlib_answer\t/cache/.tmp-lib-2/otherlib\tEXPORT_SYMBOL_GPL\t\n")
	renamed, err := Build(ctx, f.k, f.src, f.mod, WithExtraSymbols(symvers))
	require.NoError(t, err)
	assert.False(t, renamed.Cached, "another exporting module: another depends=, built again")
}

func TestBuildConcurrent(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	rs := make([]*Result, 4)
	errs := make([]error, 4)
	for i := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i], errs[i] = Build(context.Background(), f.k, f.src, f.mod)
		}()
	}
	wg.Wait()
	for i := range rs {
		require.NoError(t, errs[i])
		assert.Equal(t, rs[0].Dir, rs[i].Dir)
		assert.FileExists(t, rs[i].Modules["hello"])
	}
	ents, err := os.ReadDir(filepath.Dir(rs[0].Dir))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "losers' temporary directories are removed")
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fixture)
		is      error
		wantErr []string
	}{
		{
			name:    "compile error names module and kernel, shows compiler output",
			setup:   func(t *testing.T, f *fixture) { f.write(t, "hello.c", "int x\nBROKEN\n") },
			wantErr: []string{"module hello for linux 6.12.117 (cell unload, release 6.12.117, kernel key1)", "hello.c:3:9: error: expected ';'", "--- compiler output ---"},
		},
		{
			name: "MODULES=n",
			setup: func(t *testing.T, f *fixture) {
				f.k.Config = kconfig.Config{"MODULES": "n"}
				f.k.Cell = "modules-off"
			},
			is:      ErrModulesDisabled,
			wantErr: []string{"module hello for linux 6.12.117 (cell modules-off): kernel has CONFIG_MODULES disabled"},
		},
		{
			name: "empty folder",
			setup: func(t *testing.T, f *fixture) {
				for _, n := range []string{"hello.c", "Kbuild", "scenario.yaml"} {
					require.NoError(t, os.Remove(filepath.Join(f.mod, n)))
				}
			},
			wantErr: []string{"module hello: no source files in"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(t, f)
			_, err := Build(context.Background(), f.k, f.src, f.mod)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), ".tmp-", "paths of the temporary copy are stripped")
		})
	}
}

func TestInputs(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{
		"hello.c", "hello.h", "Kbuild", "Makefile", "sub/part.c", "sub/Kbuild",
		"scenario.yaml", "README.md", "notes.txt",
		"hello.o", "hello.ko", "hello.mod", "hello.mod.c", "hello.mod.o", "modules.order", "Module.symvers",
		".hello.o.cmd", ".git/config",
	} {
		p = filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(p), 0o644))
	}
	got, err := inputs(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"Kbuild", "Makefile", "hello.c", "hello.h", "sub/Kbuild", "sub/part.c"}, got)
}

func TestModuleName(t *testing.T) {
	for ko, want := range map[string]string{
		"/x/hello.ko": "hello", "dep-a.ko": "dep_a", "a_b.ko": "a_b",
	} {
		assert.Equal(t, want, ModuleName(ko), ko)
	}
}

// TestUndefinedSymbols: modpost's refusal, as 6.1 and 6.12 print it, names
// the imports nothing exported.
func TestUndefinedSymbols(t *testing.T) {
	for _, v := range []string{"6.1", "6.12"} {
		out, err := os.ReadFile("testdata/modpost-undefined-" + v)
		require.NoError(t, err)
		assert.Equal(t, []string{"byom_lib_answer"}, undefinedSymbols(string(out)), v)
	}
	assert.Empty(t, undefinedSymbols("broken.c:7:9: error: 'undeclared_thing' undeclared"))
}

// TestPrebuild: the folders missing from the cache build in one run, and
// Build finds them there; a run that fails publishes nothing, leaving each
// folder to Build alone; a folder that sets a build variable is left out.
func TestPrebuild(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	folder := func(name, source, kbuildFile string) string {
		dir := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.c"), []byte(source), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Kbuild"), []byte(kbuildFile), 0o644))
		return dir
	}
	a := folder("a", "int a;\n", "obj-m := hello.o\n")
	b := folder("b", "int b;\n", "obj-m := hello.o\n")
	own := folder("own", "int c;\n", "obj-m := hello.o\nCONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS := y\n")

	Prebuild(ctx, f.k, f.src, []string{a, b, f.mod, own, a})
	assert.Equal(t, 1, f.builds(t), "one run for the three")
	for _, d := range []string{a, b, f.mod} {
		r, err := Build(ctx, f.k, f.src, d)
		require.NoError(t, err)
		assert.True(t, r.Cached, d)
		assert.Regexp(t, `^`+filepath.Base(d)+`-[0-9a-f]{16}$`, filepath.Base(r.Dir))
		assert.FileExists(t, r.Modules["hello"])
	}
	r, err := Build(ctx, f.k, f.src, own)
	require.NoError(t, err)
	assert.False(t, r.Cached, "built alone")
	ents, err := os.ReadDir(filepath.Join(f.cache, "modules", "key1"))
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.Len(t, names, 5, "the four entries and Prebuild's lock, no temporary: %v", names)
	assert.Contains(t, names, "prebuild.lock")

	Prebuild(ctx, f.k, f.src, []string{a, b})
	assert.Equal(t, 2, f.builds(t), "all there: no run")

	// Two at once (cells sharing a kernel, two runs): one run builds, the
	// other finds the entries published when it gets the lock.
	c := folder("c", "int e;\n", "obj-m := hello.o\n")
	d := folder("d", "int f;\n", "obj-m := hello.o\n")
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); Prebuild(ctx, f.k, f.src, []string{c, d}) }()
	}
	wg.Wait()
	assert.Equal(t, 3, f.builds(t), "one run for both")

	broken := folder("broken", "BROKEN\n", "obj-m := hello.o\n")
	fine := folder("fine", "int d;\n", "obj-m := hello.o\n")
	Prebuild(ctx, f.k, f.src, []string{broken, fine})
	r, err = Build(ctx, f.k, f.src, fine)
	require.NoError(t, err)
	assert.False(t, r.Cached, "a failed run publishes nothing")
	_, err = Build(ctx, f.k, f.src, broken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hello.c:3:9: error", "Build gives the folder's own error")
}
