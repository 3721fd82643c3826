package kconfig

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
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
