package kconfig

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// BaseName is the fragment every cell is merged on top of.
const BaseName = "base.config"

// Cell is one kernel configuration of the matrix: the base plus one fragment
// (plus the user's fragments, merged last).
type Cell struct {
	Name        string // the fragment's file name without .config
	Description string
	Fragment    *Fragment
	Extra       []*Fragment
}

// LoadCells reads dir/base.config and every other dir/*.config as a cell,
// sorted by name. Adding a cell is adding a fragment file.
func LoadCells(dir string) (base *Fragment, cells []Cell, err error) {
	base, err = ParseFragment(filepath.Join(dir, BaseName))
	if err != nil {
		return nil, nil, fmt.Errorf("base fragment: %w", err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.config"))
	if err != nil {
		return nil, nil, err
	}
	for _, p := range paths {
		if filepath.Base(p) == BaseName {
			continue
		}
		f, err := ParseFragment(p)
		if err != nil {
			return nil, nil, err
		}
		if f.Description == "" {
			return nil, nil, fmt.Errorf("%s:1: cell fragment needs a \"# description: ...\" comment", p)
		}
		cells = append(cells, Cell{
			Name:        strings.TrimSuffix(filepath.Base(p), ".config"),
			Description: f.Description,
			Fragment:    f,
		})
	}
	// By name, not path: "unload-off.config" sorts before "unload.config".
	sort.Slice(cells, func(i, j int) bool { return cells[i].Name < cells[j].Name })
	if len(cells) == 0 {
		return nil, nil, fmt.Errorf("%s: no cell fragments (*.config besides %s)", dir, BaseName)
	}
	return base, cells, nil
}

// Cells is LoadCells restricted to names, in the order given; no names means
// all cells.
func Cells(dir string, names []string) (base *Fragment, cells []Cell, err error) {
	base, all, err := LoadCells(dir)
	if err != nil {
		return nil, nil, err
	}
	cells, err = Select(all, names, dir)
	return base, cells, err
}

// Select picks cells by name, in the order given, once each; no names
// means all. dir is where a missing cell's fragment was looked for.
func Select(all []Cell, names []string, dir string) ([]Cell, error) {
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]Cell{}
	known := make([]string, len(all))
	for i, c := range all {
		byName[c.Name] = c
		known[i] = c.Name
	}
	var cells []Cell
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		c, ok := byName[n]
		if !ok && n+".config" == BaseName {
			return nil, fmt.Errorf("--cells %s: %s is the base fragment every cell is merged over, not a cell; known cells in %s: %s",
				n, filepath.Join(dir, BaseName), dir, strings.Join(known, ", "))
		}
		if !ok {
			return nil, fmt.Errorf("unknown cell %q (no %s); known cells in %s: %s",
				n, filepath.Join(dir, n+".config"), dir, strings.Join(known, ", "))
		}
		cells = append(cells, c)
	}
	return cells, nil
}

// Frags returns the fragments to merge for the cell, base first.
func (c Cell) Frags(base *Fragment) []*Fragment {
	out := []*Fragment{base}
	for _, f := range append([]*Fragment{c.Fragment}, c.Extra...) {
		if f == nil {
			out = append(out, f)
			continue
		}
		out = append(out, f.Flatten()...)
	}
	return out
}

// Cmdline is the kernel command line the cell's VMs boot with, on top of
// the harness's own: its fragments' "# cmdline:" arguments, base first.
func (c Cell) Cmdline(base *Fragment) []string {
	var args []string
	for _, f := range c.Frags(base) {
		if f != nil {
			args = append(args, f.Cmdline...)
		}
	}
	return args
}

// ParseCellSpec reads a cell defined on the command line,
// NAME=FRAGMENT[,FRAGMENT...]: the base plus those fragments, in order.
func ParseCellSpec(spec string) (Cell, error) {
	name, list, ok := strings.Cut(spec, "=")
	if !ok || name == "" || list == "" {
		return Cell{}, fmt.Errorf("cell %q: want NAME=FRAGMENT[,FRAGMENT...]", spec)
	}
	if strings.ContainsAny(name, "/ \t") {
		return Cell{}, fmt.Errorf("cell %q: the name must not contain '/' or spaces", spec)
	}
	paths := strings.Split(list, ",")
	var frags []*Fragment
	for _, p := range paths {
		f, err := ParseFragment(p)
		if err != nil {
			return Cell{}, fmt.Errorf("cell %s: %w", name, err)
		}
		frags = append(frags, f)
	}
	desc := frags[0].Description
	if desc == "" {
		desc = "defined on the command line: " + strings.Join(paths, ", ")
	}
	return Cell{Name: name, Description: desc, Fragment: frags[0], Extra: frags[1:]}, nil
}

// UnknownSymbols names, FILE:LINE, every entry of the fragments whose
// symbol known does not have: a typo, or a symbol from another kernel
// version (unless the fragment marks it optional). It runs before any make, so the mistake costs nothing.
func UnknownSymbols(known func(sym string) bool, frags ...*Fragment) error {
	var bad []string
	for _, f := range frags {
		for _, e := range f.Entries {
			if !known(e.Symbol) && !slices.Contains(f.Optional, e.Symbol) {
				bad = append(bad, fmt.Sprintf("%s:%d: CONFIG_%s: no such Kconfig symbol", f.Path, e.Line, e.Symbol))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d unknown kconfig symbol(s):\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	return nil
}
