package distro

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/internal/kmake"
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
// series is taken, said in Kernel.Note. Share one Apt among a run's specs.
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
	hit, err := cacheentry.Entry{Path: entry, Locked: true, Complete: complete}.Get(ctx,
		func(ctx context.Context, tmp string) (string, error) { return tmp, fetch(ctx, tmp, entry, pkgs) })
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

// entryName names a cache entry after its image and, by a short hash,
// every package in it.
func entryName(pkgs []pkg) string {
	var all []string
	for _, p := range pkgs {
		all = append(all, p.String())
	}
	sum := sha256.Sum256([]byte(strings.Join(all, ",")))
	return pathSafe(pkgs[0].Name+"_"+pkgs[0].Version) + "-" + hex.EncodeToString(sum[:4])
}

// pinName is the file naming the entry an exact spec resolved to.
func pinName(dir string, s Spec) string { return filepath.Join(dir, "spec-"+pathSafe(s.Text)) }

// pin records which entry s resolved to.
func pin(dir string, s Spec, entry string) error {
	return cacheentry.Replace(pinName(dir, s), func(w io.Writer) error {
		_, err := io.WriteString(w, filepath.Base(entry)+"\n")
		return err
	})
}

// loadPinned is the complete entry an exact spec resolved to before.
func loadPinned(dir string, s Spec) (*Kernel, error) {
	data, err := os.ReadFile(pinName(dir, s))
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(string(data))
	if name == "" || strings.ContainsAny(name, "/") {
		return nil, fmt.Errorf("%s: not an entry name", pinName(dir, s))
	}
	k, err := load(s, filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	k.Kernel.Cached = true
	return k, nil
}

// newestCached is the complete entry that best matches s when apt cannot
// say: for a series the newest kernel of that series and flavour, else
// the entry of the named image (and headers).
func newestCached(dir string, s Spec) (string, bool) {
	manifests, _ := filepath.Glob(filepath.Join(dir, "*", manifestName))
	best, bestVersion := "", ""
	for _, mf := range manifests {
		data, err := os.ReadFile(mf)
		if err != nil {
			continue
		}
		var m manifest
		if json.Unmarshal(data, &m) != nil || len(m.Packages) == 0 {
			continue
		}
		image, version, _ := strings.Cut(m.Packages[0], "=")
		if !s.matches(image, version, m.Packages) {
			continue
		}
		if best == "" || newerVersion(version, bestVersion) {
			best, bestVersion = filepath.Dir(mf), version
		}
	}
	return best, best != ""
}

// matches reports whether an entry of the image package at version (and
// packages, name=version) is what s names.
func (s Spec) matches(image, version string, packages []string) bool {
	switch {
	case s.Image != "":
		if image != s.Image {
			return false
		}
		for _, p := range packages {
			if name, _, _ := strings.Cut(p, "="); name == s.Headers {
				return true
			}
		}
		return false
	case s.series():
		m := imageRE.FindStringSubmatch(image)
		return m != nil && m[2] == s.Flavour+"-amd64" && strings.HasPrefix(version, s.Version+".")
	default:
		name := "linux-image-" + s.Version + "-" + s.Flavour + "-amd64"
		return image == name || image == name+"-unsigned"
	}
}

var numbersRE = regexp.MustCompile(`[0-9]+`)

// newerVersion compares Debian versions by their numbers in order
// (6.12.117-1~deb12u1 is newer than 6.12.115-2), which is what a kernel
// package's versions differ in.
func newerVersion(a, b string) bool {
	na, nb := numbersRE.FindAllString(a, -1), numbersRE.FindAllString(b, -1)
	for i := 0; i < len(na) && i < len(nb); i++ {
		x, _ := strconv.Atoi(na[i])
		y, _ := strconv.Atoi(nb[i])
		if x != y {
			return x > y
		}
	}
	return len(na) > len(nb)
}

// manifest describes an unpacked entry; paths are relative to it. It is
// written last: an entry without it is not complete.
type manifest struct {
	Packages []string  `json:"packages"`
	Release  string    `json:"release"` // of the image; its headers are checked to match
	Vmlinuz  string    `json:"vmlinuz"`
	Config   string    `json:"config"`
	Headers  string    `json:"headers"` // the O= tree
	Srctree  string    `json:"srctree"` // what its Makefile includes
	Fetched  time.Time `json:"fetched"`
}

const manifestName = "manifest.json"

// complete reports whether entry is unpacked whole.
func complete(entry string) bool {
	_, err := os.Stat(filepath.Join(entry, manifestName))
	return err == nil
}

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

var includeRE = regexp.MustCompile(`^include\s+(\S+)/Makefile\s*$`)

// includedTree reads a headers directory's Makefile when it is Debian's
// one line `include /usr/src/linux-headers-…-common/Makefile`.
func includedTree(makefile string) (string, bool) {
	f, err := os.Open(makefile)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := includeRE.FindStringSubmatch(sc.Text()); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// relink rewrites every symlink under root whose target lies inside root
// (an absolute /usr/src/… meaning root/usr/src/…, or a relative
// ../../lib/linux-kbuild-…/scripts) as an absolute link to the same place
// under final, where root will be renamed to. The absolute ones would
// lead to the host's /usr; the relative ones work in place and in a
// LOCALVERSION copy (kbuild anchors those itself) but read, like the
// others, as the entry's own paths.
func relink(root, final string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		t, err := os.Readlink(p)
		if err != nil {
			return err
		}
		inside := filepath.Join(filepath.Dir(p), t)
		if filepath.IsAbs(t) {
			inside = filepath.Join(root, t)
		}
		rel, err := filepath.Rel(root, inside)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil // outside the packages: leave it
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		return os.Symlink(filepath.Join(final, rel), p)
	})
}

var absIncludeRE = regexp.MustCompile(`(?m)^include\s+/`)

// rewriteInclude points Debian's `include /usr/src/…/Makefile` at final.
func rewriteInclude(makefile, final string) error {
	data, err := os.ReadFile(makefile)
	if err != nil {
		return err
	}
	out := absIncludeRE.ReplaceAll(data, []byte("include "+final+"/"))
	return os.WriteFile(makefile, out, 0o644)
}

// load returns the kernel of a complete entry.
func load(s Spec, entry string) (*Kernel, error) {
	data, err := os.ReadFile(filepath.Join(entry, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(entry, manifestName), err)
	}
	id := "debian:" + strings.Join(m.Packages, ",")
	k, err := kernel(s, id, filepath.Join(entry, m.Vmlinuz), filepath.Join(entry, m.Headers),
		filepath.Join(entry, m.Srctree), filepath.Join(entry, m.Config))
	if err != nil {
		return nil, err
	}
	k.Packages = m.Packages
	return k, nil
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
	k, err := kernel(s, id, vmlinuz, headers, srctree, config)
	if err != nil {
		return nil, fmt.Errorf("--kernel %s: %w", s.Text, err)
	}
	return k, nil
}

func kernel(s Spec, id, vmlinuz, headers, srctree, config string) (*Kernel, error) {
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
	if err := checkGuest(cfg); err != nil {
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

// guestBuiltIn are what the guest needs before any module can be loaded:
// the serial console, the initramfs, and the virtio-serial port the agent
// reports on (Debian's 6.1 cloud kernel has VIRTIO_CONSOLE=m).
var guestBuiltIn = []string{"SERIAL_8250_CONSOLE", "BLK_DEV_INITRD", "DEVTMPFS", "VIRTIO_PCI", "VIRTIO_CONSOLE"}

func checkGuest(cfg kconfig.Config) error {
	var missing []string
	for _, sym := range guestBuiltIn {
		if v := cfg.Value(sym); v != "y" {
			missing = append(missing, "CONFIG_"+sym+"="+v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the kernel has %s: the agent needs them built in (=y) to boot and report over virtio-serial", strings.Join(missing, ", "))
	}
	return nil
}

// checkPahole: a kernel with DEBUG_INFO_BTF_MODULES whose headers ship a
// vmlinux makes kbuild run pahole on every module it links.
func checkPahole(headers string, cfg kconfig.Config) error {
	if !cfg.Enabled("DEBUG_INFO_BTF_MODULES") {
		return nil
	}
	if _, err := os.Stat(filepath.Join(headers, "vmlinux")); err != nil {
		return nil // kbuild skips BTF without it
	}
	if _, err := exec.LookPath("pahole"); err != nil {
		return errors.New("modules for this kernel get BTF from pahole, which is missing: apt-get install dwarves (or make deps)")
	}
	return nil
}

// pathSafe turns a package name_version into a folder name (an epoch's
// colon is not welcome in make's paths).
func pathSafe(s string) string { return strings.NewReplacer(":", "%", "/", "_").Replace(s) }
