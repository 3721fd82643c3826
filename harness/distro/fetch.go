package distro

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/internal/kmake"
)

// fetch downloads and unpacks pkgs into tmp, which is to become entry.
func fetch(ctx context.Context, tmp, entry string, pkgs []pkg) error {
	debs, root := filepath.Join(tmp, "debs"), filepath.Join(tmp, "root")
	for _, d := range []string{debs, root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	args := []string{"download", "-q"}
	if os.Geteuid() == 0 {
		// apt's _apt user cannot write into root's cache.
		args = append(args, "-o", "APT::Sandbox::User=root")
	}
	for _, p := range pkgs {
		args = append(args, p.String())
	}
	if err := kmake.Run(ctx, debs, nil, "apt-get", args...); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(debs, "*.deb"))
	if len(files) != len(pkgs) {
		return fmt.Errorf("apt-get download gave %d .deb files for %d packages (%v)", len(files), len(pkgs), pkgs)
	}
	for _, f := range files {
		if err := kmake.Run(ctx, tmp, nil, "dpkg-deb", "-x", f, root); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(debs); err != nil {
		return err
	}
	m, err := describe(root, pkgs)
	if err != nil {
		return err
	}
	// Links and the headers' Makefile point at /usr/src and /usr/lib:
	// point them into the entry instead.
	final := filepath.Join(entry, "root")
	if err := relink(root, final); err != nil {
		return err
	}
	if err := rewriteInclude(filepath.Join(root, m.Headers, "Makefile"), final); err != nil {
		return err
	}
	m.Vmlinuz, m.Config = filepath.Join("root", m.Vmlinuz), filepath.Join("root", m.Config)
	m.Headers, m.Srctree = filepath.Join("root", m.Headers), filepath.Join("root", m.Srctree)
	m.Fetched = time.Now().UTC()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(tmp, manifestName), append(data, '\n'), 0o644)
}

// describe finds the kernel's files in an unpacked root (paths relative
// to it): boot/vmlinuz-REL, boot/config-REL, usr/src/linux-headers-REL and
// the tree its Makefile includes.
func describe(root string, pkgs []pkg) (*manifest, error) {
	images, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(images) != 1 {
		return nil, fmt.Errorf("%v: want one boot/vmlinuz-*, found %d", pkgs, len(images))
	}
	rel := strings.TrimPrefix(filepath.Base(images[0]), "vmlinuz-")
	m := &manifest{
		Release: rel, Vmlinuz: filepath.Join("boot", "vmlinuz-"+rel),
		Config:  filepath.Join("boot", "config-"+rel),
		Headers: filepath.Join("usr", "src", "linux-headers-"+rel),
	}
	for _, p := range pkgs {
		m.Packages = append(m.Packages, p.String())
	}
	for _, p := range []string{m.Config, filepath.Join(m.Headers, "Makefile")} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			return nil, fmt.Errorf("%v: %w", pkgs, err)
		}
	}
	// Headers of another kernel (deb:IMAGE,HEADERS) would build modules
	// that never load.
	hrel, err := headersRelease(filepath.Join(root, m.Headers))
	if err != nil {
		return nil, fmt.Errorf("%v: %w", pkgs, err)
	}
	if hrel != rel {
		return nil, fmt.Errorf("%v: the image is release %s but the headers are %s", pkgs, rel, hrel)
	}
	m.Srctree = m.Headers
	if inc, ok := includedTree(filepath.Join(root, m.Headers, "Makefile")); ok {
		m.Srctree = strings.TrimPrefix(filepath.Clean(inc), "/")
	}
	return m, nil
}
