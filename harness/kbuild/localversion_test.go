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

// Installed headers, given as the /lib/modules/REL/build link: the copy is
// of the tree, never of the link (whose release files are the host's), and
// its relative links out of the tree (Debian's scripts ->
// ../../lib/linux-kbuild-…/scripts) still lead where they led.
func TestWithLocalVersionOfLinkedHeaders(t *testing.T) {
	root := t.TempDir()
	const rel = "6.1.0-56-cloud-amd64"
	headers := filepath.Join(root, "usr/src/linux-headers-"+rel)
	files := map[string]string{
		"include/config/kernel.release":  "6.1.192\n",
		"include/generated/utsrelease.h": "#define UTS_RELEASE \"" + rel + "\"\n",
		"Module.symvers":                 "",
	}
	for p, data := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(headers, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(headers, p), []byte(data), 0o644))
	}
	modpost := filepath.Join(root, "usr/lib/linux-kbuild-6.1/scripts/mod/modpost")
	require.NoError(t, os.MkdirAll(filepath.Dir(modpost), 0o755))
	require.NoError(t, os.WriteFile(modpost, nil, 0o755))
	require.NoError(t, os.Symlink("../../lib/linux-kbuild-6.1/scripts", filepath.Join(headers, "scripts")))
	require.NoError(t, os.Symlink("include/config", filepath.Join(headers, "config-link")))
	build := filepath.Join(root, "lib/modules", rel, "build")
	require.NoError(t, os.MkdirAll(filepath.Dir(build), 0o755))
	require.NoError(t, os.Symlink("../../../usr/src/linux-headers-"+rel, build))

	c := NewCache(t.TempDir())
	k := &Kernel{Key: "prebuilt-4567", Dir: build, Release: rel}
	lv, err := c.WithLocalVersion(context.Background(), k, "-other")
	require.NoError(t, err)

	fi, err := os.Lstat(lv.Dir)
	require.NoError(t, err)
	assert.True(t, fi.IsDir(), "a folder, not a copied link")
	uts, err := os.ReadFile(filepath.Join(lv.Dir, "include/generated/utsrelease.h"))
	require.NoError(t, err)
	assert.Equal(t, "#define UTS_RELEASE \""+rel+"-other\"\n", string(uts))
	for p, data := range files {
		got, err := os.ReadFile(filepath.Join(headers, p))
		require.NoError(t, err)
		assert.Equal(t, data, string(got), "the installed headers' %s is untouched", p)
	}
	assert.FileExists(t, filepath.Join(lv.Dir, "scripts/mod/modpost"))
	target, err := os.Readlink(filepath.Join(lv.Dir, "scripts"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "usr/lib/linux-kbuild-6.1/scripts"), target)
	target, err = os.Readlink(filepath.Join(lv.Dir, "config-link"))
	require.NoError(t, err)
	assert.Equal(t, "include/config", target, "a link within the tree stays relative, to the copy's own file")
}

// TestChangeCRC: the symbol's CRC, and only its, changes in a
// Module.symvers (lines in 6.12's format: CRC, symbol, module, export, namespace).
func TestChangeCRC(t *testing.T) {
	symvers := "0x7f02188f\t__msecs_to_jiffies\tvmlinux\tEXPORT_SYMBOL\t\n0x122c3a7e\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n0x0ca9b6bc\tns_answer\tns_export\tEXPORT_SYMBOL_GPL\tMODMATRIX_NS\n"
	got, ok := changeCRC([]byte(symvers), "_printk")
	require.True(t, ok)
	assert.Equal(t, "0x7f02188f\t__msecs_to_jiffies\tvmlinux\tEXPORT_SYMBOL\t\n0x122c3a7f\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n0x0ca9b6bc\tns_answer\tns_export\tEXPORT_SYMBOL_GPL\tMODMATRIX_NS\n", string(got))
	_, ok = changeCRC([]byte(symvers), "printk")
	assert.False(t, ok)
}
