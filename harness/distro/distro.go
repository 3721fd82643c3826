package distro

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// Kernel is a prebuilt kernel made ready for the matrix.
type Kernel struct {
	Spec Spec
	// Kernel has the vmlinuz as BzImage (no Vmlinux: Debian's headers
	// ship a BTF-only vmlinux that does not boot), the headers' O= half as
	// Dir and the package's .config.
	Kernel *kbuild.Kernel
	// Source is the headers' source half (Debian's -common package), what
	// modules are built with as make -C; it has no Kconfig files.
	Source *ksrc.Source
	// Packages are the Debian packages it came from (name=version).
	Packages []string
	// Note says why it is not what the spec would name now (the newest
	// cached kernel of a series apt could not resolve), or "".
	Note string
}

// Get returns the kernel a spec names: for Debian packages, resolved with
// apt-cache (debian-cloud-6.12 is the newest 6.12 cloud kernel apt knows),
// downloaded with apt-get download and unpacked with dpkg-deb into
// cacheDir/distro/IMAGE_VERSION-HASH/ (HASH of every package, so other
// headers make another entry) once, under a lock and published by rename.
// A spec naming one kernel (not a series) is found in the cache without
// asking apt; for a series apt is asked for the newest, and when it cannot
// answer (offline, or the lists dropped it) the newest cached kernel of the
// series is taken, said in Kernel.Note; so too when apt resolves it but
// cannot download it. An entry is checked against the sums its manifest
// recorded, and a damaged one is fetched again in place. Share one Apt
// among a run's specs.
func Get(ctx context.Context, cacheDir string, a *Apt, s Spec) (*Kernel, error) {
	if !s.Debian() {
		return local(s)
	}
	dir := filepath.Join(cacheDir, "distro")
	if !s.series() {
		if k, err := loadPinned(dir, s); err == nil {
			return k, nil
		}
	}
	pkgs, err := a.resolve(ctx, s)
	if err != nil {
		err = fmt.Errorf("--kernel %s: %w", s.Text, err)
		if ctx.Err() != nil {
			return nil, err
		}
		if entry, ok := newestCached(dir, s); ok {
			if k, lerr := load(s, entry); lerr == nil {
				k.Note = fmt.Sprintf("apt could not resolve it, so the newest match in the cache: %s (%v)", k.Packages[0], err)
				return k, nil
			}
		}
		return nil, err
	}
	entry := filepath.Join(dir, entryName(pkgs))
	var damaged error
	hit, err := cacheentry.Entry{Path: entry, Locked: true, Complete: func(p string) bool {
		_, err := check(p)
		var d *cacheentry.DamagedError
		if errors.As(err, &d) {
			damaged = d.Err // fetched again in place
		}
		return err == nil
	}}.Get(ctx, func(ctx context.Context, tmp string) (string, error) { return tmp, fetch(ctx, a, tmp, entry, pkgs) })
	var dl *downloadError
	if errors.As(err, &dl) && ctx.Err() == nil {
		return notDownloaded(s, dir, entry, dl, damaged)
	}
	if err != nil {
		return nil, fmt.Errorf("--kernel %s: %w", s.Text, err)
	}
	k, err := load(s, entry)
	if err != nil {
		return nil, fmt.Errorf("--kernel %s: %w", s.Text, err)
	}
	k.Kernel.Cached = hit
	if !s.series() {
		// Only a hint for the next run: without it apt is asked again.
		_ = pin(dir, s, entry)
	}
	return k, nil
}

// notDownloaded is what a spec gives when apt resolved it but could not
// download the packages (offline, or the mirror lost them): the newest
// match in the cache, as when apt cannot resolve it, with a note; else an
// error that says what was wanted, why apt failed and that the cache has
// no copy (or only a damaged one) to take instead.
func notDownloaded(s Spec, dir, entry string, dl *downloadError, damaged error) (*Kernel, error) {
	if other, ok := newestCached(dir, s); ok {
		if k, err := load(s, other); err == nil {
			k.Note = fmt.Sprintf("apt could not download %s, so the newest match in the cache: %s (%s)", dl.pkgs[0], k.Packages[0], dl.last)
			return k, nil
		}
	}
	what := "no copy of them is cached in " + dir
	if damaged != nil {
		what = fmt.Sprintf("the copy cached in %s is damaged (%v)", entry, damaged)
	}
	if s.series() {
		what += fmt.Sprintf(", nor any other %s %s kernel", s.Version, s.Flavour)
	}
	return nil, fmt.Errorf("--kernel %s: %w; %s: run once where apt can download them", s.Text, dl, what)
}

// local is a vmlinuz and a headers directory on disk, identified by their
// paths, sizes and mtimes. Links are resolved: headers given as
// /lib/modules/REL/build are the tree it leads to, which is what a
// LOCALVERSION copy must copy (not the link, through which it would write
// into the host's headers).
func local(s Spec) (*Kernel, error) {
	abs := func(p string) (string, error) {
		a, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if a, err = filepath.EvalSymlinks(a); err != nil {
			return "", fmt.Errorf("--kernel %s: %w", s.Text, err)
		}
		return a, nil
	}
	vmlinuz, err := abs(s.Vmlinuz)
	if err != nil {
		return nil, err
	}
	headers, err := abs(s.HeadersDir)
	if err != nil {
		return nil, err
	}
	config, err := abs(s.Config)
	if err != nil {
		return nil, err
	}
	srctree := headers
	if inc, ok := includedTree(filepath.Join(headers, "Makefile")); ok {
		srctree = inc
	}
	id := "files:"
	for _, p := range []string{vmlinuz, config, filepath.Join(headers, "Module.symvers")} {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("--kernel %s: %w", s.Text, err)
		}
		id += fmt.Sprintf("%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
	}
	// Headers given as /lib/modules/REL/build: that folder also has the
	// modules a guest may need to load first.
	modules := ""
	if filepath.Base(filepath.Clean(s.HeadersDir)) == "build" {
		if fi, err := os.Stat(filepath.Join(filepath.Dir(filepath.Clean(s.HeadersDir)), "kernel")); err == nil && fi.IsDir() {
			modules = filepath.Dir(filepath.Clean(s.HeadersDir))
		}
	}
	k, err := kernel(s, id, vmlinuz, headers, srctree, config, modules)
	if err != nil {
		return nil, fmt.Errorf("--kernel %s: %w", s.Text, err)
	}
	return k, nil
}

// kernel makes the Kernel of a prebuilt image; modulesDir, where there is
// one (a package's lib/modules/REL), has the modules its guest loads
// before the agent where the .config builds what the agent needs as
// modules.
func kernel(s Spec, id, vmlinuz, headers, srctree, config, modulesDir string) (*Kernel, error) {
	cfg, err := kconfig.ParseConfig(config)
	if err != nil {
		return nil, err
	}
	version, series, err := ksrc.MakefileVersion(filepath.Join(srctree, "Makefile"))
	if err != nil {
		return nil, err
	}
	release, err := headersRelease(headers)
	if err != nil {
		return nil, fmt.Errorf("%s is not a prepared headers tree: %w", headers, err)
	}
	boot, err := bootModules(cfg, modulesDir)
	if err != nil {
		return nil, err
	}
	loadable := func(sym string) bool { _, ok := kconfig.GuestModules[sym]; return ok && len(boot) > 0 }
	if err := kconfig.CheckGuestLoading(cfg, loadable); err != nil {
		return nil, err
	}
	if err := checkPahole(headers, cfg); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(id))
	key := "prebuilt-" + hex.EncodeToString(sum[:8])
	return &Kernel{
		Spec: s,
		Kernel: &kbuild.Kernel{
			Key: key, Dir: headers, Version: version, Release: release,
			BzImage: vmlinuz, Config: cfg, Cell: s.Cell, SourceID: id, Cached: true,
			BootModules: boot,
		},
		Source: &ksrc.Source{Dir: srctree, Version: version, Series: series, ID: id},
	}, nil
}

var utsReleaseRE = regexp.MustCompile(`(?m)^#define UTS_RELEASE "([^"]+)"`)

// headersRelease is the release modules built against headers carry in
// their vermagic: UTS_RELEASE. (Debian's 6.1 headers have "6.1.192" in
// include/config/kernel.release but "6.1.0-56-cloud-amd64" there.)
func headersRelease(headers string) (string, error) {
	data, err := os.ReadFile(filepath.Join(headers, "include", "generated", "utsrelease.h"))
	if err == nil {
		if m := utsReleaseRE.FindSubmatch(data); m != nil {
			return string(m[1]), nil
		}
	}
	data, err = os.ReadFile(filepath.Join(headers, "include", "config", "kernel.release"))
	return strings.TrimSpace(string(data)), err
}
