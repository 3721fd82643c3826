package kbuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/harness/internal/kmake"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// WithLocalVersion returns k's tree as if it had been built with
// LOCALVERSION=lv: a copy whose kernel release (include/config/kernel.release
// and the UTS_RELEASE of include/generated/utsrelease.h, the two files
// `make LOCALVERSION=` changes for an out-of-tree build) carries lv. Modules
// built against it differ from k's only in their vermagic string, which is
// how a module built for "the same kernel, another release" looks. The copy
// is cached under variants/ by k's key and published by rename; lvMarker,
// written last, marks it complete (a prebuilt kernel's headers tree has no
// manifest to copy).
func (c *Cache) WithLocalVersion(ctx context.Context, k *Kernel, lv string) (*Kernel, error) {
	if strings.ContainsAny(lv, " \t'\"/\\") {
		return nil, fmt.Errorf("localversion %q: one word without quotes or slashes", lv)
	}
	// Not under kernels/: a copy must never be taken for a build tree.
	// By key: a prebuilt kernel's Dir is a headers tree named by its release.
	entry := cacheentry.Entry{
		Path:     filepath.Join(c.Dir, "variants", k.Key+"-lv"+lv),
		Locked:   true,
		Complete: lvComplete,
	}
	out := *k
	out.Key, out.Dir = k.Key+"-lv"+lv, entry.Path
	out.Release = k.Release + lv
	out.Vmlinux, out.BzImage = "", "" // never booted: only modules are built against it
	_, err := entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		return tmp, copyWithRelease(ctx, k.Dir, tmp, out.Release)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// copyWithRelease copies the tree at orig into dir with the kernel release
// rel.
func copyWithRelease(ctx context.Context, orig, dir, rel string) error {
	// The tree itself, not a link to it (headers given as
	// /lib/modules/REL/build): a copied link would have the release
	// written into the original.
	src, err := filepath.EvalSymlinks(orig)
	if err != nil {
		return err
	}
	if err := kmake.Run(ctx, filepath.Dir(dir), nil, "cp", "-a", "--reflink=auto", src+"/.", dir); err != nil {
		return err
	}
	if err := anchorLinks(src, dir); err != nil {
		return err
	}
	for path, data := range map[string][]byte{
		"include/config/kernel.release":  []byte(rel + "\n"),
		"include/generated/utsrelease.h": []byte(fmt.Sprintf("#define UTS_RELEASE \"%s\"\n", rel)),
	} {
		if err := writeInside(dir, path, data); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, lvMarker), nil, 0o644)
}

// anchorLinks makes the relative links of copy (a copy of orig) that lead
// out of orig absolute links to where they led from orig: Debian's headers
// reach kbuild's scripts through scripts -> ../../lib/linux-kbuild-…/scripts,
// which dangles from anywhere else.
func anchorLinks(orig, copy string) error {
	return filepath.WalkDir(copy, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		t, err := os.Readlink(p)
		if err != nil || filepath.IsAbs(t) {
			return err
		}
		rel, err := filepath.Rel(copy, p)
		if err != nil {
			return err
		}
		target := filepath.Join(orig, filepath.Dir(rel), t)
		if inside(orig, target) {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		return os.Symlink(target, p)
	})
}

// writeInside writes dir/rel, replacing the file rather than writing
// through it, and only when its folder lies inside dir: a link there would
// lead to a tree that is not the copy's.
func writeInside(dir, rel string, data []byte) error {
	p := filepath.Join(dir, rel)
	parent, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(dir); err != nil || !inside(real, parent) {
		return fmt.Errorf("%s: %s leads out of the copy (to %s)", dir, filepath.Dir(rel), parent)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// inside reports whether path is dir or lies under it (both clean).
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// lvMarker is written last into a LOCALVERSION copy.
const lvMarker = ".modmatrix-localversion"

// lvComplete: copies of built kernels made before lvMarker existed carry
// the manifest they were copied with.
func lvComplete(entry string) bool {
	for _, f := range []string{lvMarker, manifestName} {
		if _, err := os.Stat(filepath.Join(entry, f)); err == nil {
			return true
		}
	}
	return false
}
