package kconfig

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Symbols returns the symbols (without CONFIG_) that the Kconfig* files
// of a kernel source tree define with `config SYM` or `menuconfig SYM`.
// It scans lines, skipping help text, rather than parsing Kconfig: enough
// to catch a misspelt symbol in a predicate, and fast on a full tree.
func Symbols(srcDir string) (map[string]bool, error) {
	syms := map[string]bool{}
	err := kconfigLines(srcDir, func(_ string, fields []string) {
		switch {
		case fields[0] != "config" && fields[0] != "menuconfig", len(fields) < 2:
		case len(fields) > 2 && !strings.HasPrefix(fields[2], "#"):
		case symbolRE.MatchString(fields[1]):
			syms[fields[1]] = true
		}
	})
	return syms, err
}

// kconfigLines calls fn with each line of the Kconfig* files of the tree
// at srcDir, as its fields, but for blank lines and help text; file says
// whose it is.
func kconfigLines(srcDir string, fn func(file string, fields []string)) error {
	return filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Type().IsRegular() && strings.HasPrefix(d.Name(), "Kconfig"):
			return scanKconfig(p, func(fields []string) { fn(p, fields) })
		}
		return nil
	})
}

func scanKconfig(file string, fn func(fields []string)) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	helpIndent := -1 // inside help text indented deeper than this
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		indent := indentation(line)
		if helpIndent >= 0 && indent > helpIndent {
			continue
		}
		helpIndent = -1
		if len(fields) == 1 && (fields[0] == "help" || fields[0] == "---help---") {
			helpIndent = indent
			continue
		}
		fn(fields)
	}
	return sc.Err()
}

// indentation counts leading blanks, a tab reaching the next multiple of 8
// as Kconfig's lexer counts them.
func indentation(line string) int {
	n := 0
	for _, c := range line {
		switch c {
		case ' ':
			n++
		case '\t':
			n = n/8*8 + 8
		default:
			return n
		}
	}
	return n
}

// Relations returns, for each symbol the Kconfig* files define, the
// symbols olddefconfig may set or clear it by: those its entry names in
// "depends on", "select" and "imply" lines, and in the conditions of the
// if blocks and the dependencies of the menus and choices around it. Like
// Symbols it scans lines rather than parsing Kconfig: enough to keep
// MODULE_FORCE_UNLOAD with MODULE_UNLOAD, which it depends on, and
// DECOMPRESS_LZ4 with RD_LZ4, which selects it.
func Relations(srcDir string) (map[string][]string, error) {
	rel := map[string][]string{}
	var (
		in     string     // the file the lines are of
		blocks [][]string // the conditions of the blocks open there
		entry  string     // the config entry the lines are of
		header bool       // in a menu's or choice's own lines
	)
	err := kconfigLines(srcDir, func(file string, fields []string) {
		if file != in {
			in, blocks, entry, header = file, nil, "", false
		}
		if strings.HasPrefix(fields[0], "#") {
			return
		}
		rest := strings.Join(fields[1:], " ")
		switch fields[0] {
		case "config", "menuconfig":
			entry, header = "", false
			if len(fields) >= 2 && symbolRE.MatchString(fields[1]) {
				entry = fields[1]
				for _, b := range blocks {
					rel[entry] = append(rel[entry], b...)
				}
			}
		case "if":
			blocks, entry, header = append(blocks, identRE.FindAllString(rest, -1)), "", false
		case "menu", "choice":
			blocks, entry, header = append(blocks, nil), "", true
		case "endif", "endmenu", "endchoice":
			if len(blocks) > 0 {
				blocks = blocks[:len(blocks)-1]
			}
			entry, header = "", false
		case "comment", "source", "mainmenu":
			entry, header = "", false
		case "depends":
			names := identRE.FindAllString(strings.TrimPrefix(rest, "on"), -1)
			switch {
			case entry != "":
				rel[entry] = append(rel[entry], names...)
			case header && len(blocks) > 0:
				blocks[len(blocks)-1] = append(blocks[len(blocks)-1], names...)
			}
		case "select", "imply":
			if entry != "" && len(fields) >= 2 && symbolRE.MatchString(fields[1]) {
				rel[entry] = append(rel[entry], fields[1])
			}
		}
	})
	return rel, err
}

// identRE is a symbol named in a Kconfig expression.
var identRE = regexp.MustCompile(`\b[A-Z][A-Z0-9_]*\b`)
