package matrix

import (
	"context"
	"fmt"
	"path/filepath"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
)

// PreparedCell is one kernel source × cell made ready to boot outside a run
// (modmatrix shell): its kernel, and the modules built against it.
type PreparedCell struct {
	Source *ksrc.Source
	Cell   kconfig.Cell
	Kernel *kbuild.Kernel
	// Modules maps each selected scenario's name (a WithModuleDirs folder's
	// name) to its modules: module name → .ko on the host. A kernel without
	// MODULES has none.
	Modules map[string]map[string]string
}

// PrepareOption configures PrepareCell.
type PrepareOption func(*prepareOptions)

type prepareOptions struct{ scenarios bool }

// KernelOnly builds no modules, only the kernel.
func KernelOnly() PrepareOption { return func(o *prepareOptions) { o.scenarios = false } }

// PrepareCell builds (or finds in the cache) the kernel of src × cell and
// the modules of m's scenarios (or WithModuleDirs folders) against it, as a
// run does before it boots that cell. out takes what the run would write
// into the cell's folder.
func (m *Matrix) PrepareCell(ctx context.Context, src *ksrc.Source, cell, out string, opts ...PrepareOption) (*PreparedCell, error) {
	o := prepareOptions{scenarios: true}
	for _, fn := range opts {
		fn(&o)
	}
	c, ok := m.allCells[cell]
	if !ok {
		return nil, fmt.Errorf("unknown cell %q (no %s)", cell, filepath.Join(m.cfg.KconfigDir, cell+".config"))
	}
	mm := m
	if !o.scenarios {
		only := *m
		only.scenarios, only.folders = nil, nil
		mm = &only
	}
	r := &cellRun{m: mm, u: unit{src: src, cell: c}, out: out}
	k, err := r.prepare(ctx)
	if err != nil {
		return nil, err
	}
	p := &PreparedCell{Source: src, Cell: c, Kernel: k, Modules: r.kos}
	if !k.Modules() {
		// A run packs empty placeholders for a MODULES=n kernel (the kernel
		// refuses every load before reading the file); nothing else wants them.
		p.Modules = map[string]map[string]string{}
	}
	return p, nil
}
