package ksrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// usrSrc is where Debian's linux-source-X.Y packages put their tarballs.
var usrSrc = "/usr/src"

// dpkgVersion returns the installed version of a Debian package.
var dpkgVersion = func(ctx context.Context, pkg string) (string, error) {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	return strings.TrimSpace(string(out)), err
}

// Debian returns the kernel source of the linux-source-SERIES package,
// unpacked once into cacheDir/src/linux-source-SERIES-<shortid>/. The ID
// is the package version plus the tarball's size and mtime, so an upgrade
// of the package unpacks (and builds) afresh.
func Debian(ctx context.Context, cacheDir, series string, opts ...Option) (*Source, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	pkg := "linux-source-" + series
	tarball := filepath.Join(usrSrc, pkg+".tar.xz")
	st, err := os.Stat(tarball)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("kernel source %s: %s not found: apt-get install %s (or scripts/deps.sh --kernels %s)", series, tarball, pkg, series)
	}
	if err != nil {
		return nil, err
	}
	// Without dpkg (a hand-copied tarball) size and mtime still identify it.
	ver, err := dpkgVersion(ctx, pkg)
	if err != nil {
		ver = "unknown"
	}
	id := fmt.Sprintf("debian:%s=%s:%d:%d", pkg, ver, st.Size(), st.ModTime().UnixNano())
	name := pkg + "-" + shortHash(id)
	parent := filepath.Join(cacheDir, "src")
	dest := filepath.Join(parent, name)

	if err := unpack(ctx, tarball, parent, name, o.unpacking); err != nil {
		return nil, fmt.Errorf("kernel source %s: unpacking %s: %w", series, tarball, err)
	}
	version, gotSeries, err := readVersion(dest)
	if err != nil {
		return nil, err
	}
	if gotSeries != series {
		return nil, fmt.Errorf("kernel source %s: %s unpacks to linux %s", series, tarball, version)
	}
	return &Source{Dir: dest, Version: version, Series: series, ID: id}, nil
}

// Option configures Debian.
type Option func(*options)

type options struct{ unpacking Unpacking }

// Unpacking hears how far the unpacking of a tarball has got: read of its
// total compressed bytes. It is called when the percentage changes, and
// not at all when the source was unpacked before.
type Unpacking func(tarball string, read, total int64)

// WithUnpacking reports the unpacking's progress: it takes half a minute
// and more for a 1.7 GB tree, too long to be silent.
func WithUnpacking(fn Unpacking) Option { return func(o *options) { o.unpacking = fn } }

// unpack extracts tarball into parent/name, once however many runs ask at
// the same time. A directory at parent/name is always complete.
func unpack(ctx context.Context, tarball, parent, name string, unpacking Unpacking) error {
	entry := cacheentry.Entry{Path: filepath.Join(parent, name), Locked: true}
	_, err := entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		f, err := os.Open(tarball)
		if err != nil {
			return "", err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return "", err
		}
		cmd := exec.CommandContext(ctx, "tar", "-xJf", "-", "-C", tmp)
		cmd.Stdin = &countingReader{r: f, total: st.Size(), percent: -1, report: func(read, total int64) {
			if unpacking != nil {
				unpacking(tarball, read, total)
			}
		}}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("tar: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		// The tarball holds one top directory (linux-source-6.12/).
		ents, err := os.ReadDir(tmp)
		if err != nil {
			return "", err
		}
		if len(ents) != 1 || !ents[0].IsDir() {
			return "", fmt.Errorf("expected one top-level directory in the tarball, found %d entries", len(ents))
		}
		return filepath.Join(tmp, ents[0].Name()), nil
	})
	return err
}

// countingReader calls report on the first read and each time another
// percent of total is read.
type countingReader struct {
	r           io.Reader
	read, total int64
	percent     int64 // last reported; -1 before the first report
	report      func(read, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.total == 0 || n == 0 {
		return n, err
	}
	if pct := c.read * 100 / c.total; pct != c.percent {
		c.percent = pct
		c.report(c.read, c.total)
	}
	return n, err
}
