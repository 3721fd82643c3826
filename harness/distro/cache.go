package distro

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pault.ag/go/debian/version"
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

// newestCached is the complete entry that best matches s when apt cannot
// say: for a series the newest kernel of that series and flavour, else
// the entry of the named image (and headers).
func newestCached(dir string, s Spec) (string, bool) {
	manifests, _ := filepath.Glob(filepath.Join(dir, "*", manifestName))
	best, bestVersion := "", ""
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
		if !s.matches(image, version, m.Packages) {
			continue
		}
		if best == "" || newerVersion(version, bestVersion) {
			best, bestVersion = filepath.Dir(mf), version
		}
	}
	return best, best != ""
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
		return m != nil && m[2] == s.Flavour+"-amd64" && strings.HasPrefix(version, s.Version+".")
	default:
		name := "linux-image-" + s.Version + "-" + s.Flavour + "-amd64"
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
}

const manifestName = "manifest.json"

// complete reports whether entry is unpacked whole.
func complete(entry string) bool {
	_, err := os.Stat(filepath.Join(entry, manifestName))
	return err == nil
}

// load returns the kernel of a complete entry.
func load(s Spec, entry string) (*Kernel, error) {
	data, err := os.ReadFile(filepath.Join(entry, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(entry, manifestName), err)
	}
	id := "debian:" + strings.Join(m.Packages, ",")
	k, err := kernel(s, id, filepath.Join(entry, m.Vmlinuz), filepath.Join(entry, m.Headers),
		filepath.Join(entry, m.Srctree), filepath.Join(entry, m.Config))
	if err != nil {
		return nil, err
	}
	k.Packages = m.Packages
	return k, nil
}

// pathSafe turns a package name_version into a folder name (an epoch's
// colon is not welcome in make's paths).
func pathSafe(s string) string { return strings.NewReplacer(":", "%", "/", "_").Replace(s) }
