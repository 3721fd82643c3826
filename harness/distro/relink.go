package distro

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var includeRE = regexp.MustCompile(`^include\s+(\S+)/Makefile\s*$`)

// includedTree reads a headers directory's Makefile when it is Debian's
// one line `include /usr/src/linux-headers-…-common/Makefile`.
func includedTree(makefile string) (string, bool) {
	f, err := os.Open(makefile)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := includeRE.FindStringSubmatch(sc.Text()); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// relink rewrites every symlink under root whose target lies inside root
// (an absolute /usr/src/… meaning root/usr/src/…, or a relative
// ../../lib/linux-kbuild-…/scripts) as an absolute link to the same place
// under final, where root will be renamed to. The absolute ones would
// lead to the host's /usr; the relative ones work in place and in a
// LOCALVERSION copy (kbuild anchors those itself) but read, like the
// others, as the entry's own paths.
func relink(root, final string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		t, err := os.Readlink(p)
		if err != nil {
			return err
		}
		inside := filepath.Join(filepath.Dir(p), t)
		if filepath.IsAbs(t) {
			inside = filepath.Join(root, t)
		}
		rel, err := filepath.Rel(root, inside)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil // outside the packages: leave it
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		return os.Symlink(filepath.Join(final, rel), p)
	})
}

var absIncludeRE = regexp.MustCompile(`(?m)^include\s+/`)

// rewriteInclude points Debian's `include /usr/src/…/Makefile` at final.
func rewriteInclude(makefile, final string) error {
	data, err := os.ReadFile(makefile)
	if err != nil {
		return err
	}
	out := absIncludeRE.ReplaceAll(data, []byte("include "+final+"/"))
	return os.WriteFile(makefile, out, 0o644)
}
