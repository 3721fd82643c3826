package matrix

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/modbuild"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// WithModuleDirs runs the user's own out-of-tree module folders (each with
// its Kbuild or Makefile) instead of the repository's scenarios. Each
// folder's scenario.yaml drives it; a folder without one gets the default
// scenario (scenario.Default).
func WithModuleDirs(dirs ...string) Option { return func(c *Config) { c.ModuleDirs = dirs } }

// WithScenarioFile drives the (single) module folder of WithModuleDirs by
// this file instead of the folder's own scenario.yaml.
func WithScenarioFile(path string) Option { return func(c *Config) { c.ScenarioFile = path } }

// WithFragments merges the user's Kconfig fragments into every cell, last.
func WithFragments(paths ...string) Option { return func(c *Config) { c.Fragments = paths } }

// WithCellSpecs adds cells defined on the command line, each
// NAME=FRAGMENT[,FRAGMENT...] over the base.
func WithCellSpecs(specs ...string) Option { return func(c *Config) { c.CellSpecs = specs } }

// userCells adds the command line's cells to the matrix's and merges the
// user's fragments into every cell.
func (m *Matrix) userCells(all []kconfig.Cell) ([]kconfig.Cell, error) {
	known := map[string]bool{}
	for _, c := range all {
		known[c.Name] = true
	}
	for _, spec := range m.cfg.CellSpecs {
		c, err := kconfig.ParseCellSpec(spec)
		if err != nil {
			return nil, err
		}
		if known[c.Name] {
			return nil, fmt.Errorf("--cell %s: %s already defines cell %s", spec, filepath.Join(m.cfg.KconfigDir, c.Name+".config"), c.Name)
		}
		known[c.Name] = true
		all = append(all, c)
	}
	var extra []*kconfig.Fragment
	for _, p := range m.cfg.Fragments {
		f, err := kconfig.ParseFragment(p)
		if err != nil {
			return nil, fmt.Errorf("--kconfig: %w", err)
		}
		extra = append(extra, f)
	}
	out := make([]kconfig.Cell, len(all))
	for i, c := range all {
		c.Extra = append(slices.Clone(c.Extra), extra...)
		out[i] = c
	}
	return out, nil
}

// checkFragmentSymbols rejects, before any make, a fragment entry whose
// symbol none of the selected kernels has, naming FILE:LINE and the symbol.
// (A symbol that exists but does not survive olddefconfig is caught when
// the cell's config is resolved.)
func (m *Matrix) checkFragmentSymbols(known map[string]bool) error {
	frags := []*kconfig.Fragment{m.base}
	// By path: a fragment several cells include is parsed for each.
	seen := map[string]bool{m.base.Path: true}
	for _, c := range m.allCells {
		for _, f := range c.Frags(m.base) {
			if f != nil && !seen[f.Path] {
				seen[f.Path] = true
				frags = append(frags, f)
			}
		}
	}
	sort.SliceStable(frags, func(i, j int) bool { return frags[i].Path < frags[j].Path })
	return kconfig.UnknownSymbols(func(s string) bool { return known[s] }, frags...)
}

// userScenarios loads the scenarios of WithModuleDirs: the folder's file,
// the WithScenarioFile file, or the default scenario from its obj-m names
// (made again per kernel from the built modules, for their dependencies).
func (m *Matrix) userScenarios(opts ...scenario.Option) ([]*scenario.Scenario, error) {
	var out []*scenario.Scenario
	names := map[string]string{}
	for _, d := range m.cfg.ModuleDirs {
		dir, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--module %s: not a folder", d)
		}
		sc, err := m.userScenario(dir, opts...)
		if err != nil {
			return nil, err
		}
		if prev, dup := names[sc.Name]; dup {
			return nil, fmt.Errorf("--module %s and %s: two module folders named %s", prev, dir, sc.Name)
		}
		names[sc.Name] = dir
		out = append(out, sc)
	}
	return out, nil
}

func (m *Matrix) userScenario(dir string, opts ...scenario.Option) (*scenario.Scenario, error) {
	file := m.cfg.ScenarioFile
	if file == "" {
		file = filepath.Join(dir, scenario.FileName)
		if _, err := os.Stat(file); err != nil {
			kos, err := modbuild.KbuildModules(dir)
			if errors.Is(err, modbuild.ErrNoObjM) {
				return nil, fmt.Errorf("%s: no %s and %w: write a %s for it (see modmatrix's harness/scenario/doc.go)",
					dir, scenario.FileName, modbuild.ErrNoObjM, scenario.FileName)
			}
			if err != nil {
				return nil, err
			}
			var mods []scenario.ModuleInfo
			for _, ko := range kos {
				mods = append(mods, scenario.ModuleInfo{Name: modbuild.ModuleName(ko), File: ko})
			}
			sc, text, err := scenario.Default(dir, m.generatedFile(filepath.Base(dir), ""), mods)
			if err == nil {
				m.generated = append(m.generated, generated{sc.File, text})
			}
			return sc, err
		}
	}
	return scenario.LoadFile(dir, file, opts...)
}

// generated is a default scenario's text and where to write it.
type generated struct {
	file string
	text []byte
}

// writeGenerated saves the default scenarios made before any build (in
// obj-m order) in the output folder; each kernel's own, in dependency
// order, goes into its cell's folder.
func (m *Matrix) writeGenerated() error {
	for _, g := range m.generated {
		if err := writeScenarioFile(g.file, g.text); err != nil {
			return err
		}
	}
	return nil
}

// writeScenarioFile saves a generated scenario for the user to read.
func writeScenarioFile(file string, text []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("generated scenario: %w", err)
	}
	if err := os.WriteFile(file, text, 0o644); err != nil {
		return fmt.Errorf("generated scenario: %w", err)
	}
	return nil
}

// generatedFile is where a default scenario is written for the user to
// read (and to start a scenario file from).
func (m *Matrix) generatedFile(name, kernelDir string) string {
	if kernelDir == "" {
		return filepath.Join(m.cfg.OutDir, "generated", name, scenario.FileName)
	}
	return filepath.Join(kernelDir, "generated", name, scenario.FileName)
}

// regenerate makes a default scenario again from the modules built for
// this kernel (other folders' that they use included): their load order
// follows modinfo's depends, and a module
// with an init routine and no exit routine is expected to stay.
func (r *cellRun) regenerate(sc *scenario.Scenario, kos map[string]string) (*scenario.Scenario, error) {
	var mods []scenario.ModuleInfo
	for name, ko := range kos {
		deps, err := modbuild.Depends(ko)
		if err != nil {
			return nil, err
		}
		permanent, err := modbuild.Permanent(ko)
		if err != nil {
			return nil, err
		}
		mods = append(mods, scenario.ModuleInfo{Name: name, File: filepath.Base(ko), Depends: deps, Permanent: permanent})
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Name < mods[j].Name })
	file := r.m.generatedFile(sc.Name, r.out)
	gen, text, err := scenario.Default(sc.Dir, file, mods)
	if err != nil {
		return nil, err
	}
	if err := writeScenarioFile(file, text); err != nil {
		return nil, err
	}
	return gen, nil
}

// scenarios is the matrix's scenarios as this kernel runs them.
func (r *cellRun) scenarios() []*scenario.Scenario {
	if r.own != nil {
		return r.own
	}
	return r.m.scenarios
}

// buildFolders builds the module folder of every scenario that runs on k.
// The user's folders may use each other's exports: each is built against
// the Module.symvers of the folders built before it (those whose scenarios
// do not run too), and one that modpost refuses for an undefined symbol is
// built again once the others are, so the order of --module does not
// matter.
func (r *cellRun) buildFolders(ctx context.Context, k *kbuild.Kernel) (map[string]*modbuild.Result, error) {
	type folder struct {
		sc   *scenario.Scenario
		runs bool // else built only for its exports
	}
	var pending []folder
	runs := map[string]bool{}
	for _, sc := range r.own {
		if r.holds(sc) && r.prebuiltSkip(sc) == "" {
			pending = append(pending, folder{sc, true})
			runs[sc.Name] = true
		}
	}
	for _, sc := range r.m.folders {
		if !runs[sc.Name] {
			pending = append(pending, folder{sc, false})
		}
	}
	shared := len(r.m.cfg.ModuleDirs) > 0
	if !shared {
		var dirs []string
		for _, f := range pending {
			dirs = append(dirs, f.sc.Dir)
		}
		modbuild.Prebuild(ctx, k, r.u.src.Dir, dirs, modbuild.WithCache(r.m.cfg.CacheDir))
	}
	built := map[string]*modbuild.Result{}
	var symvers []string
	var failed []string // folders built only for their exports that did not build
	for len(pending) > 0 {
		var later []folder
		var refused error
		var deferred []string // folders built only for their exports, refused by modpost
		for _, f := range pending {
			opts := []modbuild.Option{modbuild.WithCache(r.m.cfg.CacheDir)}
			if shared {
				opts = append(opts, modbuild.WithExtraSymbols(symvers...))
			}
			b, err := modbuild.Build(ctx, k, r.u.src.Dir, f.sc.Dir, opts...)
			var undef *modbuild.UndefinedError
			switch {
			case shared && errors.As(err, &undef):
				later = append(later, f)
				if f.runs && refused == nil {
					refused = fmt.Errorf("%w\n(%s: no --module folder exports %s)", err, f.sc.Dir, strings.Join(undef.Symbols, ", "))
				} else if !f.runs {
					deferred = append(deferred, f.sc.Dir)
				}
				continue
			case err != nil && f.runs:
				return nil, err
			case err != nil:
				// Its scenario does not run here; it exports nothing. A
				// folder that needed it says so below.
				failed = append(failed, fmt.Sprintf("%s (%v)", f.sc.Dir, report.FirstLine(err.Error())))
				continue
			}
			built[f.sc.Name] = b
			if b.Symvers != "" {
				symvers = append(symvers, b.Symvers)
			}
		}
		if len(later) == len(pending) {
			if unbuilt := append(slices.Clone(failed), deferred...); refused != nil && len(unbuilt) > 0 {
				refused = fmt.Errorf("%w\n(not built: %s)", refused, strings.Join(unbuilt, "; "))
			}
			if refused != nil {
				return nil, refused
			}
			break
		}
		pending = later
	}
	if !shared {
		return built, nil // the scenarios' folders never meet in one guest
	}
	return built, checkModuleNames(built)
}

// checkModuleNames refuses two folders that build a module of one name:
// the kernel would take the second for the first.
func checkModuleNames(built map[string]*modbuild.Result) error {
	owner := map[string]string{}
	for _, folder := range slices.Sorted(maps.Keys(built)) {
		for mod := range built[folder].Modules {
			if prev, dup := owner[mod]; dup {
				return fmt.Errorf("module folders %s and %s both build %s.ko", prev, folder, mod)
			}
			owner[mod] = folder
		}
	}
	return nil
}

// withImports is a folder's modules plus those of the other folders that
// they depend on (modinfo depends), transitively: the scenario loads them
// first.
func withImports(own map[string]string, built map[string]*modbuild.Result) (map[string]string, error) {
	all := map[string]string{}
	for _, b := range built {
		maps.Copy(all, b.Modules)
	}
	kos := maps.Clone(own)
	queue := slices.Sorted(maps.Keys(kos))
	for len(queue) > 0 {
		deps, err := modbuild.Depends(kos[queue[0]])
		if err != nil {
			return nil, err
		}
		queue = queue[1:]
		for _, d := range deps {
			if _, have := kos[d]; !have && all[d] != "" {
				kos[d] = all[d]
				queue = append(queue, d)
			}
		}
	}
	return kos, nil
}
