// Package modbuild builds out-of-tree test modules against a cached kernel
// tree. The user's module folder is never written to: it is copied into the
// cache, keyed by the kernel and the folder's contents, and built there.
package modbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// ErrModulesDisabled is returned for a kernel built without CONFIG_MODULES:
// there is nothing to build against, and every load in it fails with ENOSYS.
var ErrModulesDisabled = errors.New("kernel has CONFIG_MODULES disabled")

// Result is a built module folder.
type Result struct {
	Dir string // the build directory in the cache
	// Modules maps the kernel's name for each module (the .ko file name
	// without .ko, "-" turned into "_" as in /proc/modules) to its path.
	Modules  map[string]string
	Vermagic string // from the first module's .modinfo, e.g. "6.12.117 mod_unload "
	// Symvers is the build's Module.symvers: the symbols its modules
	// export, for a folder built against them (WithExtraSymbols); "" when
	// they export none.
	Symvers string
	Cached  bool
}

// Option configures Build.
type Option func(*options)

type options struct {
	log          io.Writer
	cacheDir     string
	extraSymbols []string
}

// WithLog sends make's output to w.
func WithLog(w io.Writer) Option { return func(o *options) { o.log = w } }

// WithCache sets the cache root; by default modules live in the cache the
// kernel came from, so that removing a kernel's cache removes its modules.
func WithCache(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithExtraSymbols builds against other module folders' exports: their
// Module.symvers files (Result.Symvers) go to modpost as
// KBUILD_EXTRA_SYMBOLS, which gives each import its CRC and the module
// its modinfo depends.
func WithExtraSymbols(symvers ...string) Option {
	return func(o *options) { o.extraSymbols = symvers }
}

// notBuildInput are files of a module folder that kbuild does not read
// (scenarios, notes): they are neither copied nor hashed, so editing a
// scenario does not rebuild the module.
var notBuildInput = []string{".yaml", ".yml", ".json", ".md", ".txt"}

// buildArtifacts are what an in-place build leaves in a module folder.
var buildArtifacts = []string{".o", ".ko", ".mod", ".mod.c", ".mod.o", ".order", ".symvers"}

// Build builds the module folder moduleDir against kernel k, whose source
// is srcDir, into <cache>/modules/<kernelkey>/<name>-<hash>/.
func Build(ctx context.Context, k *kbuild.Kernel, srcDir, moduleDir string, opts ...Option) (*Result, error) {
	o := newOptions(k, opts)
	f, err := plan(k, moduleDir, o)
	if err != nil {
		return nil, err
	}
	srcDir, err = filepath.Abs(srcDir)
	if err != nil {
		return nil, err
	}
	hit, err := f.entry.Get(ctx, func(ctx context.Context, tmp string) (string, error) {
		return tmp, buildCopy(ctx, k, srcDir, moduleDir, f.files, tmp, o)
	})
	if err != nil {
		return nil, err
	}
	if hit {
		f.found.Cached = true
		return f.found, nil
	}
	return result(f.entry.Path)
}

func newOptions(k *kbuild.Kernel, opts []Option) options {
	o := options{log: io.Discard, cacheDir: filepath.Dir(filepath.Dir(k.Dir))}
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

// folder is one module folder's build as the cache keys it.
type folder struct {
	name  string
	dir   string   // the module folder
	files []string // its build inputs
	entry cacheentry.Entry
	found *Result // what entry.Complete found there
}

// plan keys moduleDir's build for k: its inputs, their hash and the
// cache entry they build.
func plan(k *kbuild.Kernel, moduleDir string, o options) (*folder, error) {
	f := &folder{name: filepath.Base(filepath.Clean(moduleDir)), dir: moduleDir}
	if !k.Modules() {
		return nil, fmt.Errorf("module %s for %s: %w", f.name, k, ErrModulesDisabled)
	}
	var err error
	if f.files, err = inputs(moduleDir); err != nil {
		return nil, fmt.Errorf("module %s: %w", f.name, err)
	}
	if len(f.files) == 0 {
		return nil, fmt.Errorf("module %s: no source files in %s", f.name, moduleDir)
	}
	hash, err := hashFiles(moduleDir, f.files, o.extraSymbols)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", f.name, err)
	}
	// Unlocked: a module builds in seconds, the same every time, and a
	// run that loses the race to publish takes the winner's build.
	f.entry = cacheentry.Entry{
		Path: filepath.Join(o.cacheDir, "modules", k.Key, f.name+"-"+hash),
		Complete: func(dir string) bool {
			var err error
			f.found, err = result(dir)
			return err == nil
		},
	}
	return f, nil
}

// buildCopy copies the module folder's files into dir and builds them
// there.
func buildCopy(ctx context.Context, k *kbuild.Kernel, srcDir, moduleDir string, files []string, dir string, o options) error {
	name := filepath.Base(filepath.Clean(moduleDir))
	if err := copyInputs(moduleDir, files, dir); err != nil {
		return fmt.Errorf("module %s: %w", name, err)
	}
	if err := makeModules(ctx, srcDir, k.Dir, dir, moduleDir, o); err != nil {
		return fmt.Errorf("module %s for linux %s (cell %s, release %s, kernel %.12s): %w",
			name, k.Version, k.Cell, k.Release, k.Key, err)
	}
	if err := writeSums(dir); err != nil {
		return fmt.Errorf("module %s for %s: %w", name, k, err)
	}
	if _, err := result(dir); err != nil {
		return fmt.Errorf("module %s for %s: %w", name, k, err)
	}
	return nil
}

// copyInputs copies a module folder's build inputs into dir.
func copyInputs(moduleDir string, files []string, dir string) error {
	for _, f := range files {
		if err := cacheentry.CopyFile(filepath.Join(moduleDir, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

// makeModules runs kbuild's external module build in dir, a copy of
// moduleDir. As dir is a temporary name, -fmacro-prefix-map makes __FILE__
// (which WARN() prints) the bare file name, and compiler output names files
// as the user knows them.
func makeModules(ctx context.Context, srcDir, objDir, dir, moduleDir string, o options) error {
	args := []string{"KCFLAGS=-fmacro-prefix-map=" + dir + "/="}
	if len(o.extraSymbols) > 0 {
		args = append(args, "KBUILD_EXTRA_SYMBOLS="+strings.Join(o.extraSymbols, " "))
	}
	out, err := kbuildModules(ctx, srcDir, objDir, dir, args, o.log)
	if err != nil {
		text := out
		const maxOut = 32 << 10 // compiler errors cascade; the first ones matter
		if len(text) > maxOut {
			text = text[:maxOut] + "\n[... output truncated]"
		}
		text = strings.NewReplacer(dir+"/", "", dir, moduleDir).Replace(text)
		err = fmt.Errorf("make modules: %w\n--- compiler output ---\n%s", err, text)
		if syms := undefinedSymbols(out); len(syms) > 0 {
			return &UndefinedError{Symbols: syms, Err: err}
		}
		return err
	}
	return nil
}

// kbuildModules runs make modules for the external modules in dir (M=)
// against the kernel tree objDir built from srcDir, and returns make's
// output. make and the compilers it starts are one process group, killed
// whole when ctx is done.
func kbuildModules(ctx context.Context, srcDir, objDir, dir string, args []string, log io.Writer) (string, error) {
	args = append([]string{"-C", srcDir, "O=" + objDir, "M=" + dir}, args...)
	cmd := exec.CommandContext(ctx, "make", append(args, "modules")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return out.String(), err
}

// result lists the .ko files of a finished build directory.
func result(dir string) (*Result, error) {
	if err := checkSums(dir); err != nil {
		return nil, err
	}
	kos, err := filepath.Glob(filepath.Join(dir, "*.ko"))
	if err != nil || len(kos) == 0 {
		return nil, fmt.Errorf("no .ko in %s (does Kbuild set obj-m?)", dir)
	}
	sort.Strings(kos)
	r := &Result{Dir: dir, Modules: map[string]string{}}
	for _, ko := range kos {
		r.Modules[ModuleName(ko)] = ko
	}
	r.Vermagic, err = Vermagic(kos[0])
	if err != nil {
		return nil, err
	}
	if p := filepath.Join(dir, "Module.symvers"); fileSize(p) > 0 {
		r.Symvers = p
	}
	return r, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// UndefinedError is a build that modpost refused because its modules use
// symbols that neither the kernel nor the extra symbols export: in a run
// of several module folders, most likely another folder's, not built yet.
type UndefinedError struct {
	Symbols []string
	Err     error
}

func (e *UndefinedError) Error() string { return e.Err.Error() }
func (e *UndefinedError) Unwrap() error { return e.Err }

// modpostUndefined is modpost's line for an import nothing exports (6.1
// and 6.12 alike): ERROR: modpost: "sym" [path/mod.ko] undefined!
var modpostUndefined = regexp.MustCompile(`(?m)^ERROR: modpost: "([^"]+)" \[[^\]]+\] undefined!`)

func undefinedSymbols(out string) []string {
	var syms []string
	for _, m := range modpostUndefined.FindAllStringSubmatch(out, -1) {
		if !slices.Contains(syms, m[1]) {
			syms = append(syms, m[1])
		}
	}
	return syms
}

// ModuleName is the kernel's name for a .ko file: its base name without
// .ko, with "-" turned into "_".
func ModuleName(ko string) string {
	return kernel.ModuleName(strings.TrimSuffix(filepath.Base(ko), ".ko"))
}

// Vermagic reads the vermagic= field of a .ko's .modinfo section; the
// kernel refuses a module whose vermagic differs from its own.
func Vermagic(ko string) (string, error) {
	info, err := Modinfo(ko)
	if err != nil {
		return "", err
	}
	if v := info["vermagic"]; len(v) > 0 {
		return v[0], nil
	}
	return "", fmt.Errorf("%s: no vermagic in .modinfo", ko)
}

// Modinfo reads a .ko's .modinfo section (what modinfo(8) prints): each
// key with its values in order, e.g. "depends" → ["dep_a,dep_b"].
func Modinfo(ko string) (map[string][]string, error) {
	f, err := elf.Open(ko)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("%s: no .modinfo section", ko)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ko, err)
	}
	info := map[string][]string{}
	for _, field := range bytes.Split(data, []byte{0}) {
		if k, v, ok := bytes.Cut(field, []byte("=")); ok {
			info[string(k)] = append(info[string(k)], string(v))
		}
	}
	return info, nil
}

// Depends lists the modules a .ko needs loaded first (its modinfo
// "depends", which modpost fills from the symbols it uses).
func Depends(ko string) ([]string, error) {
	info, err := Modinfo(ko)
	if err != nil {
		return nil, err
	}
	var deps []string
	for _, v := range info["depends"] {
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d != "" {
				deps = append(deps, d)
			}
		}
	}
	return deps, nil
}

// Permanent reports whether the kernel will never unload a .ko: it has an
// init routine (module_init makes the alias init_module) and no exit
// routine (module_exit's cleanup_module). delete_module refuses such a
// module with EBUSY; one with neither (a KUnit test module) unloads.
func Permanent(ko string) (bool, error) {
	f, err := elf.Open(ko)
	if err != nil {
		return false, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return false, fmt.Errorf("%s: %w", ko, err)
	}
	var init, exit bool
	for _, s := range syms {
		switch s.Name {
		case "init_module":
			init = true
		case "cleanup_module":
			exit = true
		}
	}
	return init && !exit, nil
}

// inputs lists the module folder's build inputs, relative and sorted:
// everything but dotfiles, build artifacts and notBuildInput files.
func inputs(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || hasSuffix(d.Name(), notBuildInput) ||
			hasSuffix(d.Name(), buildArtifacts) || d.Name() == "Module.symvers" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, rel)
		return nil
	})
	sort.Strings(files)
	return files, err
}

func hasSuffix(name string, suffixes []string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// hashFiles digests the files' names and contents, and the exports of the
// extra Module.symvers files: each line's CRC, symbol, exporting module's
// name (its depends= for the importer), export type and namespace, in
// sorted order, so neither the folder an export was built in nor the
// order of the files changes the key.
func hashFiles(dir string, files, extraSymvers []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	var exports []string
	for _, p := range extraSymvers {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Split(line, "\t"); len(f) >= 4 {
				f[2] = filepath.Base(f[2])
				exports = append(exports, strings.Join(f, "\x00"))
			}
		}
	}
	slices.Sort(exports)
	for _, e := range exports {
		fmt.Fprintf(h, "symvers\x00%s\n", e)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// writeSums records, last, a module build's .ko files in its
// cacheentry.SumsFile; a hit checks them, so a damaged or removed .ko is
// built again.
func writeSums(dir string) error {
	kos, err := filepath.Glob(filepath.Join(dir, "*.ko"))
	if err != nil || len(kos) == 0 {
		return fmt.Errorf("no .ko in %s (does Kbuild set obj-m?)", dir)
	}
	var names []string
	for _, ko := range kos {
		names = append(names, filepath.Base(ko))
	}
	if fileExists(filepath.Join(dir, "Module.symvers")) {
		// Folders built against this one read it.
		names = append(names, "Module.symvers")
	}
	return cacheentry.WriteSums(dir, names...)
}

func checkSums(dir string) error {
	sums, err := cacheentry.ReadSums(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no %s (made before modmatrix recorded them, or never finished): built again when next used", cacheentry.SumsFile)
	}
	if err != nil {
		return err
	}
	return sums.Check(dir)
}

// CheckEntry tells whether the module build entry at dir is complete and
// whole (modmatrix cache verify).
func CheckEntry(dir string) error {
	_, err := result(dir)
	return err
}

// Digest names the content of a module folder's build inputs (the files a
// build takes, by name and content): what a result judged on its modules
// is keyed by, besides the kernel.
func Digest(dir string) (string, error) {
	files, err := inputs(dir)
	if err != nil {
		return "", err
	}
	return hashFiles(dir, files, nil)
}
