package matrix

import (
	"context"
	"fmt"

	"modmatrix.dev/modmatrix/harness/distro"
	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/scenario"
)

// WithPrebuilt adds prebuilt kernels (--kernel), in distro.ParseSpec's
// forms: debian-cloud-6.12, deb:IMAGE,HEADERS, vmlinuz=…,headers=….
// Each is one unit whose cell is the kernel's own configuration; the
// kconfigs/ cells do not apply to it.
func WithPrebuilt(specs ...string) Option { return func(c *Config) { c.Prebuilt = specs } }

// loadPrebuilt resolves (and on first use downloads and unpacks) the
// prebuilt kernels, so that a bad name fails before anything is built.
func (m *Matrix) loadPrebuilt(ctx context.Context) error {
	// Results (and OUT/VERSION/CELL folders) are keyed by kernel version ×
	// cell: a prebuilt kernel must not take a source unit's key.
	seen := map[string]string{}
	for _, src := range m.sources {
		for _, c := range m.cells {
			seen[src.Version+"/"+c.Name] = "the kernel built from " + src.Dir
		}
	}
	apt := distro.SystemApt() // one apt-get update at most for all specs
	for _, text := range m.cfg.Prebuilt {
		s, err := distro.ParseSpec(text)
		if err != nil {
			return err
		}
		k, err := distro.Get(ctx, m.cfg.CacheDir, apt, s)
		if err != nil {
			return err
		}
		id := k.Kernel.Version + "/" + s.Cell
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("--kernel %s and %s are both linux %s, cell %s: give it a cell= of its own", text, prev, k.Kernel.Version, s.Cell)
		}
		seen[id] = "--kernel " + text
		m.prebuilt = append(m.prebuilt, k)
	}
	return nil
}

// prebuiltUnits are the prebuilt kernels' units, one each.
func (m *Matrix) prebuiltUnits() []unit {
	var units []unit
	for _, k := range m.prebuilt {
		desc := "prebuilt " + k.Kernel.Release
		if len(k.Packages) > 0 {
			desc = "Debian's " + k.Packages[0]
		}
		units = append(units, unit{src: k.Source, cell: kconfig.Cell{Name: k.Spec.Cell, Description: desc}})
	}
	return units
}

// Prebuilt lists the prebuilt kernels (--kernel).
func (m *Matrix) Prebuilt() []*distro.Kernel { return m.prebuilt }

// prebuiltOf is the prebuilt kernel a unit's source belongs to, or nil.
func (m *Matrix) prebuiltOf(src *ksrc.Source) *distro.Kernel {
	for _, k := range m.prebuilt {
		if k.Source == src {
			return k
		}
	}
	return nil
}

// prebuiltKernel is the prebuilt kernel of a unit's source, or nil.
func (m *Matrix) prebuiltKernel(src *ksrc.Source) *kbuild.Kernel {
	if k := m.prebuiltOf(src); k != nil {
		return k.Kernel
	}
	return nil
}

// kernelFor is the unit's kernel: prebuilt, or built for its cell.
func (r *cellRun) kernelFor(ctx context.Context) (*kbuild.Kernel, error) {
	if k := r.m.prebuiltOf(r.u.src); k != nil {
		stage := "prebuilt " + k.Kernel.Release
		if k.Note != "" {
			stage += " (" + k.Note + ")"
		}
		r.stage(stage)
		return k.Kernel, nil
	}
	frags := r.u.cell.Frags(r.m.base)
	// A cell whose kernel cannot run the agent is refused before its
	// build, naming the symbol.
	guest := func(c kconfig.Config) error { return kconfig.CheckGuest(c, frags...) }
	return r.m.cache.Kernel(ctx, r.u.src, r.u.cell.Name, frags, kbuild.WithProgress(r.stage), kbuild.WithCheck(guest))
}

// prebuiltSkip says why a scenario cannot run on a prebuilt kernel, or "":
// a module built_for another cell needs that cell's kernel built from the
// same source, which a distribution's headers cannot give.
func (r *cellRun) prebuiltSkip(sc *scenario.Scenario) string {
	if r.m.prebuiltKernel(r.u.src) == nil {
		return ""
	}
	for _, st := range sc.Steps {
		if b := st.BuiltFor; b != nil && b.Cell != "" {
			return fmt.Sprintf("%s:%d: built_for cell %s needs a kernel built from source; %s is prebuilt", sc.File, b.Line, b.Cell, r.u.cell.Name)
		}
	}
	return ""
}

// knownSymbol is the scenario files' CONFIG symbol check: the sources'
// Kconfig symbols plus those the prebuilt kernels' .config files name.
// With no source tree at all (only prebuilt kernels, whose headers carry
// no Kconfig files) any symbol is accepted: a .config lists only the
// symbols whose dependencies were met.
func (m *Matrix) knownSymbol(symbols map[string]bool) func(string) bool {
	if len(m.sources) == 0 {
		return func(string) bool { return true }
	}
	return func(s string) bool {
		if symbols[s] {
			return true
		}
		for _, k := range m.prebuilt {
			if _, ok := k.Kernel.Config[s]; ok {
				return true
			}
		}
		return false
	}
}
