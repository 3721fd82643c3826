package kbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

func frag(t *testing.T, path, text string) *kconfig.Fragment {
	t.Helper()
	f, err := kconfig.ParseFragmentData(path, []byte(text))
	require.NoError(t, err)
	return f
}

func TestKeys(t *testing.T) {
	base := []*kconfig.Fragment{frag(t, "base.config", "CONFIG_PRINTK=y\n"), frag(t, "unload.config", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n")}
	ref := fragKey("src-1", Arch, "gcc 12", base)
	tests := []struct {
		name  string
		key   string
		equal bool
	}{
		{"same inputs", fragKey("src-1", Arch, "gcc 12", []*kconfig.Fragment{
			frag(t, "elsewhere/base.config", "# comments do not matter\nCONFIG_PRINTK=y\n"),
			frag(t, "other-name.config", "CONFIG_MODULES=y\n\nCONFIG_MODULE_UNLOAD=y\n"),
		}), true},
		{"fragment value", fragKey("src-1", Arch, "gcc 12", []*kconfig.Fragment{base[0], frag(t, "u", "CONFIG_MODULES=y\n# CONFIG_MODULE_UNLOAD is not set\n")}), false},
		{"fragment order", fragKey("src-1", Arch, "gcc 12", []*kconfig.Fragment{base[1], base[0]}), false},
		{"source", fragKey("src-2", Arch, "gcc 12", base), false},
		{"compiler", fragKey("src-1", Arch, "gcc 13", base), false},
		{"arch", fragKey("src-1", "arm64", "gcc 12", base), false},
	}
	for _, tt := range tests {
		t.Run("config/"+tt.name, func(t *testing.T) {
			assert.Equal(t, tt.equal, tt.key == ref)
		})
	}

	cfg := []byte("CONFIG_MODULES=y\n# CONFIG_MODULE_UNLOAD is not set\n")
	kref := kernelKey("src-1", Arch, "gcc 12", cfg)
	ktests := []struct {
		name  string
		key   string
		equal bool
	}{
		{"same inputs", kernelKey("src-1", Arch, "gcc 12", append([]byte(nil), cfg...)), true},
		{"config", kernelKey("src-1", Arch, "gcc 12", []byte("CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n")), false},
		{"source", kernelKey("src-2", Arch, "gcc 12", cfg), false},
		{"compiler", kernelKey("src-1", Arch, "gcc 13", cfg), false},
		{"field boundaries", kernelKey("src-1"+Arch, "", "gcc 12", cfg), false},
	}
	for _, tt := range ktests {
		t.Run("kernel/"+tt.name, func(t *testing.T) {
			assert.Equal(t, tt.equal, tt.key == kref)
		})
	}
	assert.NotEqual(t, ref, kref)
	assert.Regexp(t, `^[0-9a-f]{32}$`, kref)
}

// fake replaces compiler, resolve and build so that Kernel runs no make.
type fake struct {
	builds  atomic.Int32
	bases   []string // job.base of each build
	mu      sync.Mutex
	buildFn func(*job) error // optional failure injection
	delay   time.Duration
}

func newTestCache(t *testing.T, f *fake) *Cache {
	t.Helper()
	c := NewCache(t.TempDir())
	c.compiler = func(context.Context) (string, error) { return "gcc (fake) 12", nil }
	// The "resolved" config is the fragments' entries, later ones winning.
	c.resolve = func(ctx context.Context, srcDir, objDir string, frags []*kconfig.Fragment, opts ...kconfig.Option) (kconfig.Config, error) {
		// Rendered sorted, as Kconfig writes symbols in a fixed order.
		cfg := kconfig.Config{}
		for _, fr := range frags {
			for _, e := range fr.Entries {
				cfg[e.Symbol] = e.Value
			}
		}
		if err := os.MkdirAll(objDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(objDir, ".config"), renderConfig(cfg), 0o644); err != nil {
			return nil, err
		}
		return cfg, kconfig.Validate(cfg, frags...)
	}
	c.build = func(ctx context.Context, j *job) error {
		f.builds.Add(1)
		f.mu.Lock()
		f.bases = append(f.bases, j.base)
		f.mu.Unlock()
		time.Sleep(f.delay)
		fmt.Fprintf(j.log, "  CC      kernel/module/main.o\n")
		if f.buildFn != nil {
			if err := f.buildFn(j); err != nil {
				return err
			}
		}
		files := map[string]string{
			".config":                             string(j.config),
			"vmlinux":                             "ELF",
			"arch/x86/boot/bzImage":               "bz",
			"include/config/kernel.release":       "6.12.117-00001-gabcdef012345\n", // a LOCALVERSION_AUTO tree
			"include/config/auto.conf":            "",
			"built-from-" + filepath.Base(j.base): "",
		}
		for p, text := range files {
			p = filepath.Join(j.dir, p)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
	return c
}

func renderConfig(cfg kconfig.Config) []byte {
	var lines []string
	for sym, v := range cfg {
		lines = append(lines, kconfig.Entry{Symbol: sym, Value: v}.String())
	}
	sort.Strings(lines)
	return []byte(strings.Join(lines, "\n") + "\n")
}

var testSrc = &ksrc.Source{Dir: "/nonexistent/linux", Version: "6.12.117", Series: "6.12", ID: "test-source-1"}

type cellSet struct {
	t    *testing.T
	base *kconfig.Fragment
}

func (s cellSet) frags(name, text string) []*kconfig.Fragment {
	return []*kconfig.Fragment{s.base, frag(s.t, "kconfigs/"+name+".config", text)}
}

func TestKernelMissThenHit(t *testing.T) {
	f := &fake{}
	c := newTestCache(t, f)
	cs := cellSet{t, frag(t, "kconfigs/base.config", "CONFIG_PRINTK=y\n")}
	ctx := context.Background()

	var stages []string
	progress := WithProgress(func(s string) { stages = append(stages, s) })
	k, err := c.Kernel(ctx, testSrc, "unload", cs.frags("unload", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n"), progress)
	require.NoError(t, err)
	assert.Equal(t, []string{"configure", "build"}, stages)
	assert.False(t, k.Cached)
	assert.Equal(t, filepath.Join(c.Dir, "kernels", k.Key), k.Dir)
	assert.Equal(t, "6.12.117-00001-gabcdef012345", k.Release, "the built tree's kernel.release, not the source's version")
	assert.Equal(t, "6.12.117", k.Version)
	assert.Equal(t, "unload", k.Cell)
	assert.Equal(t, filepath.Join(k.Dir, "vmlinux"), k.Vmlinux)
	require.Equal(t, filepath.Join(k.Dir, "modmatrix-build.log"), k.BuildLog, "make's output stays with the tree")
	log, err := os.ReadFile(k.BuildLog)
	require.NoError(t, err)
	assert.Equal(t, "  CC      kernel/module/main.o\n", string(log))
	assert.Equal(t, filepath.Join(k.Dir, "arch/x86/boot/bzImage"), k.BzImage)
	assert.Equal(t, "y", k.Config.Value("MODULE_UNLOAD"))
	assert.True(t, k.Modules())
	assert.FileExists(t, filepath.Join(k.Dir, manifestName))
	assert.EqualValues(t, 1, f.builds.Load())

	// No stage, no temporary directories left behind.
	ents, err := os.ReadDir(filepath.Join(c.Dir, "kernels"))
	require.NoError(t, err)
	for _, e := range ents {
		if e.IsDir() {
			assert.Equal(t, k.Key, e.Name())
		}
	}
	ents, err = os.ReadDir(filepath.Join(c.Dir, "configs"))
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), ".tmp-"), e.Name())
	}

	// Same cell again, and a cell with the same effective config: hits.
	stages = nil
	k2, err := c.Kernel(ctx, testSrc, "unload", cs.frags("unload", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n"), progress)
	require.NoError(t, err)
	assert.Equal(t, []string{"cached"}, stages)
	assert.True(t, k2.Cached)
	assert.Equal(t, k.Key, k2.Key)

	stages = nil
	k3, err := c.Kernel(ctx, testSrc, "unload-copy", cs.frags("unload-copy", "CONFIG_MODULE_UNLOAD=y\nCONFIG_MODULES=y\n"), progress)
	require.NoError(t, err)
	assert.Equal(t, []string{"configure", "cached"}, stages, "different fragment text, same resolved config")
	assert.Equal(t, k.Key, k3.Key)
	assert.Equal(t, "unload-copy", k3.Cell)
	assert.EqualValues(t, 1, f.builds.Load())

	// A new source ID is a new kernel.
	other := *testSrc
	other.ID = "test-source-2"
	k4, err := c.Kernel(ctx, &other, "unload", cs.frags("unload", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n"))
	require.NoError(t, err)
	assert.NotEqual(t, k.Key, k4.Key)
	assert.EqualValues(t, 2, f.builds.Load())
	assert.Equal(t, []string{"", ""}, f.bases, "no tree of source 2 to start from")
}

func TestKernelIncremental(t *testing.T) {
	f := &fake{}
	c := newTestCache(t, f)
	cs := cellSet{t, frag(t, "kconfigs/base.config", "CONFIG_PRINTK=y\n")}
	ctx := context.Background()

	unload, err := c.Kernel(ctx, testSrc, "unload", cs.frags("unload", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n# CONFIG_MODULE_FORCE_UNLOAD is not set\n"))
	require.NoError(t, err)
	off, err := c.Kernel(ctx, testSrc, "modules-off", cs.frags("modules-off", "# CONFIG_MODULES is not set\n"))
	require.NoError(t, err)
	assert.False(t, off.Modules())

	var stages []string
	force, err := c.Kernel(ctx, testSrc, "force-unload", cs.frags("force-unload", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n"),
		WithProgress(func(s string) { stages = append(stages, s) }))
	require.NoError(t, err)
	assert.Equal(t, []string{"configure", "build (incremental from " + unload.Key[:12] + "/unload, 1 symbols differ)"}, stages)
	assert.Equal(t, []string{"", unload.Dir, unload.Dir}, f.bases,
		"modules-off starts from unload (the only tree); force-unload from unload (1 symbol) rather than modules-off (3)")
	assert.FileExists(t, filepath.Join(force.Dir, "built-from-"+unload.Key))
	m, err := readManifest(force.Dir)
	require.NoError(t, err)
	assert.Equal(t, unload.Key, m.From)
}

func TestNearest(t *testing.T) {
	c := newTestCache(t, &fake{})
	src := &ksrc.Source{ID: "src", Dir: "/src"}
	entry := func(name, sourceID, cc, config string, complete bool) {
		srcDir := src.Dir
		if name == "other-path" {
			srcDir = "/elsewhere"
		}
		dir := filepath.Join(c.Dir, "kernels", name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".config"), []byte(config), 0o644))
		if complete {
			require.NoError(t, writeManifest(dir, &manifest{Format: formatVersion, Key: name, SourceID: sourceID, SourceDir: srcDir, Compiler: cc, Arch: Arch}))
		}
	}
	want := kconfig.Config{"MODULES": "y", "MODULE_UNLOAD": "y", "MODULE_FORCE_UNLOAD": "y"}
	tests := []struct {
		name    string
		entries func()
		want    string
		diff    int
	}{
		{"empty cache", func() {}, "", 0},
		{"only other sources and compilers", func() {
			entry("a", "other-src", "gcc", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n", true)
			entry("b", "src", "clang", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n", true)
			entry("other-path", "src", "gcc", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n", true)
		}, "", 0},
		{"fewest differences wins", func() {
			entry("far", "src", "gcc", "# CONFIG_MODULES is not set\n", true)
			entry("near", "src", "gcc", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n", true)
		}, "near", 1},
		{"incomplete and staged trees are not candidates", func() {
			entry("far", "src", "gcc", "# CONFIG_MODULES is not set\n", true)
			entry("exact-but-incomplete", "src", "gcc", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n", false)
			entry(".stage-123", "src", "gcc", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n", true)
		}, "far", 3},
		{"ties go to the smallest key", func() {
			entry("k2", "src", "gcc", "CONFIG_MODULES=y\n", true)
			entry("k1", "src", "gcc", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\nCONFIG_MODULE_FORCE_UNLOAD=y\nCONFIG_X=y\nCONFIG_Y=y\n", true)
		}, "k1", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.RemoveAll(filepath.Join(c.Dir, "kernels")))
			require.NoError(t, os.MkdirAll(filepath.Join(c.Dir, "kernels"), 0o755))
			tt.entries()
			b := c.nearest(src, "gcc", want, nil, "")
			if tt.want == "" {
				assert.Nil(t, b)
				return
			}
			require.NotNil(t, b)
			assert.Equal(t, tt.want, filepath.Base(b.Dir))
			assert.Equal(t, tt.diff, b.symbols)
		})
	}
}

func TestKernelIgnoresIncompleteEntries(t *testing.T) {
	f := &fake{}
	c := newTestCache(t, f)
	ctx := context.Background()
	frags := []*kconfig.Fragment{frag(t, "base.config", "CONFIG_MODULES=y\n")}
	cfg := renderConfig(kconfig.Config{"MODULES": "y"})
	key := kernelKey(testSrc.ID, Arch, "gcc (fake) 12", cfg)

	// A crashed run's debris: an entry directory without manifest, and a
	// stage with a full tree and even a manifest, but never renamed.
	entry := filepath.Join(c.Dir, "kernels", key)
	require.NoError(t, os.MkdirAll(entry, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(entry, "vmlinux"), []byte("half"), 0o644))
	stage := stagePath(c.Dir, testSrc, "gcc (fake) 12")
	require.NoError(t, os.MkdirAll(stage, 0o755))
	require.NoError(t, writeManifest(stage, &manifest{Format: formatVersion, Key: key, SourceID: testSrc.ID}))

	k, err := c.Kernel(ctx, testSrc, "c", frags)
	require.NoError(t, err)
	assert.False(t, k.Cached)
	assert.Equal(t, key, k.Key)
	assert.EqualValues(t, 1, f.builds.Load())
	assert.NoDirExists(t, stage)
	data, err := os.ReadFile(k.Vmlinux)
	require.NoError(t, err)
	assert.Equal(t, "ELF", string(data))

	// A failed build publishes nothing; the next call builds again.
	f.buildFn = func(*job) error { return errors.New("make: *** [Makefile:1] Error 2") }
	frags2 := []*kconfig.Fragment{frag(t, "kconfigs/broken.config", "CONFIG_MODULES=y\nCONFIG_X=y\n")}
	_, err = c.Kernel(ctx, testSrc, "broken", frags2)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cell broken: build (incremental from "+key[:12])
	assert.Contains(t, err.Error(), "Error 2")
	// make's whole output stays where the error says.
	failed, _ := filepath.Glob(filepath.Join(c.Dir, "kernels", ".failed-*.log"))
	require.Len(t, failed, 1)
	assert.Contains(t, err.Error(), "make's whole output: "+failed[0])
	log, err := os.ReadFile(failed[0])
	require.NoError(t, err)
	assert.Contains(t, string(log), "CC      kernel/module/main.o")
	f.buildFn = nil
	k2, err := c.Kernel(ctx, testSrc, "broken", frags2)
	require.NoError(t, err)
	assert.False(t, k2.Cached)
	assert.NoFileExists(t, failed[0], "a build that succeeds removes its failed log")
	assert.EqualValues(t, 3, f.builds.Load())
}

func TestKernelBuildsOnceUnderConcurrency(t *testing.T) {
	f := &fake{delay: 300 * time.Millisecond}
	c := newTestCache(t, f)
	// A second Cache on the same directory stands in for another process:
	// flock conflicts between separately opened files, even in one process.
	c2 := newTestCache(t, f)
	c2.Dir = c.Dir
	frags := []*kconfig.Fragment{frag(t, "base.config", "CONFIG_MODULES=y\n")}

	const n = 4
	var wg sync.WaitGroup
	ks := make([]*Kernel, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := c
			if i%2 == 1 {
				cc = c2
			}
			ks[i], errs[i] = cc.Kernel(context.Background(), testSrc, "c", frags)
		}()
	}
	wg.Wait()
	cached := 0
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, ks[0].Key, ks[i].Key)
		if ks[i].Cached {
			cached++
		}
	}
	assert.EqualValues(t, 1, f.builds.Load(), "one build for one key")
	assert.Equal(t, n-1, cached)
}

func TestKernelValidationError(t *testing.T) {
	c := newTestCache(t, &fake{})
	c.resolve = func(ctx context.Context, srcDir, objDir string, frags []*kconfig.Fragment, opts ...kconfig.Option) (kconfig.Config, error) {
		cfg := kconfig.Config{"MODULES": "y"}
		return cfg, kconfig.Validate(cfg, frags...)
	}
	_, err := c.Kernel(context.Background(), testSrc, "force-unload",
		[]*kconfig.Fragment{frag(t, "kconfigs/force-unload.config", "CONFIG_MODULES=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n")})
	require.Error(t, err)
	var verr *kconfig.ValidationError
	assert.ErrorAs(t, err, &verr)
	assert.Contains(t, err.Error(), "cell force-unload: configure (linux 6.12.117)")
	assert.Contains(t, err.Error(), `kconfigs/force-unload.config:2: CONFIG_MODULE_FORCE_UNLOAD=y requested, resolved to "n"`)
	ents, _ := os.ReadDir(filepath.Join(c.Dir, "configs"))
	for _, e := range ents {
		assert.False(t, e.IsDir(), "nothing cached for a config that failed validation: %s", e.Name())
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("MODMATRIX_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	assert.Equal(t, "/x/cache/modmatrix", DefaultCacheDir())
	t.Setenv("MODMATRIX_CACHE", "/y")
	assert.Equal(t, "/y", DefaultCacheDir())
}

// TestConfigUsers reads fixdep's records in real .cmd files (testdata): the
// module loader and fork depend on MODULE_UNLOAD, only the loader on
// MODULE_FORCE_UNLOAD, lib/string.o on neither.
func TestConfigUsers(t *testing.T) {
	users, err := readConfigUsers("testdata/cmd-6.12-force-unload")
	require.NoError(t, err)
	assert.Len(t, users["MODULE_UNLOAD"], 2)
	assert.Len(t, users["MODULE_FORCE_UNLOAD"], 1)
	assert.Equal(t, 1, users.rebuildCost([]string{"MODULE_FORCE_UNLOAD"}))
	assert.Equal(t, 2, users.rebuildCost([]string{"MODULE_UNLOAD", "MODULE_FORCE_UNLOAD"}), "an object counts once")
	assert.Equal(t, 2+newSymbolCost, users.rebuildCost([]string{"MODULE_UNLOAD", "NOT_TESTED_ANYWHERE"}))

	// Measured on the whole tree these came from: the unload cell is 1
	// object from force-unload and 593 from unload-off; counting
	// symbols (one each) could not tell the two apart.
	near := &base{symbols: 1, objects: 1}
	far := &base{symbols: 1, objects: 593}
	assert.True(t, near.closer(far))
	assert.False(t, far.closer(near))
	assert.True(t, far.closer(nil))
}

// A resolved config entry records its files' sums last; a hit checks them.
// A damaged entry is a miss, resolved again in place and said so; one an
// older modmatrix wrote without sums is taken as it is.
func TestConfigEntryDamaged(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		hit     bool
		message string // in the progress line; "" for none
	}{
		{"whole", func(*testing.T, string) {}, true, ""},
		{"config truncated", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte("CONFIG_MOD"), 0o644))
		}, false, "damaged: resolved config: config has 10 bytes, the manifest says"},
		{"config altered, same size", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "config")
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			data[len(data)-2] = 'n'
			require.NoError(t, os.WriteFile(p, data, 0o644))
			require.NoError(t, os.Chtimes(p, time.Now(), time.Now().Add(time.Hour))) // not the memo's stamp
		}, false, "damaged: resolved config: config's content is not what was built"},
		{"fragments removed", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "fragments")))
		}, false, "damaged: resolved config: fragments is missing; rebuilding"},
		{"sums unreadable", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, cacheentry.SumsFile), []byte("{"), 0o644))
		}, false, "sums.json: unexpected end of JSON input"},
		{"older modmatrix: no sums", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, cacheentry.SumsFile)))
		}, true, ""},
		{"older modmatrix, config missing", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, cacheentry.SumsFile)))
			require.NoError(t, os.Remove(filepath.Join(dir, "config")))
		}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCache(t, &fake{})
			resolve := c.resolve
			var resolves int
			c.resolve = func(ctx context.Context, srcDir, objDir string, frags []*kconfig.Fragment, opts ...kconfig.Option) (kconfig.Config, error) {
				if len(frags) > 0 {
					resolves++ // the cell's, not the tinyconfig it starts from
				}
				return resolve(ctx, srcDir, objDir, frags, opts...)
			}
			frags := []*kconfig.Fragment{frag(t, "kconfigs/unload.config", "CONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n")}
			ctx := context.Background()
			want, err := c.Config(ctx, testSrc, "unload", frags)
			require.NoError(t, err)
			dir := filepath.Join(c.Dir, "configs", fragKey(testSrc.ID, Arch, "gcc (fake) 12", frags))
			require.NoError(t, CheckConfigEntry(dir))
			tt.damage(t, dir)
			if tt.message != "" {
				err := CheckConfigEntry(dir)
				require.Error(t, err, "cache verify sees it")
				assert.Contains(t, err.Error(), dir)
			}

			var stages []string
			got, err := c.Config(ctx, testSrc, "unload", frags, WithProgress(func(s string) { stages = append(stages, s) }))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			if tt.hit {
				assert.Equal(t, 1, resolves)
				assert.Empty(t, stages)
				return
			}
			assert.Equal(t, 2, resolves, "resolved again")
			if tt.message != "" {
				require.Len(t, stages, 2)
				assert.Contains(t, stages[0], tt.message)
				assert.True(t, strings.HasSuffix(stages[0], "; rebuilding"), stages[0])
				assert.Equal(t, "configure", stages[1])
			} else {
				assert.Equal(t, []string{"configure"}, stages)
			}
			assert.NoError(t, CheckConfigEntry(dir), "whole again, in place")
			ents, err := os.ReadDir(filepath.Join(c.Dir, "configs"))
			require.NoError(t, err)
			for _, e := range ents {
				assert.False(t, strings.HasPrefix(e.Name(), "."), "no temporary left: %s", e.Name())
			}
		})
	}
}

// TestConfigStartsFromTinyconfig: every cell's resolve starts from the
// source's tinyconfig, resolved once (the config entry of no fragments)
// and handed to kconfig.Resolve, so make tinyconfig runs once per source.
func TestConfigStartsFromTinyconfig(t *testing.T) {
	c := newTestCache(t, &fake{})
	resolve := c.resolve
	var tiny, started int
	var stages []string
	c.resolve = func(ctx context.Context, srcDir, objDir string, frags []*kconfig.Fragment, opts ...kconfig.Option) (kconfig.Config, error) {
		if len(frags) == 0 {
			tiny++
		} else if len(opts) == 3 { // WithLog, WithArch, FromTinyconfig
			started++
		}
		return resolve(ctx, srcDir, objDir, frags, opts...)
	}
	ctx := context.Background()
	for _, cell := range []string{"unload", "unload-off", "modules-off"} {
		sym := strings.ToUpper(strings.ReplaceAll(cell, "-", "_"))
		_, err := c.Config(ctx, testSrc, cell, []*kconfig.Fragment{frag(t, "kconfigs/"+cell+".config", "CONFIG_"+sym+"=y\n")},
			WithProgress(func(s string) { stages = append(stages, s) }))
		require.NoError(t, err)
	}
	assert.Equal(t, 1, tiny, "tinyconfig once")
	assert.Equal(t, 3, started, "each cell from it")
	assert.Equal(t, []string{"configure", "configure", "configure"}, stages, "one configure stage a cell")
	assert.NoError(t, CheckConfigEntry(filepath.Join(c.Dir, "configs", fragKey(testSrc.ID, Arch, "gcc (fake) 12", nil))))
}

// The progress line's estimate comes from the cache's record: the median
// of the same cell's earlier builds of the same kind, else of every build
// of that kind; nothing on a fresh cache.
func TestEarlierBuildTime(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	assert.Zero(t, c.earlierBuildTime("unload", false), "a fresh cache has no record")
	for i, e := range []struct {
		cell, from string
		took       time.Duration
	}{
		{"unload", "", 300 * time.Second}, {"unload", "", 280 * time.Second}, {"unload", "", 500 * time.Second},
		{"debug", "", 420 * time.Second}, {"debug", "k1", 40 * time.Second},
	} {
		dir := filepath.Join(c.Dir, "kernels", fmt.Sprintf("k%d", i))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, writeManifest(dir, &manifest{Format: formatVersion, Cell: e.cell, From: e.from, BuildTime: e.took}))
	}
	assert.Equal(t, 300*time.Second, c.earlierBuildTime("unload", false))
	assert.Equal(t, 40*time.Second, c.earlierBuildTime("unload", true), "no incremental unload build: any incremental one")
	assert.Equal(t, 420*time.Second, c.earlierBuildTime("debug", false))
}

// A bisect probe counts as what it resolves to: WithAsResolved takes the
// config a requested value did not survive, and caches it; a later strict
// lookup of the same fragments still refuses it, though it is a hit.
func TestAsResolved(t *testing.T) {
	c := newTestCache(t, &fake{})
	c.resolve = func(ctx context.Context, srcDir, objDir string, frags []*kconfig.Fragment, opts ...kconfig.Option) (kconfig.Config, error) {
		require.NoError(t, os.MkdirAll(objDir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(objDir, ".config"), []byte("CONFIG_MODULES=y\n# CONFIG_MODULE_FORCE_UNLOAD is not set\n"), 0o644))
		cfg := kconfig.Config{"MODULES": "y", "MODULE_FORCE_UNLOAD": "n"}
		return cfg, kconfig.Validate(cfg, frags...)
	}
	frags := []*kconfig.Fragment{frag(t, "probe.config", "CONFIG_MODULES=y\nCONFIG_MODULE_FORCE_UNLOAD=y\n")}
	data, key, err := c.Resolved(context.Background(), testSrc, "probe", frags, WithAsResolved())
	require.NoError(t, err)
	assert.Contains(t, string(data), "# CONFIG_MODULE_FORCE_UNLOAD is not set")
	assert.NotEmpty(t, key)
	_, err = c.Config(context.Background(), testSrc, "probe", frags)
	var verr *kconfig.ValidationError
	assert.ErrorAs(t, err, &verr)
	assert.Contains(t, err.Error(), "cell probe: configure (linux 6.12.117)")
}
