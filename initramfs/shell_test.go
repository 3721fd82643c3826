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
	for _, want := range []string{"init", "bbin/gosh", "bbin/insmod", "bbin/rmmod", "bbin/lsmod",
		"bbin/dmesg", "bbin/cat", "bbin/ls", "bbin/grep", "bbin/poweroff", "bbin/shellinit", "bin/uinit"} {
		assert.Contains(t, names, want)
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
