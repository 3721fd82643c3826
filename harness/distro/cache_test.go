package distro

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// guestConfig has what kconfig.CheckGuest asks of a kernel.
const guestConfig = "CONFIG_MODULES=y\nCONFIG_SERIAL_8250_CONSOLE=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_DEVTMPFS=y\nCONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_CONSOLE=y\n"

// unpacked writes what dpkg-deb leaves of an image and its headers under
// root, for release rel (6.12.117+deb12-cloud-amd64) and a headers tree
// of release hrel.
func unpacked(t *testing.T, root, rel, hrel string) {
	t.Helper()
	version, _, _ := strings.Cut(rel, "+")
	parts := strings.SplitN(version, ".", 3)
	hdr := filepath.Join("usr/src/linux-headers-" + rel)
	for p, text := range map[string]string{
		"boot/vmlinuz-" + rel:                   "bzImage",
		"boot/config-" + rel:                    guestConfig,
		hdr + "/Makefile":                       "VERSION = " + parts[0] + "\nPATCHLEVEL = " + parts[1] + "\nSUBLEVEL = " + parts[2] + "\n",
		hdr + "/Module.symvers":                 "",
		hdr + "/include/generated/utsrelease.h": "#define UTS_RELEASE \"" + hrel + "\"\n",
		hdr + "/include/config/kernel.release":  hrel + "\n",
	} {
		p = filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
}

// cachedEntry makes a complete cache entry of an image package as fetch
// leaves it, and returns its folder.
func cachedEntry(t *testing.T, dir, image, version, rel string) string {
	t.Helper()
	return cachedPackages(t, dir, []pkg{{image, version}, {strings.Replace(image, "linux-image-", "linux-headers-", 1), version}}, rel)
}

// cachedPackages makes the complete cache entry of pkgs (the image
// first), manifest and sums as fetch writes them.
func cachedPackages(t *testing.T, dir string, pkgs []pkg, rel string) string {
	t.Helper()
	entry := filepath.Join(dir, entryName(pkgs))
	root := filepath.Join(entry, "root")
	unpacked(t, root, rel, rel)
	m, err := describe(root, pkgs)
	require.NoError(t, err)
	m.Vmlinuz, m.Config = filepath.Join("root", m.Vmlinuz), filepath.Join("root", m.Config)
	m.Headers, m.Srctree = filepath.Join("root", m.Headers), filepath.Join("root", m.Srctree)
	m.Files, err = sumFiles(entry, entry, m)
	require.NoError(t, err)
	data, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(entry, manifestName), data, 0o644))
	return entry
}

// offlineApt knows no package, and cannot refresh its lists.
func offlineApt(asked *[]string) *Apt {
	return &Apt{
		show: func(_ context.Context, q string) ([]byte, error) {
			*asked = append(*asked, q)
			return nil, errNotFound
		},
		update: func(context.Context) error {
			*asked = append(*asked, "update")
			return errors.New("apt-get update: Temporary failure resolving 'deb.debian.org'")
		},
	}
}

func TestEntryNameFollowsEveryPackage(t *testing.T) {
	img := pkg{"linux-image-6.12.117+deb12-cloud-amd64", "6.12.117-1~deb12u1"}
	a := entryName([]pkg{img, {"linux-headers-6.12.117+deb12-cloud-amd64", "6.12.117-1~deb12u1"}})
	b := entryName([]pkg{img, {"linux-headers-6.12.117+deb12-rt-amd64", "6.12.117-1~deb12u1"}})
	assert.True(t, strings.HasPrefix(a, "linux-image-6.12.117+deb12-cloud-amd64_6.12.117-1~deb12u1-"), a)
	assert.NotEqual(t, a, b, "other headers, another entry")
	epoch := entryName([]pkg{{"linux-image-6.1.0-56-cloud-amd64", "1:6.1.192-2"}})
	assert.True(t, strings.HasPrefix(epoch, "linux-image-6.1.0-56-cloud-amd64_1%6.1.192-2-"), "no colon for make: %s", epoch)
}

// An exact spec resolved once is found in the cache without apt, which
// may no longer know the version.
func TestGetPinnedSpecWithoutApt(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(cache, "distro")
	entry := cachedEntry(t, dir, "linux-image-6.12.115+deb12-cloud-amd64", "6.12.115-1~deb12u1", "6.12.115+deb12-cloud-amd64")
	s, err := ParseSpec("debian-cloud-6.12.115+deb12")
	require.NoError(t, err)
	require.NoError(t, pin(dir, s, entry))

	var asked []string
	k, err := Get(context.Background(), cache, offlineApt(&asked), s)
	require.NoError(t, err)
	assert.Empty(t, asked, "apt is not asked")
	assert.True(t, k.Kernel.Cached)
	assert.Equal(t, "6.12.115+deb12-cloud-amd64", k.Kernel.Release)
	assert.Equal(t, "6.12.115", k.Kernel.Version)
	assert.Empty(t, k.Note)
}

// A series apt cannot resolve falls back to its newest cached kernel,
// saying so; another series does not match.
func TestGetSeriesFallsBackToNewestCached(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(cache, "distro")
	cachedEntry(t, dir, "linux-image-6.12.115+deb12-cloud-amd64", "6.12.115-1~deb12u1", "6.12.115+deb12-cloud-amd64")
	cachedEntry(t, dir, "linux-image-6.12.117+deb12-cloud-amd64", "6.12.117-1~deb12u1", "6.12.117+deb12-cloud-amd64")
	cachedEntry(t, dir, "linux-image-6.12.119+deb12-rt-amd64", "6.12.119-1~deb12u1", "6.12.119+deb12-rt-amd64")

	s, err := ParseSpec("debian-cloud-6.12")
	require.NoError(t, err)
	var asked []string
	k, err := Get(context.Background(), cache, offlineApt(&asked), s)
	require.NoError(t, err)
	assert.Contains(t, asked, "update")
	assert.Equal(t, "6.12.117+deb12-cloud-amd64", k.Kernel.Release)
	assert.Contains(t, k.Note, "newest match in the cache: linux-image-6.12.117+deb12-cloud-amd64=6.12.117-1~deb12u1")
	assert.Contains(t, k.Note, "Temporary failure resolving", "the update's error is in it")

	s, err = ParseSpec("debian-cloud-6.1")
	require.NoError(t, err)
	_, err = Get(context.Background(), cache, offlineApt(&asked), s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--kernel debian-cloud-6.1:")
}

// One Apt for a run's specs: apt-get update runs once, and its failure is
// in the error.
func TestLookupUpdatesOnceAndKeepsItsError(t *testing.T) {
	var asked []string
	a := offlineApt(&asked)
	_, err := a.lookup(context.Background(), "linux-image-6.99-cloud-amd64")
	require.Error(t, err)
	assert.ErrorIs(t, err, errNotFound)
	assert.Contains(t, err.Error(), "Temporary failure resolving 'deb.debian.org'")
	_, err = a.lookup(context.Background(), "linux-image-6.98-cloud-amd64")
	require.Error(t, err)
	assert.Equal(t, []string{"linux-image-6.99-cloud-amd64", "update", "linux-image-6.98-cloud-amd64"}, asked)
}

// deb:IMAGE,HEADERS with another kernel's headers is refused before it is
// cached: its modules would never load.
func TestDescribeRejectsOtherHeaders(t *testing.T) {
	root := t.TempDir()
	unpacked(t, root, "6.12.117+deb12-cloud-amd64", "6.12.117+deb12-rt-amd64")
	_, err := describe(root, []pkg{{"linux-image-6.12.117+deb12-cloud-amd64", "6.12.117-1~deb12u1"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the image is release 6.12.117+deb12-cloud-amd64 but the headers are 6.12.117+deb12-rt-amd64")
}

// Headers given as the /lib/modules/REL/build link are the tree it leads
// to.
func TestLocalResolvesLinks(t *testing.T) {
	root := t.TempDir()
	const rel = "6.12.117+deb12-cloud-amd64"
	unpacked(t, root, rel, rel)
	headers := filepath.Join(root, "usr/src/linux-headers-"+rel)
	build := filepath.Join(root, "lib/modules", rel, "build")
	require.NoError(t, os.MkdirAll(filepath.Dir(build), 0o755))
	require.NoError(t, os.Symlink("../../../usr/src/linux-headers-"+rel, build))
	vmlinuz := filepath.Join(root, "vmlinuz")
	require.NoError(t, os.Symlink("boot/vmlinuz-"+rel, vmlinuz))

	s, err := ParseSpec("vmlinuz=" + vmlinuz + ",headers=" + build + ",config=" + filepath.Join(root, "boot/config-"+rel))
	require.NoError(t, err)
	k, err := Get(context.Background(), t.TempDir(), nil, s)
	require.NoError(t, err)
	assert.Equal(t, headers, k.Kernel.Dir)
	assert.Equal(t, filepath.Join(root, "boot/vmlinuz-"+rel), k.Kernel.BzImage)
	assert.Equal(t, rel, k.Kernel.Release)
}

// Debian's order, not the order of the numbers in the string: the tilde
// sorts before anything (a backport or security upload for bookworm,
// 1~deb12u1, is older than the 1 it was built from), an epoch outranks the
// rest, +deb12u1 is newer than what it updates, and digit runs compare as
// numbers while other characters compare as characters.
func TestNewerVersion(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		newer bool
	}{
		{"tilde sorts before the end", "6.12.117-1", "6.12.117-1~deb12u1", true},
		{"tilde sorts before the end, reversed", "6.12.117-1~deb12u1", "6.12.117-1", false},
		{"tilde before a higher revision", "6.12.117-1~deb12u1", "6.12.115-2", true},
		{"tilde in the upstream version", "6.12~rc7-1", "6.12-1", false},
		{"equal", "6.12.117-1~deb12u1", "6.12.117-1~deb12u1", false},
		{"epoch outranks the version", "1:6.1.0-1", "6.12.117-1", true},
		{"higher epoch", "2:1.0-1", "1:9.9-9", true},
		{"plus deb12u1 updates the revision", "6.12.117-1+deb12u1", "6.12.117-1", true},
		{"plus deb12u2 after u1", "6.12.117-1+deb12u2", "6.12.117-1+deb12u1", true},
		{"plus after tilde", "6.12.117-1+deb12u1", "6.12.117-1~deb12u1", true},
		{"numbers compare as numbers", "6.12.117-1", "6.12.99-1", true},
		{"numbers compare as numbers, revision", "6.1.192-10", "6.1.192-9", true},
		{"letters after the end", "6.1.0a-1", "6.1.0-1", true},
		{"letters compare as characters", "6.1.0-1~bpo12", "6.1.0-1~deb12", false},
		{"an unparseable version is never newer", "not-a-version", "6.1.0-1", false},
		{"than an unparseable version", "6.1.0-1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.newer, newerVersion(tt.a, tt.b), "%s newer than %s", tt.a, tt.b)
		})
	}
}

// Of a series' cached kernels, the fallback takes the newest in Debian's
// order: the upload without a tilde over the ~deb12u1 one it came from.
func TestNewestCachedFollowsDebianOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "distro")
	cachedEntry(t, dir, "linux-image-6.12.117+deb12-cloud-amd64", "6.12.117-1~deb12u1", "6.12.117+deb12-cloud-amd64")
	want := cachedEntry(t, dir, "linux-image-6.12.117+deb12-cloud-amd64", "6.12.117-1", "6.12.117+deb12-cloud-amd64")
	cachedEntry(t, dir, "linux-image-6.12.99+deb12-cloud-amd64", "6.12.99-1", "6.12.99+deb12-cloud-amd64")
	s, err := ParseSpec("debian-cloud-6.12")
	require.NoError(t, err)
	got, ok := newestCached(dir, s)
	require.True(t, ok)
	assert.Equal(t, want, got)
}

// An entry's manifest records the files a later run relies on; a hit
// checks them. One an older modmatrix wrote without them is taken as it
// is; one without a manifest is incomplete (a miss), not damaged.
func TestCheckEntry(t *testing.T) {
	const rel = "6.12.117+deb12-cloud-amd64"
	hdr := "root/usr/src/linux-headers-" + rel
	tests := []struct {
		name    string
		damage  func(t *testing.T, entry string)
		damaged string // in the error; "" for a whole entry
	}{
		{"whole", func(*testing.T, string) {}, ""},
		{"vmlinuz truncated", func(t *testing.T, entry string) {
			require.NoError(t, os.Truncate(filepath.Join(entry, "root/boot/vmlinuz-"+rel), 3))
		}, "root/boot/vmlinuz-" + rel + " has 3 bytes, the manifest says 7"},
		{"config altered", func(t *testing.T, entry string) {
			p := filepath.Join(entry, "root/boot/config-"+rel)
			require.NoError(t, os.WriteFile(p, []byte(strings.Replace(guestConfig, "MODULES=y", "MODULES=n", 1)), 0o644))
			require.NoError(t, os.Chtimes(p, time.Now(), time.Now().Add(time.Hour)))
		}, "root/boot/config-" + rel + "'s content is not what was built"},
		{"headers Makefile removed", func(t *testing.T, entry string) {
			require.NoError(t, os.Remove(filepath.Join(entry, hdr, "Makefile")))
		}, hdr + "/Makefile is missing"},
		{"Module.symvers removed", func(t *testing.T, entry string) {
			require.NoError(t, os.Remove(filepath.Join(entry, hdr, "Module.symvers")))
		}, hdr + "/Module.symvers is missing"},
		{"manifest unreadable", func(t *testing.T, entry string) {
			require.NoError(t, os.WriteFile(filepath.Join(entry, manifestName), []byte(`{"packages": [`), 0o644))
		}, "manifest.json: unexpected end of JSON input"},
		{"older modmatrix: no sums", func(t *testing.T, entry string) {
			p := filepath.Join(entry, manifestName)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(data, &m))
			delete(m, "files")
			data, err = json.Marshal(m)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, data, 0o644))
			require.NoError(t, os.Truncate(filepath.Join(entry, "root/boot/vmlinuz-"+rel), 3)) // not known to be damaged
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "distro")
			entry := cachedEntry(t, dir, "linux-image-"+rel, "6.12.117-1~deb12u1", rel)
			tt.damage(t, entry)
			err := CheckEntry(entry)
			s, perr := ParseSpec("debian-cloud-6.12")
			require.NoError(t, perr)
			found, ok := newestCached(dir, s)
			if tt.damaged == "" {
				require.NoError(t, err)
				assert.True(t, ok)
				assert.Equal(t, entry, found)
				return
			}
			require.Error(t, err)
			var d *cacheentry.DamagedError
			assert.ErrorAs(t, err, &d)
			assert.Contains(t, err.Error(), "cache entry "+entry+" is damaged: "+tt.damaged)
			_, lerr := load(s, entry)
			assert.Error(t, lerr)
			assert.False(t, ok, "the fallback passes a damaged entry over")
		})
	}

	t.Run("no manifest", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "distro")
		entry := cachedEntry(t, dir, "linux-image-"+rel, "6.12.117-1~deb12u1", rel)
		require.NoError(t, os.Remove(filepath.Join(entry, manifestName)))
		err := CheckEntry(entry)
		assert.ErrorIs(t, err, errIncomplete)
		var d *cacheentry.DamagedError
		assert.False(t, errors.As(err, &d))
	})
}

// The files recorded are those a run reads, found through the entry's
// links as relink leaves them (pointing into the entry, which is not in
// place yet while it is unpacked): modpost is the kbuild package's.
func TestSumFilesFollowLinksInsideTheEntry(t *testing.T) {
	const rel = "6.12.117+deb12-cloud-amd64"
	tmp := t.TempDir()
	entry := "/cache/distro/e" // not there: sums must not look at it
	root := filepath.Join(tmp, "root")
	unpacked(t, root, rel, rel)
	hdr := filepath.Join(root, "usr/src/linux-headers-"+rel)
	kbuild := filepath.Join(root, "usr/lib/linux-kbuild-6.12.117+deb12/scripts/mod")
	require.NoError(t, os.MkdirAll(kbuild, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(kbuild, "modpost"), []byte("ELF modpost"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(kbuild, "modpost.real-lsb-64"), []byte("ELF modpost.real"), 0o755))
	require.NoError(t, os.Symlink("../../lib/linux-kbuild-6.12.117+deb12/scripts", filepath.Join(hdr, "scripts")))
	require.NoError(t, relink(root, filepath.Join(entry, "root")))

	m, err := describe(root, []pkg{{"linux-image-" + rel, "6.12.117-1~deb12u1"}})
	require.NoError(t, err)
	m.Vmlinuz, m.Config = filepath.Join("root", m.Vmlinuz), filepath.Join("root", m.Config)
	m.Headers, m.Srctree = filepath.Join("root", m.Headers), filepath.Join("root", m.Srctree)
	sums, err := sumFiles(tmp, entry, m)
	require.NoError(t, err)
	var names []string
	for n := range sums {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{
		"root/boot/vmlinuz-" + rel, "root/boot/config-" + rel,
		"root/usr/src/linux-headers-" + rel + "/Makefile", "root/usr/src/linux-headers-" + rel + "/Module.symvers",
		"root/usr/lib/linux-kbuild-6.12.117+deb12/scripts/mod/modpost",
		"root/usr/lib/linux-kbuild-6.12.117+deb12/scripts/mod/modpost.real-lsb-64",
	}, names)
	assert.EqualValues(t, len("ELF modpost"), sums["root/usr/lib/linux-kbuild-6.12.117+deb12/scripts/mod/modpost"].Size)

	// A link out of the entry is not followed.
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(hdr, "outside")))
	_, err = inEntry(tmp, entry, "root/usr/src/linux-headers-"+rel+"/outside")
	assert.ErrorContains(t, err, "leads out of the entry")
}

// BenchmarkCheckEntry is a hit's check of an entry with the files and
// sizes of Debian's 6.12.117 cloud kernel (12.8 MB summed): the first in a
// process reads every digest, later ones in the same process only stat.
func BenchmarkCheckEntry(b *testing.B) {
	entry := b.TempDir()
	hdr := "root/usr/src/linux-headers-6.12.117+deb12-cloud-amd64/"
	kb := "root/usr/lib/linux-kbuild-6.12.117+deb12/scripts/mod/"
	sizes := map[string]int{
		"root/boot/vmlinuz-6.12.117+deb12-cloud-amd64": 11655104,
		"root/boot/config-6.12.117+deb12-cloud-amd64":  132616,
		hdr + "Makefile":           163,
		hdr + "Module.symvers":     948280,
		kb + "modpost":             14616,
		kb + "modpost.real-lsb-64": 76424,
	}
	var names []string
	for n, size := range sizes {
		p := filepath.Join(entry, n)
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, make([]byte, size), 0o644))
		names = append(names, n)
	}
	sums, err := cacheentry.Sum(entry, names...)
	require.NoError(b, err)
	data, err := json.Marshal(manifest{Packages: []string{"linux-image-6.12.117+deb12-cloud-amd64=6.12.117-1~deb12u1"}, Files: sums})
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(filepath.Join(entry, manifestName), data, 0o644))

	var stamps int64
	b.Run("first in a process", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			stamps++
			for _, n := range names { // a new stamp: the memo does not know it
				at := time.Unix(1e9+stamps, 0)
				require.NoError(b, os.Chtimes(filepath.Join(entry, n), at, at))
			}
			b.StartTimer()
			if err := CheckEntry(entry); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", func(b *testing.B) {
		for range b.N {
			if err := CheckEntry(entry); err != nil {
				b.Fatal(err)
			}
		}
	})
}
