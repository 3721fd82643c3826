package kbuild

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A prebuilt kernel's headers tree has no manifest: the copy is still
// complete once made, is found again by key, and replaces the debris of an
// earlier incomplete copy.
func TestWithLocalVersionOfHeadersTree(t *testing.T) {
	headers := filepath.Join(t.TempDir(), "linux-headers-6.12.117+deb12-cloud-amd64")
	for p, data := range map[string]string{
		"include/config/kernel.release":  "6.12.117+deb12-cloud-amd64\n",
		"include/generated/utsrelease.h": "#define UTS_RELEASE \"6.12.117+deb12-cloud-amd64\"\n",
		"Module.symvers":                 "",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(headers, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(headers, p), []byte(data), 0o644))
	}
	c := NewCache(t.TempDir())
	k := &Kernel{Key: "prebuilt-0123", Dir: headers, Release: "6.12.117+deb12-cloud-amd64"}
	debris := filepath.Join(c.Dir, "variants", "prebuilt-0123-lv-x")
	require.NoError(t, os.MkdirAll(debris, 0o755))

	for i := 0; i < 2; i++ {
		lv, err := c.WithLocalVersion(context.Background(), k, "-x")
		require.NoError(t, err)
		assert.Equal(t, debris, lv.Dir)
		assert.Equal(t, "6.12.117+deb12-cloud-amd64-x", lv.Release)
		uts, err := os.ReadFile(filepath.Join(lv.Dir, "include/generated/utsrelease.h"))
		require.NoError(t, err)
		assert.Equal(t, "#define UTS_RELEASE \"6.12.117+deb12-cloud-amd64-x\"\n", string(uts))
		assert.FileExists(t, filepath.Join(lv.Dir, "Module.symvers"))
	}
}
