package kbuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"modmatrix.dev/modmatrix/harness/internal/kmake"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// WithLocalVersion returns k's tree as if it had been built with
// LOCALVERSION=lv: a copy whose kernel release (include/config/kernel.release
// and the UTS_RELEASE of include/generated/utsrelease.h, the two files
// `make LOCALVERSION=` changes for an out-of-tree build) carries lv. Modules
// built against it differ from k's only in their vermagic string, which is
// how a module built for "the same kernel, another release" looks.
func (c *Cache) WithLocalVersion(ctx context.Context, k *Kernel, lv string) (*Kernel, error) {
	if strings.ContainsAny(lv, " \t'\"/\\") {
		return nil, fmt.Errorf("localversion %q: one word without quotes or slashes", lv)
	}
	rel := k.Release + lv
	out, err := c.variant(ctx, k, "lv"+lv, func(dir string) error {
		for path, data := range map[string][]byte{
			"include/config/kernel.release":  []byte(rel + "\n"),
			"include/generated/utsrelease.h": []byte(fmt.Sprintf("#define UTS_RELEASE \"%s\"\n", rel)),
		} {
			if err := writeInside(dir, path, data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Release = rel
	return out, nil
}

// WithSymbolVersion returns k's tree with the version (the CRC) of symbol
// sym changed in its Module.symvers: a module built against it records a
// CRC for sym that k's does not have, as one built for a kernel where sym's
// prototype changed, or against a stale Module.symvers. Without MODVERSIONS
// no CRC is recorded and the copy builds the same module as k.
func (c *Cache) WithSymbolVersion(ctx context.Context, k *Kernel, sym string) (*Kernel, error) {
	symvers, err := os.ReadFile(filepath.Join(k.Dir, "Module.symvers"))
	if err != nil {
		return nil, fmt.Errorf("symbol_version %s: %w", sym, err)
	}
	changed, ok := changeCRC(symvers, sym)
	if !ok {
		return nil, fmt.Errorf("symbol_version %s: %s's Module.symvers exports no such symbol", sym, k)
	}
	return c.variant(ctx, k, "crc-"+sym, func(dir string) error {
		return writeInside(dir, "Module.symvers", changed)
	})
}

// changeCRC flips the low bit of sym's CRC in a Module.symvers
// ("0x1234abcd\tSYM\tMODULE\tEXPORT_SYMBOL\tNAMESPACE" lines).
func changeCRC(symvers []byte, sym string) ([]byte, bool) {
	lines := strings.SplitAfter(string(symvers), "\n")
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) < 2 || f[1] != sym {
			continue
		}
		crc, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 32)
		if err != nil {
			return nil, false
		}
		f[0] = fmt.Sprintf("0x%08x", crc^1)
		lines[i] = strings.Join(f, "\t")
		return []byte(strings.Join(lines, "")), true
	}
	return nil, false
}

// variant is k's tree copied and changed by rewrite, cached under
// variants/ by k's key and name and published by rename; variantMarker,
// written last, marks it complete (a prebuilt kernel's headers tree has no
// manifest to copy).
func (c *Cache) variant(ctx context.Context, k *Kernel, name string, rewrite func(dir string) error) (*Kernel, error) {
	// Not under kernels/: a copy must never be taken for a build tree.
	// By key: a prebuilt kernel's Dir is a headers tree named by its release.
	entry := cacheentry.Entry{
		Path:     filepath.Join(c.Dir, "variants", k.Key+"-"+name),
		Locked:   true,
		Complete: variantComplete,
	}
	out := *k
	out.Key, out.Dir = k.Key+"-"+name, entry.Path
	out.Vmlinux, out.BzImage = "", "" // never booted: only modules are built against it
	_, err := entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		if err := copyTree(ctx, k.Dir, tmp); err != nil {
			return "", err
		}
		if err := rewrite(tmp); err != nil {
			return "", err
		}
		return tmp, os.WriteFile(filepath.Join(tmp, variantMarker), nil, 0o644)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// copyTree copies the tree at orig into dir.
func copyTree(ctx context.Context, orig, dir string) error {
	// The tree itself, not a link to it (headers given as
	// /lib/modules/REL/build): a copied link would have the changes
	// written into the original.
	src, err := filepath.EvalSymlinks(orig)
	if err != nil {
		return err
	}
	if err := kmake.Run(ctx, filepath.Dir(dir), nil, "cp", "-a", "--reflink=auto", src+"/.", dir); err != nil {
		return err
	}
	return anchorLinks(src, dir)
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

// variantMarker is written last into a variant's copy (named for the
// first kind of variant, so copies made then still count).
const variantMarker = ".modmatrix-localversion"

// variantComplete: copies of built kernels made before variantMarker
// existed carry the manifest they were copied with.
func variantComplete(entry string) bool {
	for _, f := range []string{variantMarker, manifestName} {
		if _, err := os.Stat(filepath.Join(entry, f)); err == nil {
			return true
		}
	}
	return false
}
