package cachedir

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
