package distro

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cloud612 are the packages debian-cloud-6.12 resolves to in
// testdata/apt-cache.
var cloud612 = []pkg{
	{"linux-image-6.12.117+deb12-cloud-amd64", "6.12.117-1~deb12u1"},
	{"linux-headers-6.12.117+deb12-cloud-amd64", "6.12.117-1~deb12u1"},
	{"linux-headers-6.12.117+deb12-common", "6.12.117-1~deb12u1"},
	{"linux-kbuild-6.12.117+deb12", "6.12.117-1~deb12u1"},
}

// aptOffline is what apt-get download says with no way out (an
// APT_CONFIG proxy on a closed port, measured here).
const aptOffline = "E: Failed to fetch http://deb.debian.org/debian-security/pool/main/l/linux-signed-amd64/linux-image-6.12.117+deb12-cloud-amd64_6.12.117-1~deb12u1_amd64.deb  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)"

// downloadingApt resolves from testdata/apt-cache and downloads with
// download, counting its calls.
func downloadingApt(t *testing.T, download func(dir string, pkgs []pkg) error) (*Apt, *int) {
	a, _ := recordedApt(t)
	calls := 0
	a.download = func(_ context.Context, dir string, pkgs []pkg) error {
		calls++
		return download(dir, pkgs)
	}
	return a, &calls
}

// offline leaves half a file behind, as an interrupted download would,
// and fails as apt-get does.
func offline(dir string, pkgs []pkg) error {
	if err := os.WriteFile(filepath.Join(dir, "linux-image.deb.partial"), []byte("half"), 0o644); err != nil {
		return err
	}
	return &downloadError{pkgs: pkgs, last: aptOffline, err: errors.New("exit status 100")}
}

// noTemporaries fails if anything but entries and locks is in dir.
func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), "."), "temporary left in %s: %s", dir, e.Name())
	}
}

// When apt resolves a spec but cannot download it, a cached copy of the
// same packages is used without asking apt-get download at all; without
// one, the newest cached match of the series is taken with a note; with
// neither, the error names the spec, the packages, apt's reason and the
// cache that has no copy, and nothing is left behind.
func TestGetCannotDownload(t *testing.T) {
	const rel = "6.12.117+deb12-cloud-amd64"
	tests := []struct {
		name      string
		cache     func(t *testing.T, dir string)
		downloads int
		err       []string // in the error; nil: a kernel
		note      string   // in its Note
	}{
		{
			name: "no copy",
			cache: func(t *testing.T, dir string) {
				cachedEntry(t, dir, "linux-image-6.1.0-56-cloud-amd64", "6.1.192-2", "6.1.0-56-cloud-amd64")
			},
			downloads: 1,
			err: []string{
				"--kernel debian-cloud-6.12: apt-get download " + pkgList(cloud612) + " failed (exit status 100): " + aptOffline,
				"; no copy of them is cached in DIR, nor any other 6.12 cloud kernel: run once where apt can download them",
			},
		},
		{
			name:  "the same packages cached",
			cache: func(t *testing.T, dir string) { cachedPackages(t, dir, cloud612, rel) },
		},
		{
			name: "the same packages cached, damaged",
			cache: func(t *testing.T, dir string) {
				entry := cachedPackages(t, dir, cloud612, rel)
				require.NoError(t, os.Truncate(filepath.Join(entry, "root/boot/vmlinuz-"+rel), 3))
			},
			downloads: 1,
			err: []string{
				"failed (exit status 100): " + aptOffline,
				"; the copy cached in DIR/" + entryName(cloud612) + " is damaged (root/boot/vmlinuz-" + rel + " has 3 bytes, the manifest says 7), nor any other 6.12 cloud kernel",
			},
		},
		{
			name: "an older kernel of the series cached",
			cache: func(t *testing.T, dir string) {
				cachedEntry(t, dir, "linux-image-6.12.115+deb12-cloud-amd64", "6.12.115-1~deb12u1", "6.12.115+deb12-cloud-amd64")
			},
			downloads: 1,
			note: "apt could not download linux-image-6.12.117+deb12-cloud-amd64=6.12.117-1~deb12u1, so the newest match in the cache: " +
				"linux-image-6.12.115+deb12-cloud-amd64=6.12.115-1~deb12u1 (" + aptOffline + ")",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			dir := filepath.Join(cache, "distro")
			tt.cache(t, dir)
			s, err := ParseSpec("debian-cloud-6.12")
			require.NoError(t, err)
			a, calls := downloadingApt(t, offline)
			k, err := Get(context.Background(), cache, a, s)
			assert.Equal(t, tt.downloads, *calls, "apt-get download runs")
			noTemporaries(t, dir)
			if tt.err != nil {
				require.Error(t, err)
				for _, want := range tt.err {
					assert.Contains(t, err.Error(), strings.ReplaceAll(want, "DIR", dir))
				}
				assert.NotContains(t, err.Error(), ".tmp-", "no temporary named")
				t.Log(err)
				return
			}
			require.NoError(t, err)
			assert.True(t, k.Kernel.Cached)
			assert.Equal(t, tt.note, k.Note)
		})
	}
}

// A damaged entry is a miss: fetched again in place, whole afterwards.
// The packages are real .deb files (dpkg-deb -b) laid out as Debian's:
// the headers include the common tree and link to linux-kbuild's scripts.
func TestGetFetchesDamagedEntryAgain(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb: ", err)
	}
	const rel = "6.12.117+deb12-cloud-amd64"
	a, calls := downloadingApt(t, func(dir string, pkgs []pkg) error { return fakeDebs(t, dir, pkgs, rel) })
	cache := t.TempDir()
	dir := filepath.Join(cache, "distro")
	s, err := ParseSpec("debian-cloud-6.12")
	require.NoError(t, err)
	ctx := context.Background()

	k, err := Get(ctx, cache, a, s)
	require.NoError(t, err)
	assert.False(t, k.Kernel.Cached)
	assert.Equal(t, 1, *calls)
	entry := filepath.Join(dir, entryName(cloud612))
	m, err := check(entry)
	require.NoError(t, err)
	modpost := "root/usr/lib/linux-kbuild-6.12.117+deb12/scripts/mod/modpost"
	assert.Contains(t, m.Files, modpost, "through the headers' scripts link")
	assert.Len(t, m.Files, 5)

	k, err = Get(ctx, cache, a, s)
	require.NoError(t, err)
	assert.True(t, k.Kernel.Cached)
	assert.Equal(t, 1, *calls, "a hit downloads nothing")

	require.NoError(t, os.Truncate(filepath.Join(entry, modpost), 1))
	assert.ErrorContains(t, CheckEntry(entry), modpost+" has 1 bytes")
	k, err = Get(ctx, cache, a, s)
	require.NoError(t, err)
	assert.False(t, k.Kernel.Cached)
	assert.Equal(t, 2, *calls, "fetched again")
	assert.NoError(t, CheckEntry(entry), "whole again, in place")
	noTemporaries(t, dir)
}

// fakeDebs builds a .deb for each of the image, headers, common headers
// and kbuild packages of release rel in dir.
func fakeDebs(t *testing.T, dir string, pkgs []pkg, rel string) error {
	t.Helper()
	common := "usr/src/linux-headers-6.12.117+deb12-common"
	kbuild := "usr/lib/linux-kbuild-6.12.117+deb12"
	hdr := "usr/src/linux-headers-" + rel
	files := map[string]map[string]string{
		"linux-image-": {"boot/vmlinuz-" + rel: "bzImage", "boot/config-" + rel: guestConfig},
		"linux-headers-6.12.117+deb12-cloud": {
			hdr + "/Makefile":                       "include /" + common + "/Makefile\n",
			hdr + "/Module.symvers":                 "0x1\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n",
			hdr + "/include/generated/utsrelease.h": "#define UTS_RELEASE \"" + rel + "\"\n",
			hdr + "/scripts":                        "-> ../../lib/linux-kbuild-6.12.117+deb12/scripts",
		},
		"linux-headers-6.12.117+deb12-common": {common + "/Makefile": "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\n"},
		"linux-kbuild-":                       {kbuild + "/scripts/mod/modpost": "ELF modpost"},
	}
	for _, p := range pkgs {
		var content map[string]string
		for prefix, c := range files {
			if strings.HasPrefix(p.Name, prefix) {
				content = c
			}
		}
		require.NotNil(t, content, p.Name)
		root := filepath.Join(t.TempDir(), p.Name)
		control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: test <t@example.org>\nDescription: test\n", p.Name, p.Version)
		content["DEBIAN/control"] = control
		for path, text := range content {
			full := filepath.Join(root, path)
			require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
			if target, ok := strings.CutPrefix(text, "-> "); ok {
				require.NoError(t, os.Symlink(target, full))
				continue
			}
			require.NoError(t, os.WriteFile(full, []byte(text), 0o644))
		}
		out, err := exec.Command("dpkg-deb", "--root-owner-group", "-b", root, filepath.Join(dir, p.Name+".deb")).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	return nil
}
