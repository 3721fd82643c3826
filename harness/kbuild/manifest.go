package kbuild

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/kconfig"
	"modmatrix.dev/modmatrix/harness/ksrc"
	"modmatrix.dev/modmatrix/internal/cacheentry"
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
	// Files are the sizes and digests of what runs and module builds
	// read from the tree (sumFiles); a hit checks them. Entries made
	// before they were recorded have none and are taken as they are.
	Files cacheentry.Sums `json:"files,omitempty"`
}

// sumFiles are the files of a tree a later run relies on: the images it
// boots, the configuration it judges by, and what a module build reads
// first (Module.symvers, modpost, the generated config header).
var sumFiles = []string{vmlinuxPath, bzImagePath, ".config", "System.map",
	"Module.symvers", "scripts/mod/modpost", "include/generated/autoconf.h"}

// sumTree records those of sumFiles the tree has (a kernel without
// modules has no Module.symvers).
func sumTree(dir string) (cacheentry.Sums, error) {
	var have []string
	for _, f := range sumFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			have = append(have, f)
		}
	}
	return cacheentry.Sum(dir, have...)
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

// loadEntry returns the kernel in a complete entry directory, whose files
// are as its manifest records them (a *cacheentry.DamagedError otherwise).
func loadEntry(dir string) (*Kernel, error) {
	return loadChecked(dir, cacheentry.Sums.Check)
}

// loadChecked is loadEntry with the check to make of the files: nearest
// weighs every cached tree by sizes only, and checks digests of the one
// it picks.
func loadChecked(dir string, check func(cacheentry.Sums, string) error) (*Kernel, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := check(m.Files, dir); err != nil {
		return nil, &cacheentry.DamagedError{Dir: dir, Err: err}
	}
	cfg, err := kconfig.ParseConfig(filepath.Join(dir, ".config"))
	if err != nil {
		return nil, err
	}
	k := &Kernel{
		Key: m.Key, Dir: dir, Version: m.Version, Release: m.Release,
		Vmlinux: filepath.Join(dir, m.Vmlinux), BzImage: filepath.Join(dir, m.BzImage),
		Config: cfg, Cell: m.Cell, SourceID: m.SourceID,
		Cached: true, BuildTime: m.BuildTime,
	}
	if _, err := os.Stat(filepath.Join(dir, buildLogPath)); err == nil {
		k.BuildLog = filepath.Join(dir, buildLogPath)
	}
	return k, nil
}

// base is a complete entry to build from, and how far it is from the
// kernel wanted.
type base struct {
	*Kernel
	symbols int      // config symbols that differ
	objects int      // objects make will recompile for them (rebuildCost)
	files   []string // source files that differ (another content of the tree)
}

// closer orders candidate bases: fewest objects to recompile, then fewest
// differing symbols, then fewest differing files (an edited .c file is
// one object).
func (b *base) closer(than *base) bool {
	if than == nil {
		return true
	}
	if b.objects != than.objects {
		return b.objects < than.objects
	}
	if b.symbols != than.symbols {
		return b.symbols < than.symbols
	}
	return len(b.files) < len(than.files)
}

// nearest returns the complete entry of the same source tree and compiler
// to build from, or nil. kbuild then rebuilds only objects that use a
// changed config symbol (fixdep) or depend on a changed file (mtimes). The
// source's path must match: O= trees embed it, so a tree built against
// another checkout of the same commit would rebuild everything anyway.
//
// For a tree with a Location (now, its stats, is non-nil) an entry of
// another content of the tree qualifies when sourceDelta says make will
// see every change.
// The entry whose tree needs the fewest objects recompiled wins: symbols
// are not alike (in 6.12's tinyconfig tree 593 objects test MODULE_UNLOAD,
// 694 MODULES, 697 KUNIT, 27 DEBUG_KMEMLEAK and 1 MODULE_FORCE_UNLOAD), so
// counting them picked, for the unload cell, the unload-off tree over the
// force-unload one.
func (c *Cache) nearest(src *ksrc.Source, cc string, want kconfig.Config, now ksrc.Stats, building string) *base {
	dirs, _ := filepath.Glob(filepath.Join(c.Dir, "kernels", "*", manifestName))
	sort.Strings(dirs) // ties go to the smallest key, for repeatable builds
	var candidates []*base
	for _, p := range dirs {
		dir := filepath.Dir(p)
		if strings.HasPrefix(filepath.Base(dir), ".") {
			continue // a stage being built, not an entry
		}
		if filepath.Base(dir) == building {
			continue // the damaged entry being rebuilt
		}
		m, err := readManifest(dir)
		if err != nil || m.SourceDir != src.Dir || m.Compiler != cc || m.Arch != Arch {
			continue
		}
		var files []string
		if m.SourceID != src.ID {
			if now == nil {
				continue // a Debian source: one content per directory
			}
			built, err := readStats(dir)
			if err != nil {
				continue
			}
			var ok bool
			if files, ok = sourceDelta(now, built, m.BuiltAt); !ok {
				continue
			}
		}
		k, err := loadChecked(dir, cacheentry.Sums.CheckSizes)
		if err != nil {
			continue
		}
		diff := want.Diff(k.Config)
		b := &base{Kernel: k, symbols: len(diff), files: files}
		if users, err := c.users.of(dir); err == nil {
			b.objects = users.rebuildCost(diff)
		} else {
			b.objects = len(diff) * 1000 // unreadable: as if each symbol rebuilt everything
		}
		candidates = append(candidates, b)
	}
	// Stable: of equals, the smallest key.
	sort.SliceStable(candidates, func(i, j int) bool { return candidates[i].closer(candidates[j]) })
	for _, b := range candidates {
		if _, err := loadEntry(b.Dir); err == nil {
			return b // whole in content too
		}
	}
	return nil
}

// CheckEntry tells whether the kernel entry at dir is complete and whole
// (modmatrix cache verify).
func CheckEntry(dir string) error {
	_, err := loadEntry(dir)
	return err
}

// earlierBuildTime is how long builds like the one about to start took in
// this cache: the median of the entries of the same cell built the same
// way (from scratch, or from another tree), else of all entries built
// that way; 0 when there are none (a fresh cache).
func (c *Cache) earlierBuildTime(cell string, incremental bool) time.Duration {
	dirs, _ := filepath.Glob(filepath.Join(c.Dir, "kernels", "*", manifestName))
	var same, alike []time.Duration
	for _, p := range dirs {
		dir := filepath.Dir(p)
		if strings.HasPrefix(filepath.Base(dir), ".") {
			continue
		}
		m, err := readManifest(dir)
		if err != nil || m.BuildTime <= 0 || (m.From != "") != incremental {
			continue
		}
		alike = append(alike, m.BuildTime)
		if m.Cell == cell {
			same = append(same, m.BuildTime)
		}
	}
	if len(same) == 0 {
		same = alike
	}
	if len(same) == 0 {
		return 0
	}
	slices.Sort(same)
	return same[len(same)/2]
}
