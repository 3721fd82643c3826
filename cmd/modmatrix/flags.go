package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"modmatrix.dev/modmatrix"
	"modmatrix.dev/modmatrix/harness/builtin"
	"modmatrix.dev/modmatrix/harness/distro"
	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/vm"
	"modmatrix.dev/modmatrix/initramfs"
)

// matrixFlags are the flags every command that builds a matrix shares.
type matrixFlags struct {
	repo, modules, kconfigs, cache, kernelSrc string
	kernels, cells, scen                      []string
	// The user's own: module folders, a scenario file, fragments, cells.
	moduleDirs, fragments, cellSpecs []string
	scenarioFile                     string
	// prebuilt are --kernel kernels; alone, they replace the --kernels default.
	prebuilt    []string
	kernelsFlag *pflag.Flag
}

func (f *matrixFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "a modmatrix checkout to build the guest's programs in and take kconfigs/ and modules/ from: a developer's override (default: what the binary carries; a binary built without `make build` finds the checkout above the working directory)")
	fl.StringVar(&f.modules, "modules", "", "folder of scenarios, one subfolder each (default: REPO/modules)")
	fl.StringVar(&f.kconfigs, "kconfigs", "", "folder of Kconfig fragments, base.config plus one per cell (default: REPO/kconfigs)")
	fl.StringVar(&f.cache, "cache", kbuild.DefaultCacheDir(), "cache folder for kernel sources, builds and modules")
	fl.StringVar(&f.kernelSrc, "kernel-src", "", "kernel tree to use instead of Debian's linux-source packages")
	fl.StringSliceVar(&f.kernels, "kernels", []string{"6.12"}, "Debian linux-source series to test (e.g. 6.12,6.1)")
	fl.StringSliceVar(&f.cells, "cells", nil, "cells to run (default: every fragment in kconfigs/)")
	fl.StringSliceVar(&f.scen, "scenarios", nil, "scenarios to run (default: every folder in modules/)")
	fl.StringArrayVar(&f.moduleDirs, "module", nil, "your out-of-tree module folder (Kbuild or Makefile) to run instead of modules/; repeatable, in any order (each is built against the others' exports). Its scenario.yaml drives it, else a default scenario (load, check live, unload, check gone and no leftovers, then once more; no kernel report)")
	fl.StringVar(&f.scenarioFile, "scenario", "", "scenario file for the one --module folder, instead of its scenario.yaml")
	fl.StringArrayVar(&f.fragments, "kconfig", nil, "Kconfig fragment merged into every cell, last; repeatable")
	fl.StringArrayVar(&f.cellSpecs, "cell", nil, "add a cell: NAME=FRAGMENT[,FRAGMENT...] over base.config; repeatable")
	fl.StringArrayVar(&f.prebuilt, "kernel", nil, "a prebuilt kernel, run as one cell of its own configuration (alone, instead of --kernels' default); repeatable: "+distro.Syntax)
	f.kernelsFlag = fl.Lookup("kernels")
}

// repoDir is --repo, a developer's override; else "" for a binary that
// carries its guest programs (it runs anywhere, on its built-in cells and
// scenarios); else the checkout found from the working directory, whose
// source builds them; else (go install's binary, run anywhere) the copy
// of its own source it puts in the cache, where Go builds them.
func (f *matrixFlags) repoDir(ctx context.Context) (string, error) {
	if f.repo != "" {
		return f.repo, nil
	}
	if initramfs.Embedded() {
		return "", nil
	}
	repo, err := findRepo()
	if err == nil {
		return repo, nil
	}
	if _, goErr := exec.LookPath("go"); goErr != nil {
		return "", fmt.Errorf("%w (and no go command to build them from the source it carries: %v)", err, goErr)
	}
	return builtin.Dir(ctx, modmatrix.Builtin(), f.cache)
}

// sources are the options that say where the guest programs, cells and
// scenarios come from: the checkout at repo, or (repo "") the binary's
// own, its built-ins put in the cache.
func (f *matrixFlags) sources(ctx context.Context, repo string) ([]matrix.Option, error) {
	if repo != "" {
		return []matrix.Option{matrix.WithRepo(repo)}, nil
	}
	if f.kconfigs != "" && f.modules != "" {
		return nil, nil // the user's own, added by options
	}
	dir, err := builtin.Dir(ctx, modmatrix.Builtin(), f.cache)
	if err != nil {
		return nil, err
	}
	return []matrix.Option{
		matrix.WithKconfigDir(filepath.Join(dir, builtin.Kconfigs)),
		matrix.WithModulesDir(filepath.Join(dir, builtin.Modules)),
	}, nil
}

func (f *matrixFlags) options(ctx context.Context) ([]matrix.Option, error) {
	repo, err := f.repoDir(ctx)
	if err != nil {
		return nil, err
	}
	opts, err := f.sources(ctx, repo)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		matrix.WithCache(f.cache),
		matrix.WithKernels(f.kernels...),
		matrix.WithKernelSrc(f.kernelSrc),
		matrix.WithCells(f.cells...),
		matrix.WithScenarios(f.scen...),
	)
	if f.modules != "" {
		opts = append(opts, matrix.WithModulesDir(f.modules))
	}
	if f.kconfigs != "" {
		opts = append(opts, matrix.WithKconfigDir(f.kconfigs))
	}
	opts = append(opts, matrix.WithModuleDirs(f.moduleDirs...), matrix.WithScenarioFile(f.scenarioFile),
		matrix.WithFragments(f.fragments...), matrix.WithCellSpecs(f.cellSpecs...))
	if len(f.prebuilt) > 0 {
		opts = append(opts, matrix.WithPrebuilt(f.prebuilt...))
		if !f.kernelsFlag.Changed && f.kernelSrc == "" {
			opts = append(opts, matrix.WithKernels())
		}
	}
	return opts, nil
}

// open loads and validates the matrix the flags describe, plus extra options.
func (f *matrixFlags) open(cmd *cobra.Command, extra ...matrix.Option) (*matrix.Matrix, error) {
	opts, err := f.options(cmd.Context())
	if err != nil {
		return nil, err
	}
	return matrix.New(cmd.Context(), append(opts, extra...)...)
}

// atLeast refuses a count flag below min before any work starts.
func atLeast(flag string, v, min int) error {
	if v < min {
		return fmt.Errorf("%s %d: want %d or more", flag, v, min)
	}
	return nil
}

// accelFlag is --accel, for every command that boots a guest.
type accelFlag string

func (a *accelFlag) register(cmd *cobra.Command) {
	cmd.Flags().StringVar((*string)(a), "accel", string(vm.AccelAuto), "QEMU accelerator: auto (KVM only where it really works), tcg or kvm")
}

// parse checks the value.
func (a accelFlag) parse() (vm.Accel, error) { return vm.ParseAccel(string(a)) }

// findRepo walks up from the working directory to the modmatrix checkout.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			strings.Contains(string(b), "module modmatrix.dev/modmatrix\n") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no modmatrix checkout above %s: %w", dir, initramfs.ErrNoGuest)
		}
	}
}
