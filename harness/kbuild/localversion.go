package kbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/harness/internal/flock"
	"modmatrix.dev/modmatrix/harness/internal/kmake"
)

// WithLocalVersion returns k's tree as if it had been built with
// LOCALVERSION=lv: a copy whose kernel release (include/config/kernel.release
// and the UTS_RELEASE of include/generated/utsrelease.h, the two files
// `make LOCALVERSION=` changes for an out-of-tree build) carries lv. Modules
// built against it differ from k's only in their vermagic string, which is
// how a module built for "the same kernel, another release" looks. The copy
// (its manifest, copied from k, marks it complete) is cached under
// variants/ and published by rename.
func (c *Cache) WithLocalVersion(ctx context.Context, k *Kernel, lv string) (*Kernel, error) {
	if strings.ContainsAny(lv, " \t'\"/\\") {
		return nil, fmt.Errorf("localversion %q: one word without quotes or slashes", lv)
	}
	// Not under kernels/: a copy must never be taken for a build tree.
	// By key: a prebuilt kernel's Dir is a headers tree named by its release.
	entry := filepath.Join(c.Dir, "variants", k.Key+"-lv"+lv)
	if err := os.MkdirAll(filepath.Dir(entry), 0o755); err != nil {
		return nil, err
	}
	out := *k
	out.Key, out.Dir = k.Key+"-lv"+lv, entry
	out.Release = k.Release + lv
	out.Vmlinux, out.BzImage = "", "" // never booted: only modules are built against it
	if lvComplete(entry) {
		return &out, nil
	}
	unlock, err := flock.Lock(ctx, entry+".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if lvComplete(entry) {
		return &out, nil
	}
	tmp := entry + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	if err := kmake.Run(ctx, filepath.Dir(entry), nil, "cp", "-a", "--reflink=auto", k.Dir, tmp); err != nil {
		return nil, err
	}
	rel := []byte(out.Release + "\n")
	uts := []byte(fmt.Sprintf("#define UTS_RELEASE \"%s\"\n", out.Release))
	for path, data := range map[string][]byte{
		"include/config/kernel.release":  rel,
		"include/generated/utsrelease.h": uts,
	} {
		if err := os.WriteFile(filepath.Join(tmp, path), data, 0o644); err != nil {
			return nil, err
		}
	}
	// A prebuilt kernel's headers tree has no manifest to copy.
	if err := os.WriteFile(filepath.Join(tmp, lvMarker), nil, 0o644); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(entry); err != nil { // debris of an incomplete copy
		return nil, err
	}
	if err := os.Rename(tmp, entry); err != nil {
		return nil, err
	}
	return &out, nil
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
