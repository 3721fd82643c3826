// Package ksrc finds kernel source trees and gives each an identity for
// cache keys. The harness never writes into a source tree: kernels are
// built with O= into directories of their own.
package ksrc

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Source is a kernel source tree.
type Source struct {
	Dir     string // absolute
	Version string // "6.12.117" (KERNELVERSION: VERSION.PATCHLEVEL.SUBLEVEL EXTRAVERSION)
	Series  string // "6.12"
	// ID identifies the tree's contents; it changes when the tree does.
	ID string
	// Location names the place of a tree whose contents can change there
	// (Dir: "dir:" + its path). Builds of every content of one Location
	// share a build directory, so an edit rebuilds only what it touched.
	// Empty for a Debian source: its directory only ever holds one content.
	Location string
}

// ShortID is a short, path-friendly digest of ID.
func (s *Source) ShortID() string { return shortHash(s.ID) }

func (s *Source) String() string { return fmt.Sprintf("linux %s (%s)", s.Version, s.Dir) }

// ErrNotKernelTree is returned (wrapped) for a directory that is not a kernel
// source tree.
var ErrNotKernelTree = errors.New("not a kernel source tree")

var makeVarRe = regexp.MustCompile(`^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(.*?)\s*$`)

// readVersion reads the version variables at the top of the kernel Makefile.
func readVersion(dir string) (version, series string, err error) {
	mf := filepath.Join(dir, "Makefile")
	version, series, err = MakefileVersion(mf)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w: %v", dir, ErrNotKernelTree, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Kconfig")); err != nil {
		return "", "", fmt.Errorf("%s: %w: no top-level Kconfig", dir, ErrNotKernelTree)
	}
	return version, series, nil
}

// MakefileVersion is KERNELVERSION ("6.12.117") and the series ("6.12")
// from the variables at the top of a kernel Makefile (a source tree's, or
// a headers package's).
func MakefileVersion(mf string) (version, series string, err error) {
	f, err := os.Open(mf)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan() && n < 50; n++ {
		if m := makeVarRe.FindStringSubmatch(sc.Text()); m != nil {
			if _, dup := vars[m[1]]; !dup {
				vars[m[1]] = m[2]
			}
		}
	}
	if vars["VERSION"] == "" || vars["PATCHLEVEL"] == "" {
		return "", "", fmt.Errorf("no VERSION/PATCHLEVEL in %s", mf)
	}
	// As the kernel's KERNELVERSION: SUBLEVEL is appended even when 0.
	series = vars["VERSION"] + "." + vars["PATCHLEVEL"]
	version = series
	if s := vars["SUBLEVEL"]; s != "" {
		version += "." + s
	}
	return version + vars["EXTRAVERSION"], series, nil
}

// checkClean fails when dir has been configured or built in place: kbuild
// then refuses every O= build ("source tree is not clean").
func checkClean(dir string) error {
	var found []string
	// The checks of kbuild's outputmakefile target.
	for _, p := range []string{".config", "include/config"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			found = append(found, p)
		}
	}
	generated, _ := filepath.Glob(filepath.Join(dir, "arch", "*", "include", "generated"))
	for _, g := range generated {
		rel, _ := filepath.Rel(dir, g)
		found = append(found, rel)
	}
	if len(found) > 0 {
		return fmt.Errorf("kernel source %s is not clean (has %s), so kbuild refuses out-of-tree (O=) builds from it: run make mrproper in %s",
			dir, strings.Join(found, " and "), dir)
	}
	return nil
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
