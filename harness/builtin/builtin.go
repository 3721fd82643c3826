// Package builtin puts the cells and scenarios a modmatrix binary carries
// (its kconfigs/ and modules/, embedded at build time), and the guest
// programs' Go source, into the cache as real folders, where Kconfig
// merges, Kbuild, go build and error messages need them:
// cacheDir/builtin/KEY/{kconfigs,modules,go.mod,...}, KEY the digest of
// every file, so a binary of other built-ins gets its own entry.
package builtin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// Folders of an entry.
const (
	Kconfigs = "kconfigs"
	Modules  = "modules"
)

// Dir returns the cache folder holding fsys's files, written on a miss
// (atomically: the folder appears whole or not at all) and checked
// against its sums on a hit.
func Dir(ctx context.Context, fsys fs.FS, cacheDir string) (string, error) {
	files, key, err := walk(fsys)
	if err != nil {
		return "", fmt.Errorf("built-in cells and scenarios: %w", err)
	}
	entry := cacheentry.Entry{
		Path:     filepath.Join(cacheDir, "builtin", key),
		Complete: func(dir string) bool { return CheckEntry(dir) == nil },
	}
	_, err = entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		dir := filepath.Join(tmp, "entry")
		for _, name := range files {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return "", err
			}
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return "", err
			}
		}
		return dir, cacheentry.WriteSums(dir, files...)
	})
	if err != nil {
		return "", fmt.Errorf("built-in cells and scenarios: %w", err)
	}
	return entry.Path, nil
}

// walk lists fsys's files (Kconfigs and Modules) and digests them.
func walk(fsys fs.FS) (files []string, key string, err error) {
	h := sha256.New()
	{
		err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d\n", name, len(b))
			h.Write(b)
			files = append(files, name)
			return nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	return files, hex.EncodeToString(h.Sum(nil))[:16], nil
}

// CheckEntry tells whether the entry at dir is whole: every file as its
// sums.json records it (modmatrix cache verify).
func CheckEntry(dir string) error {
	sums, err := cacheentry.ReadSums(dir)
	if err != nil {
		return err
	}
	return sums.Check(dir)
}
