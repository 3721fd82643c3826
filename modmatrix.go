// Package modmatrix drives modmatrix from a Go program or test: build a
// cell's kernel (or take it from the shared cache), run scenarios on
// cells, and get typed results.
//
//	res, err := modmatrix.Run(ctx, modmatrix.WithCells("unload"), modmatrix.WithModuleDirs("./mymod"))
//	r, _ := res.Find("", "unload", "mymod")
//	if r.Verdict != modmatrix.Pass { ... r.Reason, r.Steps ... }
//
// By default it uses this module's own kconfigs/ and modules/, Debian's
// linux-source-6.12 and the cache of the modmatrix command
// ($MODMATRIX_CACHE, else ~/.cache/modmatrix), so a kernel the command
// built is not built again.
package modmatrix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/matrix"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/harness/verdict"
	"modmatrix.dev/modmatrix/harness/vm"
)

// Results is a run's outcome, as results.json holds it.
type (
	Results        = report.Results
	ScenarioResult = report.ScenarioResult
	StepRecord     = report.StepRecord
	Cell           = report.Cell
	Verdict        = verdict.Verdict
	// Kernel is a built kernel tree: its .config, bzImage and the O= tree
	// to build modules against.
	Kernel = kbuild.Kernel
	// Option configures Run and BuildKernel.
	Option = matrix.Option
)

// Verdicts, as results.json spells them.
const (
	Pass  = verdict.Pass
	Fail  = verdict.Fail
	Error = verdict.Error
	Crash = verdict.Crash
	Hang  = verdict.Hang
	Skip  = verdict.Skip
)

// WithCells selects cells by name (default: every fragment in kconfigs/).
func WithCells(names ...string) Option { return matrix.WithCells(names...) }

// WithScenarios selects the repository's scenarios by name.
func WithScenarios(names ...string) Option { return matrix.WithScenarios(names...) }

// WithModuleDirs runs your own module folders instead of the repository's
// scenarios (their scenario.yaml, else the default scenario).
func WithModuleDirs(dirs ...string) Option { return matrix.WithModuleDirs(dirs...) }

// WithScenarioFile drives the one module folder by this file.
func WithScenarioFile(path string) Option { return matrix.WithScenarioFile(path) }

// WithFragments merges Kconfig fragments into every cell.
func WithFragments(paths ...string) Option { return matrix.WithFragments(paths...) }

// WithCellSpecs adds cells, each NAME=FRAGMENT[,FRAGMENT...].
func WithCellSpecs(specs ...string) Option { return matrix.WithCellSpecs(specs...) }

// WithKernels selects Debian linux-source series ("6.12", "6.1").
func WithKernels(series ...string) Option { return matrix.WithKernels(series...) }

// WithKernelSrc uses a kernel tree of your own instead.
func WithKernelSrc(dir string) Option { return matrix.WithKernelSrc(dir) }

// WithCache sets the cache folder.
func WithCache(dir string) Option { return matrix.WithCache(dir) }

// WithOut sets the output folder (results.json, logs); a temporary folder
// suits tests.
func WithOut(dir string) Option { return matrix.WithOut(dir) }

// WithTCG forces QEMU's software emulation even where KVM works.
func WithTCG() Option { return matrix.WithAccel(vm.AccelTCG) }

// Run builds, boots and judges the matrix the options describe. It returns
// the results also when some cell failed; the error is for a run that could
// not be done (bad input, interrupted).
func Run(ctx context.Context, opts ...Option) (*Results, error) {
	m, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return m.Run(ctx)
}

// BuildKernel returns the kernel of one cell, built or from the cache, for
// the first (or only) kernel source the options select.
func BuildKernel(ctx context.Context, cell string, opts ...Option) (*Kernel, error) {
	m, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	srcs := m.Sources()
	if len(srcs) == 0 {
		return nil, errors.New("modmatrix: no kernel source selected")
	}
	out, err := os.MkdirTemp("", "modmatrix-kernel-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	p, err := m.PrepareCell(ctx, srcs[0], cell, out, matrix.KernelOnly())
	if err != nil {
		return nil, err
	}
	return p.Kernel, nil
}

func open(ctx context.Context, opts []Option) (*matrix.Matrix, error) {
	repo, err := sourceDir()
	if err != nil {
		return nil, err
	}
	return matrix.New(ctx, append([]Option{matrix.WithRepo(repo), matrix.WithProgress(matrix.Quiet)}, opts...)...)
}

// sourceDir is this module's source: the agent is built from it, and its
// kconfigs/ and modules/ are the defaults.
func sourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("modmatrix: cannot find its own source")
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(filepath.Join(dir, "cmd", "modagent")); err != nil {
		return "", fmt.Errorf("modmatrix: %s has no cmd/modagent (built with -trimpath?): %w", dir, err)
	}
	return dir, nil
}
