package matrix

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/modbuild"
	"modmatrix.dev/modmatrix/harness/report"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// A bisect (package bisect) runs the matrix's scenarios on configurations
// of its own, probes, one at a time on the matrix's one kernel source.

// Cell is the named cell, selected or not: a fragment of the kconfigs
// folder or a --cell.
func (m *Matrix) Cell(name string) (kconfig.Cell, bool) {
	c, ok := m.allCells[name]
	return c, ok
}

// Source is the matrix's one kernel source, or an error saying that a
// probe needs exactly one built from source.
func (m *Matrix) Source() (*ksrc.Source, error) {
	if len(m.sources) != 1 || len(m.prebuilt) > 0 {
		return nil, fmt.Errorf("a configuration is bisected on one kernel built from source, and this matrix has %d sources and %d prebuilt kernels: give one --kernels series or --kernel-src", len(m.sources), len(m.prebuilt))
	}
	return m.sources[0], nil
}

// Resolve is cell c's .config on the matrix's source as Kconfig wrote it,
// and the key its kernel is cached under (seconds, no build). A config
// whose kernel could not run the agent is refused, naming the symbol.
// With asResolved a requested value olddefconfig did not keep is no
// error: a probe is what it resolves to (kbuild.WithAsResolved).
func (m *Matrix) Resolve(ctx context.Context, c kconfig.Cell, asResolved bool) (config []byte, kernelKey string, err error) {
	src, err := m.Source()
	if err != nil {
		return nil, "", err
	}
	frags := c.Frags(m.base)
	var opts []kbuild.Option
	if asResolved {
		opts = append(opts, kbuild.WithAsResolved())
	}
	data, key, err := m.cache.Resolved(ctx, src, c.Name, frags, opts...)
	if err != nil {
		return nil, "", err
	}
	if !asResolved {
		if err := m.CheckGuest(c, data); err != nil {
			return nil, "", err
		}
	}
	return data, key, nil
}

// CheckGuest refuses a resolved .config of cell c whose kernel could not
// run the agent, naming the symbol.
func (m *Matrix) CheckGuest(c kconfig.Cell, config []byte) error {
	resolved, err := kconfig.ParseConfigData(config)
	if err == nil {
		err = kconfig.CheckGuest(resolved, c.Frags(m.base)...)
	}
	if err != nil {
		return fmt.Errorf("cell %s: %w", c.Name, err)
	}
	return nil
}

// Base is the fragment every cell is merged over.
func (m *Matrix) Base() *kconfig.Fragment { return m.base }

// RunCell runs the matrix's scenarios on cell c alone, into out: c need
// not be one of the matrix's (a probe's is made for it). Calls go one at a
// time; the guest image the first builds serves them all.
func (m *Matrix) RunCell(ctx context.Context, c kconfig.Cell, out string) (*report.Results, error) {
	if _, err := m.Source(); err != nil {
		return nil, err
	}
	if err := m.probeImage(ctx, out); err != nil {
		return nil, err
	}
	p := *m
	p.cells = []kconfig.Cell{c}
	p.cfg.OutDir = out
	p.cfg.Shard = nil
	return p.Run(ctx)
}

// probeImage keeps the first probe's guest image for the rest.
func (m *Matrix) probeImage(ctx context.Context, out string) error {
	if m.image != nil {
		return nil
	}
	base, err := m.guestImage(ctx, out)
	m.image = base
	return err
}

// probeFormat is part of every ProbeKey: bump it when what decides a
// result changes.
const probeFormat = "modmatrix-probe-1"

// self is the digest of this program: its host side judges what the
// guest observed, so another build of modmatrix judges afresh.
var self = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	sum, err := cacheentry.SumFile(exe)
	return sum.SHA256, err
})

// ProbeKey names the result of the matrix's scenarios on cell c whose
// kernel is kernelKey: the kernel, the cell's command line, and what else
// decides a result (probeIdentity).
func (m *Matrix) ProbeKey(ctx context.Context, c kconfig.Cell, kernelKey, out string) (string, error) {
	id, err := m.probeIdentity(ctx, out)
	if err != nil {
		return "", err
	}
	return cacheentry.Key([]byte(probeFormat), []byte(id), []byte(kernelKey), []byte(strings.Join(m.Cmdline(c), " "))), nil
}

// probeIdentity digests, once a matrix (nothing of it changes between
// probes), what decides a probe's result besides its kernel and command
// line: the scenario files and module folders, the fragments of the cells
// their loads are built_for, the guest image (built into out if no probe
// has yet), the settings a verdict depends on and this program itself.
func (m *Matrix) probeIdentity(ctx context.Context, out string) (string, error) {
	if m.probeID != "" {
		return m.probeID, nil
	}
	if err := m.probeImage(ctx, out); err != nil {
		return "", err
	}
	image, err := cacheentry.SumFile(m.image.Path)
	if err != nil {
		return "", err
	}
	judge, err := self()
	if err != nil {
		return "", err
	}
	cfg := m.cfg
	fields := [][]byte{[]byte(judge), []byte(image.SHA256),
		fmt.Appendf(nil, "%s %v %v %s %s %d", cfg.Accel.Resolve(), cfg.NoIcount, cfg.NoSnapshot, cfg.Settle, cfg.BootTimeout, cfg.Repeat)}
	folders := m.folders
	for _, sc := range m.scenarios {
		text, err := m.fileText(sc.File)
		if err != nil {
			return "", err
		}
		fields = append(fields, []byte(sc.Name), text)
		for _, name := range sc.OtherCells() {
			for _, f := range m.allCells[name].Frags(m.base) {
				if f != nil {
					fields = append(fields, f.Text())
				}
			}
		}
		if len(m.folders) == 0 {
			folders = append(folders, sc)
		}
	}
	for _, f := range folders {
		d, err := modbuild.Digest(f.Dir)
		if err != nil {
			return "", err
		}
		fields = append(fields, []byte(d))
	}
	m.probeID = cacheentry.Key(fields...)
	return m.probeID, nil
}
