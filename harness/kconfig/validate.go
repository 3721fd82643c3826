package kconfig

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Problem is one requested symbol that olddefconfig dropped or changed.
type Problem struct {
	Path      string // fragment that made the effective request
	Line      int
	Symbol    string
	Requested string // as written in the fragment
	Resolved  string // Config.Value of the resolved config
	Absent    bool   // the symbol is not in the resolved .config at all
}

func (p Problem) String() string {
	note := ""
	switch {
	case p.Absent:
		note = " (absent: unknown symbol or unmet dependencies)"
	case p.Resolved == "n":
		note = " (not set)"
	}
	return fmt.Sprintf("%s:%d: %s requested, resolved to %q%s",
		p.Path, p.Line, Entry{Symbol: p.Symbol, Value: p.Requested}, p.Resolved, note)
}

// ValidationError lists every requested symbol that did not survive.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d requested kconfig symbol(s) not in the resolved config:\n  %s",
		len(e.Problems), strings.Join(lines, "\n  "))
}

// Validate checks that the resolved config has every fragment entry's value.
// For a symbol set in several fragments only the last one counts, as with
// merge_config.sh. The error is a *ValidationError.
func Validate(resolved Config, frags ...*Fragment) error {
	type req struct {
		frag     int
		path     string
		e        Entry
		optional bool
	}
	var order []string
	eff := map[string]req{}
	for i, f := range frags {
		for _, e := range f.Entries {
			if _, ok := eff[e.Symbol]; !ok {
				order = append(order, e.Symbol)
			}
			eff[e.Symbol] = req{i, f.Path, e, slices.Contains(f.Optional, e.Symbol)}
		}
	}
	// Report in fragment order, then line order, as a reader scans them.
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := eff[order[a]], eff[order[b]]
		return ra.frag < rb.frag || ra.frag == rb.frag && ra.e.Line < rb.e.Line
	})
	var probs []Problem
	for _, sym := range order {
		r := eff[sym]
		got := resolved.Value(sym)
		if unquote(r.e.Value) == got {
			continue
		}
		_, present := resolved[sym]
		if !present && r.optional {
			continue // this kernel's Kconfig has no such symbol
		}
		probs = append(probs, Problem{
			Path: r.path, Line: r.e.Line, Symbol: sym,
			Requested: r.e.Value, Resolved: got, Absent: !present,
		})
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}
