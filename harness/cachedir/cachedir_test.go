package cachedir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// fakeCache lays out entries the way the cache's writers name them, each
// last used the given time ago.
func fakeCache(t *testing.T, now time.Time, entries map[string]time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	for p, ago := range entries {
		full := filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(full, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(full, "data"), []byte("x"), 0o644))
		require.NoError(t, os.Chtimes(full, now.Add(-ago), now.Add(-ago)))
	}
	return dir
}

func TestPrune(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	layout := map[string]time.Duration{
		"kernels/new":          time.Hour,
		"kernels/old":          40 * day,
		"kernels/older":        50 * day,
		"modules/old/hello-1":  40 * day,
		"modules/new/hello-2":  time.Hour,
		"modules/older/leak-3": time.Hour, // used lately, but its kernel goes
		"snapshots/s1":         2 * day,
		"shell/a.cpio":         45 * day,
		"src/linux-source-6.1": 60 * day,
	}
	names := func(es []Entry, dir string) []string {
		var out []string
		for _, e := range es {
			rel, _ := filepath.Rel(dir, e.Path)
			out = append(out, rel)
		}
		return out
	}

	dir := fakeCache(t, now, layout)
	removed, err := Prune(dir, Policy{OlderThan: 30 * day, DryRun: true}, now)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"kernels/old", "kernels/older", "modules/old/hello-1", "modules/older/leak-3", "shell/a.cpio", "src/linux-source-6.1"}, names(removed, dir))
	assert.DirExists(t, filepath.Join(dir, "kernels/old"), "a dry run removes nothing")

	// The latest of each kind stay; sources are pruned by age only.
	removed, err = Prune(dir, Policy{KeepLatest: 1}, now)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"kernels/old", "kernels/older", "modules/old/hello-1", "modules/older/leak-3"}, names(removed, dir))
	assert.NoDirExists(t, filepath.Join(dir, "kernels/old"))
	assert.NoDirExists(t, filepath.Join(dir, "modules/old"), "an emptied kernel folder goes too")
	left, err := List(dir)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"kernels/new", "modules/new/hello-2", "snapshots/s1", "shell/a.cpio", "src/linux-source-6.1"}, names(left, dir))
}

// An entry whose lock a run holds is not removed.
func TestPruneSkipsLockedEntry(t *testing.T) {
	now := time.Now()
	dir := fakeCache(t, now, map[string]time.Duration{"kernels/busy": 100 * 24 * time.Hour})
	lockFile := filepath.Join(dir, "kernels/busy.lock")
	require.NoError(t, os.WriteFile(lockFile, nil, 0o644))
	// flock locks of two descriptors exclude each other, as a run's does.
	held := flock.New(lockFile)
	require.NoError(t, held.Lock())
	defer held.Unlock()
	removed, err := Prune(dir, Policy{OlderThan: time.Hour}, now)
	require.NoError(t, err)
	assert.Empty(t, removed)
	assert.DirExists(t, filepath.Join(dir, "kernels/busy"))
}

// withSums writes files (name → content) into dir, and the sums of those
// named in sums into dir/manifest as a kind's writer records them:
// wrap turns the sums into the manifest's JSON.
func withSums(t *testing.T, dir string, files map[string]string, manifest string, wrap func(cacheentry.Sums) any) {
	t.Helper()
	var names []string
	for n, text := range files {
		p := filepath.Join(dir, n)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		names = append(names, n)
	}
	sums, err := cacheentry.Sum(dir, names...)
	require.NoError(t, err)
	b, err := json.Marshal(wrap(sums))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, manifest), b, 0o644))
}

// Verify checks resolved configs, unpacked distribution kernels and shell
// images as a run's hit does; the pins beside distro entries are no
// entries to check.
func TestVerifyChecksEveryKind(t *testing.T) {
	bare := func(s cacheentry.Sums) any { return s }
	tests := []struct {
		kind, path string
		make       func(t *testing.T, dir string)
		damage     func(t *testing.T, dir string)
		problem    string
	}{
		{"config", "configs/1222a6ab95b98f785ce2e77e486d36b6",
			func(t *testing.T, dir string) {
				withSums(t, dir, map[string]string{"config": "CONFIG_MODULES=y\n", "fragments": "# base.config\n"}, "sums.json", bare)
			},
			func(t *testing.T, dir string) { require.NoError(t, os.Truncate(filepath.Join(dir, "config"), 3)) },
			"config has 3 bytes"},
		{"distro", "distro/linux-image-6.12.117+deb12-cloud-amd64_6.12.117-1~deb12u1-2b7a506c",
			func(t *testing.T, dir string) {
				withSums(t, dir, map[string]string{"root/boot/vmlinuz-6.12.117+deb12-cloud-amd64": "bzImage"}, "manifest.json",
					func(s cacheentry.Sums) any {
						return map[string]any{"packages": []string{"linux-image-6.12.117+deb12-cloud-amd64=6.12.117-1~deb12u1"}, "files": s}
					})
			},
			func(t *testing.T, dir string) {
				require.NoError(t, os.Remove(filepath.Join(dir, "root/boot/vmlinuz-6.12.117+deb12-cloud-amd64")))
			},
			"root/boot/vmlinuz-6.12.117+deb12-cloud-amd64 is missing"},
		{"shell", "shell/539a575f21742b11",
			func(t *testing.T, dir string) {
				withSums(t, dir, map[string]string{"base.cpio": "070701"}, "sums.json", bare)
			},
			func(t *testing.T, dir string) { require.NoError(t, os.Truncate(filepath.Join(dir, "base.cpio"), 0)) },
			"base.cpio has 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			cache := t.TempDir()
			whole, damaged := filepath.Join(cache, tt.path), filepath.Join(cache, tt.path+"-2")
			tt.make(t, whole)
			tt.make(t, damaged)
			tt.damage(t, damaged)
			pin := filepath.Join(cache, "distro", "spec-debian-cloud-6.12.117+deb12")
			require.NoError(t, os.MkdirAll(filepath.Dir(pin), 0o755))
			require.NoError(t, os.WriteFile(pin, []byte(filepath.Base(whole)+"\n"), 0o644))

			entries, err := Verify(cache)
			require.NoError(t, err)
			got := map[string]Entry{}
			for _, e := range entries {
				got[e.Path] = e
			}
			require.Contains(t, got, whole)
			require.Contains(t, got, damaged)
			assert.Equal(t, tt.kind, got[whole].Kind)
			assert.Empty(t, got[whole].Problem)
			assert.Contains(t, got[damaged].Problem, tt.problem)
			assert.Equal(t, "pin", got[pin].Kind, "a pin is not a distro entry")
			assert.Empty(t, got[pin].Problem)
		})
	}
}
