// Package distro provides prebuilt kernels: a distribution's own kernel
// image and headers (Debian's linux-image-…/linux-headers-… packages,
// downloaded with apt-get and unpacked into the cache) or a vmlinuz and a
// headers directory already on disk. Nothing is compiled but the test
// modules, built against the headers; the kernel's own .config drives the
// expectations.
package distro

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Spec is what --kernel names: Debian packages, or files on disk.
type Spec struct {
	Text string // as given, for errors

	// Debian: a flavour and a version (debian-cloud-6.12), or packages.
	Flavour string // "cloud": packages linux-image-VERSION-cloud-amd64; "amd64": the generic linux-image-VERSION-amd64
	Version string // "6.12" (newest of the series), "6.12.115+deb12" or "6.1.0-55" (an ABI)
	Image   string // deb:IMAGE,HEADERS
	Headers string

	// Files on disk: vmlinuz=PATH,headers=DIR[,config=PATH][,cell=NAME].
	Vmlinuz    string
	HeadersDir string
	Config     string

	// Cell names the kernel's one cell (its own configuration).
	Cell string
}

// packageFlavour is how Debian's image package names the flavour:
// cloud-amd64 for debian-cloud-…; the generic kernel (debian-amd64-…) is
// plain amd64.
func (s Spec) packageFlavour() string {
	if s.Flavour == "amd64" {
		return "amd64"
	}
	return s.Flavour + "-amd64"
}

// Debian reports whether the spec names Debian packages (to download).
func (s Spec) Debian() bool { return s.Vmlinuz == "" }

// series reports whether the spec names the newest kernel of a series
// (debian-cloud-6.12), which changes as Debian updates it.
func (s Spec) series() bool { return s.Flavour != "" && seriesRE.MatchString(s.Version) }

var (
	flavourRE = regexp.MustCompile(`^debian-([a-z][a-z0-9]*)-([0-9]+\.[0-9]+(?:[.+~-][0-9A-Za-z.+~-]*)?)$`)
	// imageRE splits linux-image-6.12.117+deb12-cloud-amd64(-unsigned).
	imageRE   = regexp.MustCompile(`^linux-image-([0-9][^-]*(?:-[0-9]+)?)-([a-z0-9-]+?)(?:-unsigned)?$`)
	cellRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	seriesRE  = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.~-]+$`)
)

// Syntax is the --kernel forms, for help texts and errors.
const Syntax = `debian-FLAVOUR-VERSION (debian-cloud-6.12: the newest 6.12 cloud kernel; debian-cloud-6.12.115+deb12 or debian-cloud-6.1.0-55: that one; debian-amd64-6.12: the generic one), ` +
	`deb:IMAGE_PACKAGE,HEADERS_PACKAGE, or vmlinuz=PATH,headers=DIR[,config=PATH][,cell=NAME]`

// ParseSpec reads one --kernel value.
func ParseSpec(text string) (Spec, error) {
	s := Spec{Text: text}
	bad := func(why string) (Spec, error) {
		return Spec{}, fmt.Errorf("--kernel %q: %s; want %s", text, why, Syntax)
	}
	switch {
	case strings.HasPrefix(text, "deb:"):
		img, hdr, ok := strings.Cut(strings.TrimPrefix(text, "deb:"), ",")
		if !ok || !packageRE.MatchString(img) || !packageRE.MatchString(hdr) {
			return bad("deb: takes two package names, the image's and the headers'")
		}
		m := imageRE.FindStringSubmatch(img)
		if m == nil {
			return bad(img + " is not a linux-image-VERSION-FLAVOUR package name")
		}
		s.Image, s.Headers = img, hdr
		s.Cell = "debian-" + strings.TrimSuffix(m[2], "-amd64")
	case strings.Contains(text, "="):
		for _, kv := range strings.Split(text, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || v == "" {
				return bad(fmt.Sprintf("%q is not KEY=VALUE", kv))
			}
			switch k {
			case "vmlinuz":
				s.Vmlinuz = v
			case "headers":
				s.HeadersDir = v
			case "config":
				s.Config = v
			case "cell":
				s.Cell = v
			default:
				return bad("unknown key " + k)
			}
		}
		if s.Vmlinuz == "" || s.HeadersDir == "" {
			return bad("vmlinuz= and headers= are both needed")
		}
		if s.Config == "" {
			s.Config = filepath.Join(s.HeadersDir, ".config")
		}
		if s.Cell == "" {
			s.Cell = "prebuilt"
		}
		if !cellRE.MatchString(s.Cell) {
			return bad("cell " + s.Cell + " is not a plain name")
		}
	default:
		m := flavourRE.FindStringSubmatch(text)
		if m == nil {
			return bad("unknown form")
		}
		s.Flavour, s.Version = m[1], m[2]
		s.Cell = "debian-" + s.Flavour
	}
	return s, nil
}

// String is the spec as given.
func (s Spec) String() string { return s.Text }
