package ksrc

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const kernelMakefile = `# SPDX-License-Identifier: GPL-2.0
VERSION = 6
PATCHLEVEL = 12
SUBLEVEL = 117
EXTRAVERSION =
NAME = Baby Opossum Posse
`

// fakeTree writes the least Dir accepts as a kernel tree.
func fakeTree(t *testing.T, dir, makefile string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "kernel"), 0o755))
	for p, text := range map[string]string{
		"Makefile":        makefile,
		"Kconfig":         "mainmenu \"Linux\"\n",
		"kernel/module.c": "int x;\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(text), 0o644))
	}
}

func TestReadVersion(t *testing.T) {
	tests := []struct {
		name          string
		makefile      string
		noKconfig     bool
		version, ser  string
		wantErrSubstr string
	}{
		{name: "stable", makefile: kernelMakefile, version: "6.12.117", ser: "6.12"},
		{name: "rc", makefile: "VERSION = 6\nPATCHLEVEL = 13\nSUBLEVEL = 0\nEXTRAVERSION = -rc3\n", version: "6.13.0-rc3", ser: "6.13"},
		{name: "no sublevel", makefile: "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL =\n", version: "6.1", ser: "6.1"},
		{name: "not a kernel Makefile", makefile: "all:\n\techo hi\n", wantErrSubstr: "not a kernel source tree: no VERSION/PATCHLEVEL"},
		{name: "no Kconfig", makefile: kernelMakefile, noKconfig: true, wantErrSubstr: "no top-level Kconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fakeTree(t, dir, tt.makefile)
			if tt.noKconfig {
				require.NoError(t, os.Remove(filepath.Join(dir, "Kconfig")))
			}
			v, s, err := readVersion(dir)
			if tt.wantErrSubstr != "" {
				require.ErrorIs(t, err, ErrNotKernelTree)
				assert.Contains(t, err.Error(), tt.wantErrSubstr)
				assert.Contains(t, err.Error(), dir)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.version, v)
			assert.Equal(t, tt.ser, s)
		})
	}
}

func TestDirPlainTree(t *testing.T) {
	dir := t.TempDir()
	fakeTree(t, dir, kernelMakefile)

	s1, err := Dir(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, s1.Dir)
	assert.Equal(t, "6.12.117", s1.Version)
	assert.Equal(t, "6.12", s1.Series)
	assert.Regexp(t, `^tree:[0-9a-f]{32}$`, s1.ID)

	s2, err := Dir(dir)
	require.NoError(t, err)
	assert.Equal(t, s1.ID, s2.ID, "unchanged tree, same ID")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "kernel/module.c"), []byte("int y;\n"), 0o644))
	require.NoError(t, os.Chtimes(filepath.Join(dir, "kernel/module.c"), time.Time{}, time.Now().Add(time.Second)))
	s3, err := Dir(dir)
	require.NoError(t, err)
	assert.NotEqual(t, s1.ID, s3.ID, "edited file, new ID")
}

func TestDirErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		wantErr []string
	}{
		{
			name:    "empty directory",
			setup:   func(t *testing.T, dir string) {},
			wantErr: []string{"not a kernel source tree"},
		},
		{
			name: "configured in place",
			setup: func(t *testing.T, dir string) {
				fakeTree(t, dir, kernelMakefile)
				require.NoError(t, os.WriteFile(filepath.Join(dir, ".config"), nil, 0o644))
			},
			wantErr: []string{"is not clean (has .config)", "run make mrproper in"},
		},
		{
			name: "built in place",
			setup: func(t *testing.T, dir string) {
				fakeTree(t, dir, kernelMakefile)
				require.NoError(t, os.WriteFile(filepath.Join(dir, ".config"), nil, 0o644))
				require.NoError(t, os.MkdirAll(filepath.Join(dir, "include/config"), 0o755))
			},
			wantErr: []string{"has .config and include/config", "run make mrproper in"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := Dir(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), dir)
			for _, w := range tt.wantErr {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestDirGitTree(t *testing.T) {
	dir := t.TempDir()
	fakeTree(t, dir, kernelMakefile)
	git := func(args ...string) string {
		cmd := Git(context.Background(), dir, append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-qm", "init")
	head := git("rev-parse", "HEAD")

	id := func() string {
		s, err := Dir(dir)
		require.NoError(t, err)
		return s.ID
	}
	clean := id()
	assert.Equal(t, "git:"+head[:len(head)-1], clean)

	mod := filepath.Join(dir, "kernel/module.c")
	require.NoError(t, os.WriteFile(mod, []byte("int y;\n"), 0o644))
	edit1 := id()
	assert.Regexp(t, `^git:[0-9a-f]{40}\+dirty:[0-9a-f]{16}$`, edit1)

	require.NoError(t, os.WriteFile(mod, []byte("int z;\n"), 0o644))
	edit2 := id()
	assert.NotEqual(t, edit1, edit2, "a second edit of the same file changes the ID")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "kernel/new.c"), []byte("int n;\n"), 0o644))
	untracked := id()
	assert.NotEqual(t, edit2, untracked, "an untracked file changes the ID")

	git("checkout", "-q", "--", ".")
	require.NoError(t, os.Remove(filepath.Join(dir, "kernel/new.c")))
	assert.Equal(t, clean, id(), "reverting the edits restores the ID")
}

func TestDebian(t *testing.T) {
	usr := t.TempDir()
	old, oldDpkg := usrSrc, dpkgVersion
	usrSrc = usr
	dpkgVersion = func(context.Context, string) (string, error) { return "6.12.117-1~deb12u1", nil }
	t.Cleanup(func() { usrSrc, dpkgVersion = old, oldDpkg })

	staging := t.TempDir()
	fakeTree(t, filepath.Join(staging, "linux-source-6.12"), kernelMakefile)
	out, err := exec.Command("tar", "-cJf", filepath.Join(usr, "linux-source-6.12.tar.xz"), "-C", staging, "linux-source-6.12").CombinedOutput()
	require.NoError(t, err, string(out))

	cache := t.TempDir()

	ctx := context.Background()
	var wg sync.WaitGroup
	srcs := make([]*Source, 4)
	errs := make([]error, 4)
	for i := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srcs[i], errs[i] = Debian(ctx, cache, "6.12")
		}()
	}
	wg.Wait()
	for i := range srcs {
		require.NoError(t, errs[i])
		assert.Equal(t, srcs[0], srcs[i])
	}
	s := srcs[0]
	assert.Equal(t, "6.12.117", s.Version)
	assert.Equal(t, "6.12", s.Series)
	assert.Contains(t, s.ID, "debian:linux-source-6.12=6.12.117-1~deb12u1:")
	assert.Equal(t, filepath.Join(cache, "src", "linux-source-6.12-"+s.ShortID()), s.Dir)
	assert.FileExists(t, filepath.Join(s.Dir, "kernel/module.c"))

	ents, err := os.ReadDir(filepath.Join(cache, "src"))
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{filepath.Base(s.Dir), filepath.Base(s.Dir) + ".lock"}, names, "no temporary directories left")

	// A new package version is a new source.
	dpkgVersion = func(context.Context, string) (string, error) { return "6.12.118-1", nil }
	var percents []int64
	s2, err := Debian(ctx, cache, "6.12", WithUnpacking(func(tarball string, read, total int64) {
		assert.Equal(t, filepath.Join(usr, "linux-source-6.12.tar.xz"), tarball)
		percents = append(percents, read*100/total)
	}))
	require.NoError(t, err)
	require.NotEmpty(t, percents, "the unpacking reports its progress")
	assert.Equal(t, int64(100), percents[len(percents)-1])
	assert.IsIncreasing(t, percents)
	percents = nil
	_, err = Debian(ctx, cache, "6.12", WithUnpacking(func(string, int64, int64) { percents = append(percents, 0) }))
	require.NoError(t, err)
	assert.Empty(t, percents, "a source unpacked before reports nothing")
	assert.NotEqual(t, s.ID, s2.ID)
	assert.NotEqual(t, s.Dir, s2.Dir)

	_, err = Debian(ctx, cache, "9.9")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apt-get install linux-source-9.9")
}

func TestDebianStaleTemp(t *testing.T) {
	parent := t.TempDir()
	staging := t.TempDir()
	fakeTree(t, filepath.Join(staging, "linux-source-6.12"), kernelMakefile)
	tarball := filepath.Join(staging, "src.tar.xz")
	out, err := exec.Command("tar", "-cJf", tarball, "-C", staging, "linux-source-6.12").CombinedOutput()
	require.NoError(t, err, string(out))

	stale := filepath.Join(parent, ".tmp-linux-source-6.12-abc-123")
	require.NoError(t, os.MkdirAll(filepath.Join(stale, "linux-source-6.12"), 0o755))
	require.NoError(t, unpack(context.Background(), tarball, parent, "linux-source-6.12-abc", nil))
	assert.NoDirExists(t, stale)
	assert.FileExists(t, filepath.Join(parent, "linux-source-6.12-abc", "Makefile"))
}

func TestReadStats(t *testing.T) {
	dir := t.TempDir()
	fakeTree(t, dir, kernelMakefile)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git", "objects"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", ".git"), []byte("gitdir: ../x\n"), 0o644))
	require.NoError(t, os.Symlink("module.c", filepath.Join(dir, "kernel", "link.c")))
	// A `make O=build` folder inside the tree holds build products only.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "build", "kernel"), 0o755))
	for _, p := range []string{".config", ".a", "vmlinux", "kernel/module.o"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "build", p), nil, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "build", ".gitignore"), []byte("# this is build directory, ignore it\n*\n"), 0o644))

	st, err := ReadStats(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"Kconfig", "Makefile", "kernel/link.c", "kernel/module.c"}, st.Paths(), "no .git (directory or file), no O= folder")
	mod := st["kernel/module.c"]
	assert.EqualValues(t, len("int x;\n"), mod.Size)
	assert.NotZero(t, mod.Mtime)
	assert.NotZero(t, mod.Ctime)
	assert.Equal(t, fs.ModeSymlink, st["kernel/link.c"].Mode)

	var buf bytes.Buffer
	_, err = st.WriteTo(&buf)
	require.NoError(t, err)
	back, err := ParseStats(&buf)
	require.NoError(t, err)
	assert.Equal(t, st, back)
	assert.True(t, st.Equal(back))

	_, err = ParseStats(strings.NewReader("1\t2\t3\n"))
	assert.ErrorContains(t, err, "line 1: want 5 tab-separated fields, got 3")

	// Changed lists new and differing files, not deleted ones.
	now := Stats{"Kconfig": st["Kconfig"], "Makefile": st["Makefile"], "kernel/new.c": mod}
	m := st["Makefile"]
	m.Ctime++
	now["Makefile"] = m
	assert.Equal(t, []string{"Makefile", "kernel/new.c"}, now.Changed(st))
	assert.False(t, now.Equal(st))
}

func TestDirUntrackedContent(t *testing.T) {
	dir := t.TempDir()
	fakeTree(t, dir, kernelMakefile)
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-qm", "init"}} {
		out, err := Git(context.Background(), dir, append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	// Two untracked versions of one file, same size and mtime: the
	// contents tell them apart.
	p := filepath.Join(dir, "kernel/new.c")
	mtime := time.Now().Add(-time.Hour)
	ids := map[string]bool{}
	for _, text := range []string{"int a;\n", "int b;\n", "int a;\n"} {
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		require.NoError(t, os.Chtimes(p, mtime, mtime))
		s, err := Dir(dir)
		require.NoError(t, err)
		ids[s.ID] = true
		assert.Equal(t, "dir:"+dir, s.Location)
	}
	assert.Len(t, ids, 2)
}

func TestCheckCleanGenerated(t *testing.T) {
	dir := t.TempDir()
	fakeTree(t, dir, kernelMakefile)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "arch/x86/include/generated"), 0o755))
	_, err := Dir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not clean (has arch/x86/include/generated)")
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	fakeTree(t, dir, kernelMakefile)
	s, err := Dir(dir)
	require.NoError(t, err)
	require.NoError(t, s.Verify(nil))
	before, err := ReadStats(dir)
	require.NoError(t, err)
	require.NoError(t, s.Verify(before), "stats just read give the tree's ID without another walk")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kernel/new.c"), nil, 0o644))
	err = s.Verify(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kernel source "+dir+" changed while modmatrix ran")
	after, err := ReadStats(dir)
	require.NoError(t, err)
	err = s.Verify(after)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kernel source "+dir+" changed while modmatrix ran")
	assert.NoError(t, (&Source{Dir: dir, ID: "debian:x"}).Verify(nil), "a Debian source never changes")
}

func TestStatsDiffer(t *testing.T) {
	old := Stats{"a.c": {Size: 1}, "b.c": {Size: 2}, "gone.c": {Size: 3}}
	now := Stats{"a.c": {Size: 1}, "b.c": {Size: 5}, "new.c": {Size: 4}}
	assert.Equal(t, []string{"b.c", "new.c"}, now.Changed(old), "Changed leaves out deletions")
	assert.Equal(t, []string{"b.c", "gone.c", "new.c"}, now.Differ(old))
	assert.Empty(t, old.Differ(old))
	assert.False(t, now.Equal(old))
	assert.True(t, old.Equal(Stats{"a.c": {Size: 1}, "b.c": {Size: 2}, "gone.c": {Size: 3}}))
}

// TestGitIgnoresCallersRepository: run from a git hook or `git rebase -x`,
// GIT_DIR names the caller's repository; a git init in a scratch tree
// must not touch it (it once re-initialised the caller's as bare).
func TestGitIgnoresCallersRepository(t *testing.T) {
	caller := t.TempDir()
	require.NoError(t, Git(context.Background(), caller, "init", "-q").Run())
	t.Setenv("GIT_DIR", filepath.Join(caller, ".git"))
	scratch := t.TempDir()
	out, err := Git(context.Background(), scratch, "init", "-q").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.DirExists(t, filepath.Join(scratch, ".git"))
	cfg, err := os.ReadFile(filepath.Join(caller, ".git", "config"))
	require.NoError(t, err)
	assert.Contains(t, string(cfg), "bare = false")
}
