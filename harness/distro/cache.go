package distro

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"pault.ag/go/debian/version"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// entryName names a cache entry after its image and, by a short hash,
// every package in it.
func entryName(pkgs []pkg) string {
	var all []string
	for _, p := range pkgs {
		all = append(all, p.String())
	}
	sum := sha256.Sum256([]byte(strings.Join(all, ",")))
	return pathSafe(pkgs[0].Name+"_"+pkgs[0].Version) + "-" + hex.EncodeToString(sum[:4])
}

// newestCached is the whole entry that best matches s when apt cannot
// say (or cannot download): for a series the newest kernel of that series
// and flavour, else the entry of the named image (and headers). A damaged
// entry is passed over.
func newestCached(dir string, s Spec) (string, bool) {
	manifests, _ := filepath.Glob(filepath.Join(dir, "*", manifestName))
	type candidate struct{ entry, version string }
	var found []candidate
	for _, mf := range manifests {
		data, err := os.ReadFile(mf)
		if err != nil {
			continue
		}
		var m manifest
		if json.Unmarshal(data, &m) != nil || len(m.Packages) == 0 {
			continue
		}
		image, version, _ := strings.Cut(m.Packages[0], "=")
		if s.matches(image, version, m.Packages) {
			found = append(found, candidate{filepath.Dir(mf), version})
		}
	}
	// Newest first; of one version the first entry found.
	sort.SliceStable(found, func(i, j int) bool { return newerVersion(found[i].version, found[j].version) })
	for _, c := range found {
		if _, err := check(c.entry); err == nil {
			return c.entry, true
		}
	}
	return "", false
}

// matches reports whether an entry of the image package at version (and
// packages, name=version) is what s names.
func (s Spec) matches(image, version string, packages []string) bool {
	switch {
	case s.Image != "":
		if image != s.Image {
			return false
		}
		for _, p := range packages {
			if name, _, _ := strings.Cut(p, "="); name == s.Headers {
				return true
			}
		}
		return false
	case s.series():
		m := imageRE.FindStringSubmatch(image)
		return m != nil && m[2] == s.packageFlavour() && strings.HasPrefix(version, s.Version+".")
	default:
		name := "linux-image-" + s.Version + "-" + s.packageFlavour()
		return image == name || image == name+"-unsigned"
	}
}

// newerVersion reports whether the Debian version a sorts after b in
// dpkg's order: epoch first, then digits as numbers and the rest
// character by character with ~ before anything, even the end
// (6.12.117-1~deb12u1 is older than 6.12.117-1, newer than 6.12.115-2).
// A version dpkg would refuse is never the newer.
func newerVersion(a, b string) bool {
	va, err := version.Parse(a)
	if err != nil {
		return false
	}
	vb, err := version.Parse(b)
	if err != nil {
		return true
	}
	return version.Compare(va, vb) > 0
}

// manifest describes an unpacked entry; paths are relative to it. It is
// written last: an entry without it is not complete.
type manifest struct {
	Packages []string  `json:"packages"`
	Release  string    `json:"release"` // of the image; its headers are checked to match
	Vmlinuz  string    `json:"vmlinuz"`
	Config   string    `json:"config"`
	Headers  string    `json:"headers"` // the O= tree
	Srctree  string    `json:"srctree"` // what its Makefile includes
	Fetched  time.Time `json:"fetched"`
	// Files are the sizes and digests of what runs and module builds
	// read (sumFiles), by their paths in the entry with links followed; a
	// hit checks them. Entries made before they were recorded have none
	// and are taken as they are, as kernels' are.
	Files cacheentry.Sums `json:"files,omitempty"`
}

const manifestName = "manifest.json"

// errIncomplete is an entry without its manifest: a miss, not damage.
var errIncomplete = errors.New("no manifest.json: not unpacked whole")

// check reads the manifest of an entry unpacked whole, whose files are as
// it records them (a *cacheentry.DamagedError otherwise).
func check(entry string) (*manifest, error) {
	data, err := os.ReadFile(filepath.Join(entry, manifestName))
	if err != nil {
		return nil, errIncomplete
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &cacheentry.DamagedError{Dir: entry, Err: fmt.Errorf("%s: %w", manifestName, err)}
	}
	if err := m.Files.Check(entry); err != nil {
		return nil, &cacheentry.DamagedError{Dir: entry, Err: err}
	}
	return &m, nil
}

// CheckEntry tells whether the unpacked entry at dir is complete and
// whole (modmatrix cache verify).
func CheckEntry(dir string) error {
	_, err := check(dir)
	return err
}

// load returns the kernel of a complete, whole entry.
func load(s Spec, entry string) (*Kernel, error) {
	m, err := check(entry)
	if err != nil {
		return nil, err
	}
	id := "debian:" + strings.Join(m.Packages, ",")
	k, err := kernel(s, id, filepath.Join(entry, m.Vmlinuz), filepath.Join(entry, m.Headers),
		filepath.Join(entry, m.Srctree), filepath.Join(entry, m.Config), packageModules(filepath.Join(entry, "root"), m.Release))
	if err != nil {
		return nil, err
	}
	k.Packages = m.Packages
	return k, nil
}

// packageModules is where an unpacked image package has its modules:
// lib/modules/REL, or usr/lib/modules/REL in a merged-/usr layout ("" if
// neither).
func packageModules(root, release string) string {
	for _, d := range []string{"lib", "usr/lib"} {
		p := filepath.Join(root, d, "modules", release)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	return ""
}

// pathSafe turns a package name_version into a folder name (an epoch's
// colon is not welcome in make's paths).
func pathSafe(s string) string { return strings.NewReplacer(":", "%", "/", "_").Replace(s) }
