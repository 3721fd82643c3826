package distro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/internal/kmake"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// fetch downloads and unpacks pkgs into tmp, which is to become entry.
func fetch(ctx context.Context, a *Apt, tmp, entry string, pkgs []pkg) error {
	debs, root := filepath.Join(tmp, "debs"), filepath.Join(tmp, "root")
	for _, d := range []string{debs, root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := a.download(ctx, debs, pkgs); err != nil {
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
	if m.Files, err = sumFiles(tmp, entry, m); err != nil {
		return fmt.Errorf("%v: %w", pkgs, err)
	}
	m.Fetched = time.Now().UTC()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(tmp, manifestName), append(data, '\n'), 0o644) // last
}

// downloadError is apt-get download failing (offline, or a mirror that no
// longer has the version): what to say is apt's own last line.
type downloadError struct {
	pkgs []pkg
	last string
	err  error
}

func (e *downloadError) Error() string {
	why := e.err
	if inner := errors.Unwrap(e.err); inner != nil {
		why = inner // the exit status, without kmake's command line (in a temporary) and output
	}
	return fmt.Sprintf("apt-get download %s failed (%v): %s", pkgList(e.pkgs), why, e.last)
}

func (e *downloadError) Unwrap() error { return e.err }

// aptDownload is apt-get download of pkgs into dir.
func aptDownload(ctx context.Context, dir string, pkgs []pkg) error {
	args := []string{"download", "-q"}
	if os.Geteuid() == 0 {
		// apt's _apt user cannot write into root's cache.
		args = append(args, "-o", "APT::Sandbox::User=root")
	}
	for _, p := range pkgs {
		args = append(args, p.String())
	}
	var out bytes.Buffer
	if err := kmake.Run(ctx, dir, &out, "apt-get", args...); err != nil {
		return &downloadError{pkgs: pkgs, last: lastLine(out.String()), err: err}
	}
	return nil
}

// lastLine is the last line of a command's output that says something.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return last
	}
	return "(no output)"
}

func pkgList(pkgs []pkg) string {
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i] = p.String()
	}
	return strings.Join(names, " ")
}

// sumFiles records what a later run relies on in an unpacked entry built
// at tmp: the image, the configuration, the headers' Makefile (rewritten
// to include the entry's tree) and, where the packages have them, the
// headers' Module.symvers and the modpost they lead to. Not every header:
// those a module build reads, make reads, and a lost one fails it loudly.
// Links are followed inside tmp: relink pointed them at entry, which is
// not there yet (or, when a damaged entry is fetched again, is that one).
func sumFiles(tmp, entry string, m *manifest) (cacheentry.Sums, error) {
	want := []struct {
		path     string
		optional bool
	}{
		{m.Vmlinuz, false},
		{m.Config, false},
		{filepath.Join(m.Headers, "Makefile"), false},
		{filepath.Join(m.Headers, "Module.symvers"), true},
		{filepath.Join(m.Headers, "scripts", "mod", "modpost"), true},
		// Debian's modpost is a script that runs this one on x86_64.
		{filepath.Join(m.Headers, "scripts", "mod", "modpost.real-lsb-64"), true},
	}
	var files []string
	for _, w := range want {
		p, err := inEntry(tmp, entry, w.path)
		if err != nil {
			if w.optional {
				continue // not in these packages (or not in the entry)
			}
			return nil, err
		}
		files = append(files, p)
	}
	return cacheentry.Sum(tmp, files...)
}

// inEntry is rel's path inside the entry being unpacked at tmp, with its
// links followed, as entry will have it. Links lead to entry's paths
// (relink) or are relative; one leading anywhere else is an error.
func inEntry(tmp, entry, rel string) (string, error) {
	todo := strings.Split(filepath.Clean(rel), "/")
	at := "" // resolved so far, relative to tmp
	for links := 0; len(todo) > 0; {
		next := filepath.Join(at, todo[0])
		todo = todo[1:]
		fi, err := os.Lstat(filepath.Join(tmp, next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			at = next
			continue
		}
		if links++; links > 40 {
			return "", fmt.Errorf("%s: too many links", rel)
		}
		target, err := os.Readlink(filepath.Join(tmp, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			if target, err = filepath.Rel(entry, target); err != nil {
				return "", err
			}
		} else {
			target = filepath.Join(at, target)
		}
		if target == ".." || strings.HasPrefix(target, "../") {
			return "", fmt.Errorf("%s: %s leads out of the entry", rel, next)
		}
		todo = append(strings.Split(target, "/"), todo...)
		at = ""
	}
	return at, nil
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
