// Package kconfig reads Kconfig fragments and resolved .config files, resolves
// fragments against a kernel tree the way the kernel's own merge_config.sh
// does, and checks that every requested symbol survived olddefconfig.
package kconfig

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Fragment is a Kconfig fragment: the symbols a cell (or the base) asks for.
type Fragment struct {
	Path string
	// Description is the text of a "# description: ..." comment, if any.
	Description string
	// Cmdline are the kernel command-line arguments of "# cmdline: ..."
	// comments, in order: boot parameters the cell's VMs get, which do not
	// change the kernel built (cells differing only in them share it).
	Cmdline []string
	Entries []Entry
	// Includes are the fragments of "# include: FILE" comments (FILE
	// beside this one), merged before it in order: a cell that is another
	// plus boot parameters, or plus a few symbols, says so in one line and
	// shares that cell's kernel when its own lines change nothing.
	Includes []*Fragment
	includes []includeLine
	// Optional are the symbols of "# optional: CONFIG_X ..." comments:
	// entries a kernel goes without when its resolved .config does not
	// have the symbol at all (a switch that exists from some release on),
	// where any other entry missing from it is an error.
	Optional []string
}

type includeLine struct {
	name string
	line int
}

// Entry is one requested symbol.
type Entry struct {
	Symbol string // without the CONFIG_ prefix
	// Value is as written in the fragment ("y", "m", "0x10", `"quoted"`),
	// or "n" for "# CONFIG_X is not set".
	Value string
	Line  int
}

var (
	setRe    = regexp.MustCompile(`^CONFIG_([A-Za-z0-9_]+)=(.*)$`)
	notSetRe = regexp.MustCompile(`^# CONFIG_([A-Za-z0-9_]+) is not set$`)
	descRe   = regexp.MustCompile(`^#\s*description:\s*(.*)$`)
	cmdRe    = regexp.MustCompile(`^#\s*cmdline:\s*(.*)$`)
	inclRe   = regexp.MustCompile(`^#\s*include:\s*(.*)$`)
	optRe    = regexp.MustCompile(`^#\s*optional:\s*(.*)$`)
	// bareValueRe is what Kconfig takes unquoted: a bool or tristate, an
	// int, or a hex (with or without 0x).
	bareValueRe = regexp.MustCompile(`^(y|m|n|-?[0-9]+|(0[xX])?[0-9a-fA-F]+)$`)
	// argRe is one boot parameter: name or name=value, no quoting.
	argRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+(=[^"'\s]*)?$`)
)

// ParseFragment reads a fragment file and the fragments it includes.
func ParseFragment(path string) (*Fragment, error) {
	return parseFragment(path, nil)
}

func parseFragment(path string, within []string) (*Fragment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFragmentData(path, data)
	if err != nil {
		return nil, err
	}
	within = append(within, filepath.Clean(path))
	for _, in := range f.includes {
		p := filepath.Join(filepath.Dir(path), in.name)
		if slices.Contains(within, filepath.Clean(p)) {
			return nil, fmt.Errorf("%s:%d: include %s: it includes this fragment (%s)", path, in.line, in.name, strings.Join(within, " → "))
		}
		inc, err := parseFragment(p, within)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: include %s: %w", path, in.line, in.name, err)
		}
		f.Includes = append(f.Includes, inc)
	}
	return f, nil
}

// Flatten is the fragment with what it includes: those first, in order, each
// after its own includes, as merge_config.sh would be given them.
func (f *Fragment) Flatten() []*Fragment {
	var out []*Fragment
	for _, in := range f.Includes {
		out = append(out, in.Flatten()...)
	}
	return append(out, f)
}

// ParseFragmentData parses fragment text; path is only used in errors.
func ParseFragmentData(path string, data []byte) (*Fragment, error) {
	f := &Fragment{Path: path}
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		var e Entry
		switch {
		case line == "":
			continue
		case notSetRe.MatchString(line):
			e = Entry{Symbol: notSetRe.FindStringSubmatch(line)[1], Value: "n", Line: n}
		case inclRe.MatchString(line):
			name := strings.TrimSpace(inclRe.FindStringSubmatch(line)[1])
			if name == "" || strings.ContainsAny(name, "/ \t") {
				return nil, fmt.Errorf("%s:%d: \"# include:\" wants one fragment file beside this one, got %q", path, n, name)
			}
			f.includes = append(f.includes, includeLine{name, n})
			continue
		case optRe.MatchString(line):
			for _, sym := range strings.Fields(optRe.FindStringSubmatch(line)[1]) {
				f.Optional = append(f.Optional, strings.TrimPrefix(sym, "CONFIG_"))
			}
			continue
		case cmdRe.MatchString(line):
			args := strings.Fields(cmdRe.FindStringSubmatch(line)[1])
			if len(args) == 0 {
				return nil, fmt.Errorf("%s:%d: empty \"# cmdline:\" comment", path, n)
			}
			for _, a := range args {
				if !argRe.MatchString(a) {
					return nil, fmt.Errorf("%s:%d: cmdline argument %q: want NAME or NAME=VALUE, unquoted", path, n, a)
				}
			}
			f.Cmdline = append(f.Cmdline, args...)
			continue
		case strings.HasPrefix(line, "#"):
			if m := descRe.FindStringSubmatch(line); m != nil && f.Description == "" {
				f.Description = m[1]
			}
			continue
		case setRe.MatchString(line):
			m := setRe.FindStringSubmatch(line)
			if err := checkValue(m[2]); err != nil {
				return nil, fmt.Errorf("%s:%d: CONFIG_%s: %v", path, n, m[1], err)
			}
			e = Entry{Symbol: m[1], Value: m[2], Line: n}
		default:
			return nil, fmt.Errorf("%s:%d: expected CONFIG_X=value, \"# CONFIG_X is not set\" or a # comment, got %q", path, n, line)
		}
		// merge_config.sh would silently keep both lines; the second
		// one is almost always a copy-paste mistake.
		if first, ok := seen[e.Symbol]; ok {
			return nil, fmt.Errorf("%s:%d: CONFIG_%s already set at line %d", path, n, e.Symbol, first)
		}
		seen[e.Symbol] = n
		f.Entries = append(f.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, sym := range f.Optional {
		if _, ok := seen[sym]; !ok {
			return nil, fmt.Errorf("%s: \"# optional:\" names CONFIG_%s, which the fragment does not set", path, sym)
		}
	}
	return f, nil
}

func checkValue(v string) error {
	switch {
	case v == "":
		return fmt.Errorf("empty value (write \"# CONFIG_X is not set\" or CONFIG_X=\"\")")
	case strings.HasPrefix(v, `"`):
		if len(v) < 2 || !strings.HasSuffix(v, `"`) || strings.HasSuffix(v, `\"`) && !strings.HasSuffix(v, `\\"`) {
			return fmt.Errorf("unterminated string %s", v)
		}
	case strings.ContainsAny(v, " \t\""):
		return fmt.Errorf("value %q must be quoted", v)
	case !bareValueRe.MatchString(v):
		// merge_config.sh would pass it on and olddefconfig drop it.
		return fmt.Errorf("value %s is none of y, m, n, a number or a quoted string", v)
	}
	return nil
}

// Text renders the fragment's entries as Kconfig lines, without comments.
// It is what gets merged and what cache keys hash, so editing a comment
// does not rebuild a kernel.
func (f *Fragment) Text() []byte {
	var b bytes.Buffer
	for _, e := range f.Entries {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// String renders the entry as a .config line.
func (e Entry) String() string {
	if e.Value == "n" {
		return "# CONFIG_" + e.Symbol + " is not set"
	}
	return "CONFIG_" + e.Symbol + "=" + e.Value
}

// unquote turns a Kconfig string value into its contents; other values are
// returned as they are.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
