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
	err := filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Type().IsRegular() && strings.HasPrefix(d.Name(), "Kconfig"):
			return scanKconfig(p, syms)
		}
		return nil
	})
	return syms, err
}

func scanKconfig(file string, syms map[string]bool) error {
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
		switch {
		case len(fields) == 1 && (fields[0] == "help" || fields[0] == "---help---"):
			helpIndent = indent
		case fields[0] != "config" && fields[0] != "menuconfig", len(fields) < 2:
		case len(fields) > 2 && !strings.HasPrefix(fields[2], "#"):
		case symbolRE.MatchString(fields[1]):
			syms[fields[1]] = true
		}
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
	err := filepath.WalkDir(srcDir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Type().IsRegular() && strings.HasPrefix(d.Name(), "Kconfig"):
			return scanRelations(p, rel)
		}
		return nil
	})
	return rel, err
}

// identRE is a symbol named in a Kconfig expression.
var identRE = regexp.MustCompile(`\b[A-Z][A-Z0-9_]*\b`)

func scanRelations(file string, rel map[string][]string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var blocks [][]string // the conditions of the blocks open here
	entry := ""           // the config entry whose lines these are
	header := false       // in a menu's or choice's own lines
	helpIndent := -1
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		indent := indentation(line)
		if helpIndent >= 0 && indent > helpIndent {
			continue
		}
		helpIndent = -1
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), fields[0]))
		switch fields[0] {
		case "help", "---help---":
			helpIndent = indent
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
	}
	return sc.Err()
}
