package matrix

import (
	"context"
	"fmt"
	"path/filepath"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/harness/verdict"
)

// Explain resolves scenario sc on src × cell, as a run would judge it there:
// the cell's resolved .config (from the cache, or resolved in seconds; no
// kernel is built) decides which expect blocks apply.
func (m *Matrix) Explain(ctx context.Context, src *ksrc.Source, cell, sc string) (*verdict.Expected, error) {
	c, ok := m.allCells[cell]
	if !ok {
		return nil, fmt.Errorf("unknown cell %q (no %s)", cell, filepath.Join(m.cfg.KconfigDir, cell+".config"))
	}
	for _, s := range m.scenarios {
		if s.Name != sc {
			continue
		}
		config, err := m.cache.Config(ctx, src, c.Name, c.Frags(m.base))
		if err != nil {
			return nil, err
		}
		return verdict.Resolve(s, kconfig.Lookup(config.Value, src.Version, c.Cmdline(m.base))), nil
	}
	var names []string
	for _, s := range m.scenarios {
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("unknown scenario %q (known: %v)", sc, names)
}
