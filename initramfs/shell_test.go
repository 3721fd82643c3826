package initramfs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/u-root/u-root/pkg/cpio"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// TestShellImage builds the shell base with gobusybox in the shared cache
// (a cold cache builds it, about 40 s on 2 cores; a warm one finds it), then
// an image with one .ko and the banner, and reads the archive back.
func TestShellImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a gobusybox image")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("go not in PATH: %v", err)
	}
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cache := os.Getenv("MODMATRIX_CACHE")
	if cache == "" {
		cache = filepath.Join(t.TempDir(), "cache")
		if dir, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(dir, "modmatrix")
		}
	}

	base, err := BuildShellBase(ctx, repo, cache)
	require.NoError(t, err)
	t.Logf("shell base %s (cached: %v, built in %v)", base.Path, base.Cached, base.BuildTime)
	again, err := BuildShellBase(ctx, repo, cache)
	require.NoError(t, err)
	assert.True(t, again.Cached)
	assert.Equal(t, base.Path, again.Path)

	names := archiveNames(t, base.Path)
	for _, want := range []string{"init", "bbin/gosh", "sbin/modprobe", "sbin/insmod", "sbin/rmmod", "sbin/lsmod", "sbin/modinfo",
		"bin/head", "bin/tail", "bbin/dmesg", "bbin/cat", "bbin/ls", "bbin/grep", "bbin/poweroff", "bbin/shellinit", "bin/uinit"} {
		assert.Contains(t, names, want)
	}
	// Not u-root's: their names are kmod's and the host's.
	for _, gone := range []string{"bbin/rmmod", "bbin/tail"} {
		assert.NotContains(t, names, gone)
	}
}

func archiveNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	names := map[string]bool{}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	require.NoError(t, err)
	for _, rec := range recs {
		names[rec.Name] = true
	}
	return names
}

// A shell image entry records its archive's size and digest last; a hit
// checks them, and a damaged entry is built again. A bare KEY.cpio of an
// older modmatrix is taken as it is.
func TestShellEntry(t *testing.T) {
	whole := func(t *testing.T, dir string) {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, shellArchive), []byte("070701 archive"), 0o644))
		require.NoError(t, cacheentry.WriteSums(dir, shellArchive))
	}
	tests := []struct {
		name    string
		make    func(t *testing.T, dir string)
		damaged string // in CheckShellEntry's error; "" for whole
	}{
		{"whole", whole, ""},
		{"archive truncated", func(t *testing.T, dir string) {
			whole(t, dir)
			require.NoError(t, os.Truncate(filepath.Join(dir, shellArchive), 6))
		}, "base.cpio has 6 bytes, the manifest says 14"},
		{"archive altered", func(t *testing.T, dir string) {
			whole(t, dir)
			p := filepath.Join(dir, shellArchive)
			require.NoError(t, os.WriteFile(p, []byte("070701 ARCHIVE"), 0o644))
			require.NoError(t, os.Chtimes(p, time.Now(), time.Now().Add(time.Hour)))
		}, "base.cpio's content is not what was built"},
		{"archive removed", func(t *testing.T, dir string) {
			whole(t, dir)
			require.NoError(t, os.Remove(filepath.Join(dir, shellArchive)))
		}, "base.cpio is missing"},
		{"no sums", func(t *testing.T, dir string) {
			whole(t, dir)
			require.NoError(t, os.Remove(filepath.Join(dir, cacheentry.SumsFile)))
		}, "no sums.json"},
		{"sums of nothing", func(t *testing.T, dir string) {
			whole(t, dir)
			require.NoError(t, os.WriteFile(filepath.Join(dir, cacheentry.SumsFile), []byte("{}"), 0o644))
		}, "does not record base.cpio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shell", "0123456789abcdef")
			tt.make(t, dir)
			err := CheckShellEntry(dir)
			if tt.damaged == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.damaged)
		})
	}

	// What BuildShellBase takes without building: a whole entry of its
	// key, or an older modmatrix's bare archive.
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	ctx := context.Background()
	key, err := shellKey(ctx, repo)
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		make func(t *testing.T, cache string) string // the archive's path
	}{
		{"whole entry", func(t *testing.T, cache string) string {
			whole(t, filepath.Join(cache, "shell", key))
			return filepath.Join(cache, "shell", key, shellArchive)
		}},
		{"older modmatrix's archive", func(t *testing.T, cache string) string {
			p := filepath.Join(cache, "shell", key+".cpio")
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte("070701"), 0o644))
			assert.NoError(t, CheckShellEntry(p))
			return p
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			want := tt.make(t, cache)
			base, err := BuildShellBase(ctx, repo, cache)
			require.NoError(t, err)
			assert.True(t, base.Cached)
			assert.Equal(t, want, base.Path)
		})
	}
}
