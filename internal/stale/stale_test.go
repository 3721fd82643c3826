package stale

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSweepAndRemoveAll(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * MaxAge)
	for _, name := range []string{".tmp-a-old", ".tmp-a-young", ".tmp-b-old", "a"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name, "sub"), 0o755))
	}
	for _, name := range []string{".tmp-a-old", ".tmp-b-old"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), old, old))
	}
	left := func() []string {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}

	Sweep(dir, ".tmp-a-*")
	assert.Equal(t, []string{".tmp-a-young", ".tmp-b-old", "a"}, left(), "a young folder may be a live run's")

	RemoveAll(dir, ".tmp-*")
	assert.Equal(t, []string{"a"}, left(), "under the lock, every one is debris")
}
