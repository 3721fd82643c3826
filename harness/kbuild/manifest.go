package kbuild

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
)

// manifestName marks a complete entry; it is the last file written.
const manifestName = "manifest.json"

type manifest struct {
	Format    string        `json:"format"`
	Key       string        `json:"key"`
	SourceID  string        `json:"source_id"`
	SourceDir string        `json:"source_dir"`
	Version   string        `json:"version"`
	Release   string        `json:"release"`
	Arch      string        `json:"arch"`
	Compiler  string        `json:"compiler"`
	Cell      string        `json:"cell"`           // the cell that first asked for it
	From      string        `json:"from,omitempty"` // key of the tree it was built from
	Vmlinux   string        `json:"vmlinux"`        // relative to the entry
	BzImage   string        `json:"bzimage"`
	BuildTime time.Duration `json:"build_time_ns"`
	BuiltAt   time.Time     `json:"built_at"`
}

func writeManifest(dir string, m *manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestName), append(data, '\n'), 0o644)
}

func readManifest(dir string) (*manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, errNoEntry
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestName), err)
	}
	if m.Format != formatVersion {
		return nil, errNoEntry
	}
	return &m, nil
}

// loadEntry returns the kernel in a complete entry directory.
func loadEntry(dir string) (*Kernel, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	cfg, err := kconfig.ParseConfig(filepath.Join(dir, ".config"))
	if err != nil {
		return nil, err
	}
	return &Kernel{
		Key: m.Key, Dir: dir, Version: m.Version, Release: m.Release,
		Vmlinux: filepath.Join(dir, m.Vmlinux), BzImage: filepath.Join(dir, m.BzImage),
		Config: cfg, Cell: m.Cell, SourceID: m.SourceID,
		Cached: true, BuildTime: m.BuildTime,
	}, nil
}

// nearest returns the complete entry of the same source and compiler whose
// config differs from want in the fewest symbols, and that count. kbuild's
// fixdep then rebuilds only objects that use a changed symbol. The source's
// path must match too: O= trees embed it, so a tree built against another
// checkout of the same commit would rebuild everything anyway.
func (c *Cache) nearest(src *ksrc.Source, cc string, want kconfig.Config) (*Kernel, int) {
	dirs, _ := filepath.Glob(filepath.Join(c.Dir, "kernels", "*", manifestName))
	sort.Strings(dirs) // ties go to the smallest key, for repeatable builds
	var best *Kernel
	bestDiff := 0
	for _, p := range dirs {
		dir := filepath.Dir(p)
		if strings.HasPrefix(filepath.Base(dir), ".") {
			continue // a stage being built, not an entry
		}
		m, err := readManifest(dir)
		if err != nil || m.SourceID != src.ID || m.SourceDir != src.Dir || m.Compiler != cc || m.Arch != Arch {
			continue
		}
		k, err := loadEntry(dir)
		if err != nil {
			continue
		}
		if d := len(want.Diff(k.Config)); best == nil || d < bestDiff {
			best, bestDiff = k, d
		}
	}
	return best, bestDiff
}
