package kbuild

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
)

func TestSourceDelta(t *testing.T) {
	built := time.Unix(1000, 0)
	before, after := built.Add(-time.Second).UnixNano(), built.Add(time.Second).UnixNano()
	old := ksrc.Stats{
		"a.c": {Size: 10, Mtime: before, Ctime: before},
		"b.h": {Size: 20, Mtime: before, Ctime: before},
	}
	tests := []struct {
		name    string
		now     ksrc.Stats
		changed []string
		ok      bool
	}{
		{"unchanged", ksrc.Stats{"a.c": old["a.c"], "b.h": old["b.h"]}, nil, true},
		{"edited after the build", ksrc.Stats{"a.c": {Size: 11, Mtime: after, Ctime: after}, "b.h": old["b.h"]}, []string{"a.c"}, true},
		{"new file after the build", ksrc.Stats{"a.c": old["a.c"], "b.h": old["b.h"], "c.c": {Size: 1, Mtime: after, Ctime: after}}, []string{"c.c"}, true},
		{"deleted file", ksrc.Stats{"a.c": old["a.c"]}, nil, true},
		{"edit that kept the mtime (touch -r): make would miss it", ksrc.Stats{"a.c": {Size: 10, Mtime: before, Ctime: after}, "b.h": old["b.h"]}, []string{"a.c"}, false},
		{"old file copied in with cp -p", ksrc.Stats{"a.c": old["a.c"], "b.h": old["b.h"], "c.c": {Size: 1, Mtime: before, Ctime: after}}, []string{"c.c"}, false},
		{"edited during the build", ksrc.Stats{"a.c": {Size: 11, Mtime: built.UnixNano(), Ctime: built.UnixNano()}, "b.h": old["b.h"]}, []string{"a.c"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed, ok := sourceDelta(tt.now, old, built)
			assert.Equal(t, tt.changed, changed)
			assert.Equal(t, tt.ok, ok)
		})
	}
}

// kernelTree writes a directory ksrc.Dir accepts as a kernel tree.
func kernelTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, text := range map[string]string{
		"Makefile":         "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\n",
		"Kconfig":          "mainmenu \"Linux\"\n",
		"init/version.c":   "int v;\n",
		"kernel/module.c":  "int m;\n",
		"include/linux.h":  "#define X 1\n",
		"scripts/Makefile": "\n",
	} {
		p = filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		old := time.Now().Add(-time.Hour)
		require.NoError(t, os.Chtimes(p, old, old))
	}
	return dir
}

// TestKernelEditedTree follows a --kernel-src tree through edits: every
// content is built in the one stage of its location, each from the entry
// of the previous content, and old entries stay valid.
func TestKernelEditedTree(t *testing.T) {
	f := &fake{}
	c := newTestCache(t, f)
	var stages []string
	f.buildFn = func(j *job) error { stages = append(stages, j.dir); return nil }
	tree := kernelTree(t)
	frags := []*kconfig.Fragment{frag(t, "kconfigs/base.config", "CONFIG_MODULES=y\n")}
	ctx := context.Background()
	kernel := func() (*Kernel, string) {
		t.Helper()
		src, err := ksrc.Dir(tree)
		require.NoError(t, err)
		var progress []string
		k, err := c.Kernel(ctx, src, "unload", frags, WithProgress(func(s string) { progress = append(progress, s) }))
		require.NoError(t, err)
		return k, progress[len(progress)-1]
	}
	// Edits come seconds after a build in life; here they must wait out
	// the file clock's granularity (a jiffy) to be newer than the last build.
	edit := func(rel, text string) {
		t.Helper()
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, os.WriteFile(filepath.Join(tree, rel), []byte(text), 0o644))
	}
	file := filepath.Join(tree, "kernel/module.c")
	orig, err := os.Stat(file)
	require.NoError(t, err)

	first, stage := kernel()
	assert.Equal(t, "build", stage)
	assert.FileExists(t, filepath.Join(first.Dir, statsName))

	again, stage := kernel()
	assert.Equal(t, "cached", stage)
	assert.Equal(t, first.Key, again.Key)

	// An edit: a new key, built from the first tree in the same stage.
	edit("kernel/module.c", "int m2;\n")
	edited, stage := kernel()
	assert.NotEqual(t, first.Key, edited.Key)
	assert.Equal(t, "build (incremental from "+first.Key[:12]+"/unload, 0 symbols differ, 1 source files changed)", stage)
	assert.Equal(t, []string{"", first.Dir}, f.bases)
	require.Len(t, stages, 2)
	assert.Equal(t, stages[0], stages[1], "one stage for every content of the tree")
	assert.FileExists(t, first.Vmlinux, "the first content's entry stays")

	// Reverted, mtime and all: the first kernel again.
	require.NoError(t, os.WriteFile(file, []byte("int m;\n"), 0o644))
	require.NoError(t, os.Chtimes(file, orig.ModTime(), orig.ModTime()))
	reverted, stage := kernel()
	assert.Equal(t, "cached", stage)
	assert.Equal(t, first.Key, reverted.Key)

	// The revert left module.c with an old mtime but a new ctime: make
	// would not recompile it in a copy of the edited tree, and as far as
	// stats tell, it may not hold the first tree's text either (cp -p, an
	// rsync from elsewhere). So the next content builds from scratch.
	edit("init/version.c", "int v2;\n")
	v2, stage := kernel()
	assert.Equal(t, "build", stage)

	// An edit that keeps size and mtime (touch -r): the plain tree's ID,
	// like make, goes by mtimes and misses it...
	version := filepath.Join(tree, "init/version.c")
	vst, err := os.Stat(version)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(version, []byte("int v3;\n"), 0o644))
	require.NoError(t, os.Chtimes(version, vst.ModTime(), vst.ModTime()))
	_, stage = kernel()
	assert.Equal(t, "cached", stage)

	// ... but no later content builds on the v2 tree, which holds the old
	// version.c; a later edit does start from the tree it was built from.
	edit("kernel/new.c", "int n;\n")
	v4, stage := kernel()
	assert.Equal(t, "build", stage, "not from the v2 entry: version.c differs from it with an old mtime")
	edit("kernel/new.c", "int n2;\n")
	_, stage = kernel()
	assert.Equal(t, "build (incremental from "+v4.Key[:12]+"/unload, 0 symbols differ, 1 source files changed)", stage)
	assert.NotEqual(t, v2.Key, v4.Key)
}

func TestKernelTreeChangedDuringBuild(t *testing.T) {
	f := &fake{}
	c := newTestCache(t, f)
	tree := kernelTree(t)
	f.buildFn = func(j *job) error {
		return os.WriteFile(filepath.Join(tree, "kernel/module.c"), []byte("int edited_meanwhile;\n"), 0o644)
	}
	src, err := ksrc.Dir(tree)
	require.NoError(t, err)
	_, err = c.Kernel(context.Background(), src, "unload", []*kconfig.Fragment{frag(t, "kconfigs/base.config", "CONFIG_MODULES=y\n")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cell unload: kernel source "+tree+" changed during the build (1 files, e.g. [kernel/module.c]): run again")
	ents, err := filepath.Glob(filepath.Join(c.Dir, "kernels", "*", manifestName))
	require.NoError(t, err)
	assert.Empty(t, ents, "nothing published")
}

// A file deleted during the build is named too (not "0 files, e.g. []").
func TestKernelTreeFileDeletedDuringBuild(t *testing.T) {
	f := &fake{}
	c := newTestCache(t, f)
	tree := kernelTree(t)
	f.buildFn = func(j *job) error { return os.Remove(filepath.Join(tree, "include/linux.h")) }
	src, err := ksrc.Dir(tree)
	require.NoError(t, err)
	_, err = c.Kernel(context.Background(), src, "unload", []*kconfig.Fragment{frag(t, "kconfigs/base.config", "CONFIG_MODULES=y\n")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "changed during the build (1 files, e.g. [include/linux.h]): run again")
}

// A tree edited after it was opened fails before make runs, without
// publishing the other content's kernel under its ID.
func TestKernelTreeChangedBeforeBuild(t *testing.T) {
	f := &fake{}
	c := newTestCache(t, f)
	tree := kernelTree(t)
	built := false
	f.buildFn = func(j *job) error { built = true; return nil }
	src, err := ksrc.Dir(tree)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tree, "kernel/module.c"), []byte("int edited;\n"), 0o644))
	_, err = c.Kernel(context.Background(), src, "unload", []*kconfig.Fragment{frag(t, "kconfigs/base.config", "CONFIG_MODULES=y\n")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cell unload: kernel source "+tree+" changed while modmatrix ran")
	assert.False(t, built, "make never ran")
}
