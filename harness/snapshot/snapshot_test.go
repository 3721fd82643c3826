package snapshot

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entry writes a snapshot entry as create leaves it, without the boot.
func entry(t *testing.T, dir, key string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, vmstateFile), []byte("QEVM saved guest"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, imageFile), []byte("070701 guest image"), 0o644))
	vmSum, vmSize, err := digest(filepath.Join(dir, vmstateFile))
	require.NoError(t, err)
	imageSum, _, err := digest(filepath.Join(dir, imageFile))
	require.NoError(t, err)
	b, err := json.Marshal(Meta{Format: format, Key: key, Image: imageSum, VMStateSize: vmSize, VMStateSHA256: vmSum})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, metaFile), b, 0o644))
}

// A hit checks the saved guest and the guest image it restores with; a
// damaged entry is a miss, made again.
func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		damaged string // in the error; "" for whole
	}{
		{"whole", func(*testing.T, string) {}, ""},
		{"vmstate truncated", func(t *testing.T, dir string) {
			require.NoError(t, os.Truncate(filepath.Join(dir, vmstateFile), 4))
		}, "vmstate: 4 bytes"},
		{"guest image altered", func(t *testing.T, dir string) {
			p := filepath.Join(dir, imageFile)
			require.NoError(t, os.WriteFile(p, []byte("070701 GUEST IMAGE"), 0o644))
			require.NoError(t, os.Chtimes(p, time.Now(), time.Now().Add(time.Hour)))
		}, "initramfs.cpio: sha256"},
		{"guest image removed", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, imageFile)))
		}, "initramfs.cpio: no such file"},
		{"meta unreadable", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, metaFile), []byte("{"), 0o644))
		}, "meta.json: unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const key = "00d1a39d5df3508c0abb756e66f40088"
			dir := filepath.Join(t.TempDir(), "snapshots", key)
			entry(t, dir, key)
			tt.damage(t, dir)
			err := CheckEntry(dir)
			if tt.damaged == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.damaged)
		})
	}
}

// BenchmarkCheck is a hit's check of an entry with the sizes of a 6.12
// cell's (vmstate 30 MB, guest image 6.4 MB); "image" is the part the
// guest image's digest adds.
func BenchmarkCheck(b *testing.B) {
	const key = "00d1a39d5df3508c0abb756e66f40088"
	dir := filepath.Join(b.TempDir(), key)
	require.NoError(b, os.MkdirAll(dir, 0o755))
	require.NoError(b, os.WriteFile(filepath.Join(dir, vmstateFile), make([]byte, 30034140), 0o644))
	require.NoError(b, os.WriteFile(filepath.Join(dir, imageFile), make([]byte, 6403112), 0o644))
	vmSum, vmSize, err := digest(filepath.Join(dir, vmstateFile))
	require.NoError(b, err)
	imageSum, _, err := digest(filepath.Join(dir, imageFile))
	require.NoError(b, err)
	m, err := json.Marshal(Meta{Format: format, Key: key, Image: imageSum, VMStateSize: vmSize, VMStateSHA256: vmSum})
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(filepath.Join(dir, metaFile), m, 0o644))
	b.Run("entry", func(b *testing.B) {
		for range b.N {
			if err := CheckEntry(dir); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image", func(b *testing.B) {
		for range b.N {
			if _, _, err := digest(filepath.Join(dir, imageFile)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
