package modbuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// Prebuild builds, in one Kbuild run, the folders of moduleDirs that the
// cache does not hold for k yet, each a subdirectory of that run, and
// publishes each as the entry Build would have made. A folder built alone
// pays Kbuild's start-up and modpost (measured here: 2.4 s a folder, 82 s
// for the 34 under modules/; all of them in one run, 35 s, and less with
// -j): a cold matrix builds its folders for every kernel.
//
// It is only a head start and returns nothing: when the run fails (one
// folder that does not compile fails it whole; a Kbuild file that expects
// to be the top folder, using $(M), cannot be a subdirectory), no folder
// is published, and Build builds each alone and gives its own error.
// Folders built against other folders' exports (WithExtraSymbols) are
// built in order by Build, not here.
func Prebuild(ctx context.Context, k *kbuild.Kernel, srcDir string, moduleDirs []string, opts ...Option) {
	o := newOptions(k, opts)
	if !k.Modules() || len(o.extraSymbols) > 0 {
		return
	}
	var misses []*folder
	planned := map[string]bool{} // entry paths
	for _, d := range moduleDirs {
		f, err := plan(k, d, o)
		if err != nil || planned[f.entry.Path] || f.entry.Complete(f.entry.Path) || setsBuildVariables(d) {
			continue // Build reports the error, or builds it alone
		}
		planned[f.entry.Path] = true
		misses = append(misses, f)
	}
	if len(misses) < 2 {
		return // Build does one as fast
	}
	srcDir, err := filepath.Abs(srcDir)
	if err != nil {
		return
	}
	parent := filepath.Dir(misses[0].entry.Path)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return
	}
	// One Prebuild a kernel at a time (cells that share a kernel, two runs
	// at once): the second builds only what the first did not publish.
	unlock, err := cacheentry.Lock(ctx, filepath.Join(parent, "prebuild"))
	if err != nil {
		return
	}
	defer unlock()
	misses = slices.DeleteFunc(misses, func(f *folder) bool { return f.entry.Complete(f.entry.Path) })
	if len(misses) < 2 {
		return
	}
	// Beside the entries, so that each subdirectory is renamed into place.
	run, err := cacheentry.MkdirTemp(parent, "prebuild")
	if err != nil {
		return
	}
	defer os.RemoveAll(run)

	var top strings.Builder
	top.WriteString("# Each module folder is a subdirectory of one external module build.\n")
	prefixMaps := []string{}
	for _, f := range misses {
		sub := filepath.Join(run, filepath.Base(f.entry.Path))
		if err := copyInputs(f.dir, f.files, sub); err != nil {
			return
		}
		fmt.Fprintf(&top, "obj-m += %s/\n", filepath.Base(sub))
		// What makeModules does for a folder alone: __FILE__ is the bare name.
		prefixMaps = append(prefixMaps, "-fmacro-prefix-map="+sub+"/=")
	}
	if err := os.WriteFile(filepath.Join(run, "Kbuild"), []byte(top.String()), 0o644); err != nil {
		return
	}
	args := []string{fmt.Sprintf("-j%d", runtime.NumCPU()), "KCFLAGS=" + strings.Join(prefixMaps, " ")}
	if _, err := kbuildModules(ctx, srcDir, k.Dir, run, args, o.log); err != nil {
		return
	}
	exports, err := os.ReadFile(filepath.Join(run, "Module.symvers"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return
	}
	for _, f := range misses {
		sub := filepath.Join(run, filepath.Base(f.entry.Path))
		if err := splitSymvers(exports, sub, f.entry.Path); err != nil {
			return
		}
		if writeSums(sub) != nil {
			continue
		}
		_ = f.entry.Put(sub)
	}
}

// splitSymvers writes sub's share of the run's Module.symvers (the lines
// of the modules built in sub, their path as the entry will have it) as
// sub/Module.symvers, as a build of the folder alone would have; nothing
// when its modules export nothing.
func splitSymvers(exports []byte, sub, entry string) error {
	var own strings.Builder
	for _, line := range strings.SplitAfter(string(exports), "\n") {
		f := strings.Split(line, "\t")
		if len(f) >= 4 && strings.HasPrefix(f[2], sub+"/") {
			f[2] = entry + strings.TrimPrefix(f[2], sub)
			own.WriteString(strings.Join(f, "\t"))
		}
	}
	if own.Len() == 0 {
		return nil
	}
	return os.WriteFile(filepath.Join(sub, "Module.symvers"), []byte(own.String()), 0o644)
}

// buildVariable is an assignment to a variable of the build's own
// (KBUILD_EXTRA_SYMBOLS, CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS),
// not a list of objects or flags.
var buildVariable = regexp.MustCompile(`(?m)^\s*(?:export\s+)?(?:CONFIG|KBUILD)_\w+\s*[:+?]?=`)

// setsBuildVariables tells whether the folder's Kbuild or Makefile sets a
// build variable. Such a folder is built alone: Makefile.modpost reads
// the Kbuild file of the top folder only (M=), so in a Prebuild run the
// setting would not reach modpost.
func setsBuildVariables(dir string) bool {
	for _, name := range []string{"Kbuild", "Makefile"} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil && buildVariable.Match(data) {
			return true
		}
	}
	return false
}
