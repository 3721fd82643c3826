// Package kbuild builds kernels for cells and caches them by content.
//
// Layout under the cache root:
//
//	configs/<fragkey>/config       resolved .config of (source, arch, compiler, fragments)
//	configs/<fragkey>/fragments    what was merged, for humans
//	configs/<fragkey>/sums.json    their sizes and digests, written last; a hit checks them
//	configs/<fragkey>.lock         flock while resolving
//	kernels/<kernelkey>/           a complete O= build tree (published by rename)
//	kernels/<kernelkey>/manifest.json  written last; an entry without it is not a hit
//	kernels/<kernelkey>/source-stats.gz  stats of the --kernel-src tree it was built from
//	kernels/<kernelkey>.lock       flock while building that key
//	kernels/.stage-<srcid>/        the one place trees of that source are built
//	                               (of a --kernel-src tree: <srcid> is its path)
//	kernels/.stage-<srcid>.lock    flock while building there
//	modules/...                    out-of-tree module builds (package modbuild)
//	src/...                        unpacked Debian sources (package ksrc)
package kbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// Arch is the only architecture built so far.
const Arch = "x86_64"

// Kernel is a built kernel tree.
type Kernel struct {
	Key     string
	Dir     string // the O= tree; pass it as O= for out-of-tree modules
	Version string // source version, "6.12.117"
	Release string // include/config/kernel.release
	Vmlinux string
	BzImage string
	Config  kconfig.Config
	Cell    string // the cell this kernel was asked for
	// SourceID is the ksrc.Source ID it was built from.
	SourceID  string
	Cached    bool
	BuildTime time.Duration // of the build that produced the entry
	// BuildLog is make's output of that build; "" for an entry built
	// before modmatrix kept it.
	BuildLog string
	// BootModules are .ko files the guest loads, in order, before the
	// agent starts: a distribution kernel's own modular virtio drivers.
	BootModules []string
}

// BootImage is what QEMU boots: the uncompressed vmlinux through PVH where
// the kernel has it (skips decompression, measured faster under TCG), else
// the bzImage (a prebuilt vmlinuz has no vmlinux).
func (k *Kernel) BootImage() (path string, pvh bool) {
	if k.Config.Value("PVH") == "y" && k.Vmlinux != "" {
		return k.Vmlinux, true
	}
	return k.BzImage, false
}

// Modules reports whether the kernel can load modules at all.
func (k *Kernel) Modules() bool { return k.Config.Enabled("MODULES") }

func (k *Kernel) String() string { return fmt.Sprintf("linux %s (cell %s)", k.Version, k.Cell) }

// DefaultCacheDir is $MODMATRIX_CACHE, else $XDG_CACHE_HOME/modmatrix, else
// ~/.cache/modmatrix; with neither HOME nor XDG_CACHE_HOME set (some CI
// sandboxes), a per-user directory under the system temp dir.
func DefaultCacheDir() string {
	if d := os.Getenv("MODMATRIX_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "modmatrix")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("modmatrix-cache-%d", os.Getuid()))
}

// Cache is a kernel build cache rooted at Dir.
type Cache struct {
	Dir string

	// Seams for tests; set by NewCache.
	compiler func(context.Context) (string, error)
	resolve  func(ctx context.Context, srcDir, objDir string, frags []*kconfig.Fragment, opts ...kconfig.Option) (kconfig.Config, error)
	build    func(context.Context, *job) error

	ccOnce sync.Once
	cc     string
	ccErr  error

	// users are the cached trees' config symbol users (rebuild.go).
	users usersCache
}

// NewCache returns the cache rooted at dir; directories are created on
// first use.
func NewCache(dir string) *Cache {
	// One spelling of the path: trees embed it (see stagePath).
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return &Cache{Dir: dir, compiler: gccVersion, resolve: kconfig.Resolve, build: makeKernel}
}

// Option configures Kernel.
type Option func(*options)

type options struct {
	progress func(stage string)
	log      io.Writer
	jobs     int
	// check refuses a resolved .config before anything is built.
	check func(kconfig.Config) error
	// asResolved takes what olddefconfig made of the fragments.
	asResolved bool
}

// WithProgress reports stages: "configure", "build",
// "build (incremental from <key>/<cell>)", "cached".
func WithProgress(fn func(stage string)) Option { return func(o *options) { o.progress = fn } }

// WithLog sends make's output to w.
func WithLog(w io.Writer) Option { return func(o *options) { o.log = w } }

// WithJobs sets make -j (default: the number of CPUs).
func WithJobs(n int) Option { return func(o *options) { o.jobs = n } }

// WithCheck refuses a cell whose resolved .config check rejects, before
// its kernel is looked up or built (seconds to resolve, minutes to build).
func WithCheck(check func(kconfig.Config) error) Option { return func(o *options) { o.check = check } }

// WithAsResolved takes what olddefconfig made of the fragments also where a
// requested value did not survive it: a bisect probe asks for a change its
// dependencies may undo, and counts as the configuration it resolves to.
// Without it such a cell is refused, naming the fragment line.
func WithAsResolved() Option { return func(o *options) { o.asResolved = true } }

func (c *Cache) compilerVersion(ctx context.Context) (string, error) {
	// Not cancelled with the first caller's ctx: the result is kept.
	c.ccOnce.Do(func() { c.cc, c.ccErr = c.compiler(context.WithoutCancel(ctx)) })
	return c.cc, c.ccErr
}

// Kernel returns the kernel for cellName (fragments merged in order, base
// first), from the cache or built: incrementally from the nearest cached
// tree of the same source when there is one.
func (c *Cache) Kernel(ctx context.Context, src *ksrc.Source, cellName string, frags []*kconfig.Fragment, opts ...Option) (*Kernel, error) {
	o, cc, config, resolved, err := c.resolveCell(ctx, src, cellName, frags, opts)
	if err != nil {
		return nil, err
	}
	if o.check != nil {
		if err := o.check(resolved); err != nil {
			return nil, err
		}
	}
	key := kernelKey(src.ID, Arch, cc, config)
	var k *Kernel
	said := false
	entry := cacheentry.Entry{
		Path:   filepath.Join(c.Dir, "kernels", key),
		Locked: true,
		Complete: func(dir string) bool {
			var err error
			k, err = loadEntry(dir)
			var damaged *cacheentry.DamagedError
			if errors.As(err, &damaged) && !said {
				said = true
				// Rebuilt in place (from the nearest whole tree).
				o.progress(fmt.Sprintf("damaged: %v; rebuilding", damaged.Err))
			}
			return err == nil
		},
		Stage: stagePath(c.Dir, src, cc), // one fixed O= path: see stagePath
	}
	hit, err := entry.Get(ctx, func(ctx context.Context, stage string) (string, error) {
		return stage, c.buildEntry(ctx, src, cellName, cc, key, config, stage, o)
	})
	if err != nil {
		return nil, err
	}
	if hit {
		o.progress("cached")
	} else {
		if k, err = loadEntry(entry.Path); err != nil {
			return nil, err
		}
		k.Cached = false
	}
	k.Cell = cellName
	return k, nil
}

// config returns the resolved .config for the fragments, resolving them in
// a scratch directory on a miss.
func (c *Cache) config(ctx context.Context, src *ksrc.Source, cell, cc string, frags []*kconfig.Fragment, o *options) ([]byte, error) {
	key := fragKey(src.ID, Arch, cc, frags)
	var data []byte
	said := false
	entry := cacheentry.Entry{
		Path:   filepath.Join(c.Dir, "configs", key),
		Locked: true,
		Complete: func(dir string) bool {
			var err error
			data, err = loadConfig(dir)
			var damaged *cacheentry.DamagedError
			if errors.As(err, &damaged) && !said {
				said = true
				o.progress(fmt.Sprintf("damaged: resolved config: %v; rebuilding", damaged.Err))
			}
			return err == nil
		},
	}
	_, err := entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		o.progress("configure")
		var err error
		data, err = c.resolveInto(ctx, tmp, src, cell, cc, frags, o)
		return tmp, err
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// resolveInto resolves the fragments in dir/obj and leaves in dir the
// resolved .config as config, and what was merged as fragments.
func (c *Cache) resolveInto(ctx context.Context, dir string, src *ksrc.Source, cell, cc string, frags []*kconfig.Fragment, o *options) ([]byte, error) {
	obj := filepath.Join(dir, "obj")
	opts := []kconfig.Option{kconfig.WithLog(o.log), kconfig.WithArch(Arch)}
	if len(frags) > 0 {
		// Every cell starts from the source's tinyconfig: resolved once,
		// as the config entry of no fragments. Should that fail, resolving
		// in full says why.
		quiet := *o // one "configure" stage a cell
		quiet.progress = func(string) {}
		if tiny, err := c.config(ctx, src, cell, cc, nil, &quiet); err == nil {
			opts = append(opts, kconfig.FromTinyconfig(tiny))
		}
	}
	if _, err := c.resolve(ctx, src.Dir, obj, frags, opts...); err != nil {
		var unmet *kconfig.ValidationError
		if !o.asResolved || !errors.As(err, &unmet) {
			return nil, configureError(src, cell, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(obj, ".config"))
	if err != nil {
		return nil, err
	}
	var merged []byte
	for _, f := range frags {
		merged = append(merged, "# "+f.Path+"\n"...)
		merged = append(merged, f.Text()...)
	}
	if err := os.WriteFile(filepath.Join(dir, "fragments"), merged, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), data, 0o644); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(obj); err != nil {
		return nil, err
	}
	return data, writeConfigSums(dir) // last: it marks the entry whole
}

// buildEntry builds the tree of key at stage, from the nearest cached tree
// when there is one, and writes its manifest last; the caller holds the
// key's lock and the stage's.
func (c *Cache) buildEntry(ctx context.Context, src *ksrc.Source, cell, cc, key string, config []byte, stage string, o *options) error {
	want, err := kconfig.ParseConfigData(config)
	if err != nil {
		return err
	}
	before, err := editableStats(src, cell)
	if err != nil {
		return err
	}
	base := c.nearest(src, cc, want, before, key)
	// make's output is kept with the tree (BuildLog); it goes beside the
	// stage until the build made the stage.
	logFile, err := os.Create(stage + ".log")
	if err != nil {
		return err
	}
	defer os.Remove(stage + ".log")
	defer logFile.Close()
	j := &job{
		src: src, cell: cell, dir: stage, config: config,
		modules: want.Enabled("MODULES"), jobs: o.jobs, log: io.MultiWriter(o.log, logFile),
	}
	if base != nil {
		j.base = base.Dir
	}
	what := buildKind(src, base)
	if d := c.earlierBuildTime(cell, base != nil).Round(10 * time.Second); d > 0 {
		// From the cache's own record: a fresh machine has none.
		what += fmt.Sprintf(", about %s as such builds took here", d)
	}
	o.progress(what)
	start := time.Now()
	failedLog := filepath.Join(c.Dir, "kernels", ".failed-"+key+".log")
	if err := c.build(ctx, j); err != nil {
		// The whole log is wanted most when the build failed: it stays,
		// beside the entries (a dot file: no entry, never swept as a stage).
		logFile.Close()
		if ctx.Err() == nil && os.Rename(stage+".log", failedLog) == nil {
			err = fmt.Errorf("%w (make's whole output: %s)", err, failedLog)
		}
		return fmt.Errorf("cell %s: %s of linux %s in %s: %w", cell, what, src.Version, stage, err)
	}
	os.Remove(failedLog)
	elapsed := time.Since(start)
	if err := logFile.Close(); err != nil {
		return err
	}
	if err := os.Rename(stage+".log", filepath.Join(stage, buildLogPath)); err != nil {
		return err
	}
	if before != nil {
		if err := unchangedSince(src, cell, before); err != nil {
			return err
		}
		if err := writeStats(stage, before); err != nil {
			return err
		}
	}
	release, err := checkTree(stage, cell, want)
	if err != nil {
		return err
	}
	files, err := sumTree(stage)
	if err != nil {
		return err
	}
	m := manifest{
		Files:  files,
		Format: formatVersion, Key: key, SourceID: src.ID, SourceDir: src.Dir,
		Version: src.Version, Release: release, Arch: Arch, Compiler: cc,
		Cell: cell, Vmlinux: vmlinuxPath, BzImage: bzImagePath,
		BuildTime: elapsed, BuiltAt: time.Now().UTC(),
	}
	if base != nil {
		m.From = base.Key
	}
	return writeManifest(stage, &m)
}

// Where a finished tree has its images, and make's output of the build
// that made it.
const (
	vmlinuxPath  = "vmlinux"
	bzImagePath  = "arch/x86/boot/bzImage"
	buildLogPath = "modmatrix-build.log"
)

// editableStats are the stats of an editable tree (--kernel-src), taken
// before make reads it, or nil for a Debian source. The tree must still be
// the one src.ID names (checked on these stats, not another walk);
// unchangedSince carries that through the build.
func editableStats(src *ksrc.Source, cell string) (ksrc.Stats, error) {
	if src.Location == "" {
		return nil, nil
	}
	stats, err := ksrc.ReadStats(src.Dir)
	if err != nil {
		return nil, fmt.Errorf("kernel source %s: %w", src.Dir, err)
	}
	if err := src.Verify(stats); err != nil {
		return nil, fmt.Errorf("cell %s: %w", cell, err)
	}
	return stats, nil
}

// unchangedSince fails when the tree was edited during the build: the
// objects may hold either content.
func unchangedSince(src *ksrc.Source, cell string, before ksrc.Stats) error {
	after, err := ksrc.ReadStats(src.Dir)
	if err != nil {
		return fmt.Errorf("kernel source %s: %w", src.Dir, err)
	}
	if !after.Equal(before) {
		ch := after.Differ(before)
		return fmt.Errorf("cell %s: kernel source %s changed during the build (%d files, e.g. %v): run again", cell, src.Dir, len(ch), ch[:min(len(ch), 3)])
	}
	return nil
}

// buildKind is what progress and errors call a build: "build", or
// "build (incremental from KEY/CELL, N symbols differ[, M source files
// changed])".
func buildKind(src *ksrc.Source, base *base) string {
	if base == nil {
		return "build"
	}
	s := fmt.Sprintf("build (incremental from %s/%s, %d symbols differ", short(base.Key), base.Cell, base.symbols)
	if base.SourceID != src.ID {
		s += fmt.Sprintf(", %d source files changed", len(base.files))
	}
	return s + ")"
}

// checkTree checks a finished build at stage: it kept the resolved config
// and made both images. It returns the tree's kernel release.
func checkTree(stage, cell string, want kconfig.Config) (string, error) {
	got, err := kconfig.ParseConfig(filepath.Join(stage, ".config"))
	if err != nil {
		return "", fmt.Errorf("cell %s: build: %w", cell, err)
	}
	if d := want.Diff(got); len(d) > 0 {
		return "", fmt.Errorf("cell %s: build changed the resolved config (%v); is the compiler the one that resolved it?", cell, d)
	}
	release, err := os.ReadFile(filepath.Join(stage, "include/config/kernel.release"))
	if err != nil {
		return "", fmt.Errorf("cell %s: build: %w", cell, err)
	}
	for _, p := range []string{vmlinuxPath, bzImagePath} {
		if _, err := os.Stat(filepath.Join(stage, p)); err != nil {
			return "", fmt.Errorf("cell %s: build finished without %s: %w", cell, p, err)
		}
	}
	return string(trimNL(release)), nil
}

// stagePath is where trees of src are built: one per source (its Location
// if it has one, else its content) and compiler, kernels/.stage-<id>,
// renamed into place when complete.
//
// For a tree with a Location (--kernel-src) the path follows the Location,
// not the content, so that an edited tree starts from a copy of the entry
// of its previous content at the same O= path, and kbuild rebuilds only
// what the edit touched (see nearest): a one-line edit of init/version.c
// rebuilt in 20 s where a cold build took 5m37s. A fixed path is what
// keeps incremental builds incremental: kbuild builds objtool through
// tools/build, whose command lines embed the absolute O= path, so a tree
// built in one directory and copied to another rebuilds objtool, and every
// kernel object depends on the objtool binary. Measured on 6.12.117
// (tinyconfig base, -j2): a copy to a new path with MODULE_FORCE_UNLOAD
// toggled rebuilt 811 objects in 4m37s; the same toggle on a copy back at
// the path the tree was built at rebuilt 1 object plus the link in 13s.
// Out-of-tree module builds against the renamed entry are unaffected (they
// never run objtool's build). The price is one build at a time per source,
// which is what two cores afford anyway.
func stagePath(root string, src *ksrc.Source, cc string) string {
	place := src.ID
	if src.Location != "" {
		place = src.Location
	}
	return filepath.Join(root, "kernels", cacheentry.StagePrefix+cacheentry.Key([]byte(place), []byte(Arch), []byte(cc))[:16])
}

func short(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

var errNoEntry = errors.New("no complete cache entry")

// Config returns the resolved .config of cellName on src (fragments merged
// in order, base first), from the cache or resolved (tinyconfig, merge,
// olddefconfig: seconds, no kernel build).
func (c *Cache) Config(ctx context.Context, src *ksrc.Source, cellName string, frags []*kconfig.Fragment, opts ...Option) (kconfig.Config, error) {
	_, _, _, resolved, err := c.resolveCell(ctx, src, cellName, frags, opts)
	return resolved, err
}

// Resolved is the .config of cellName on src as Kconfig wrote it (strings
// quoted; what Config parses) and the key its kernel is built and cached
// under: whether a build is needed is known before one starts.
func (c *Cache) Resolved(ctx context.Context, src *ksrc.Source, cellName string, frags []*kconfig.Fragment, opts ...Option) (config []byte, kernel string, err error) {
	_, cc, data, _, err := c.resolveCell(ctx, src, cellName, frags, opts)
	if err != nil {
		return nil, "", err
	}
	return data, kernelKey(src.ID, Arch, cc, data), nil
}

func configureError(src *ksrc.Source, cell string, err error) error {
	return fmt.Errorf("cell %s: configure (linux %s): %w", cell, src.Version, err)
}

// resolveCell applies opts and gives the compiler version and the cell's
// resolved .config, the two things a kernel's key is made of. Unless
// WithAsResolved, a requested value the .config lacks is an error, also
// on a hit (an entry resolved as it came may hold one).
func (c *Cache) resolveCell(ctx context.Context, src *ksrc.Source, cellName string, frags []*kconfig.Fragment, opts []Option) (o *options, cc string, config []byte, resolved kconfig.Config, err error) {
	o = &options{progress: func(string) {}, log: io.Discard, jobs: runtime.NumCPU()}
	for _, fn := range opts {
		fn(o)
	}
	if cc, err = c.compilerVersion(ctx); err != nil {
		return nil, "", nil, nil, err
	}
	if config, err = c.config(ctx, src, cellName, cc, frags, o); err != nil {
		return nil, "", nil, nil, err
	}
	if resolved, err = kconfig.ParseConfigData(config); err != nil {
		return nil, "", nil, nil, err
	}
	if !o.asResolved {
		if err := kconfig.Validate(resolved, frags...); err != nil {
			return nil, "", nil, nil, configureError(src, cellName, err)
		}
	}
	return o, cc, config, resolved, nil
}
