package ksrc

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FileStat is what make can see of a file, plus its ctime: make decides
// what to rebuild from mtimes alone, and the ctime (which no tool can set
// back) catches a content change that kept the mtime (touch -r, cp -p).
type FileStat struct {
	Size  int64
	Mtime int64 // UnixNano
	Ctime int64 // UnixNano
	Mode  fs.FileMode
}

// Stats maps every file of a tree (relative path; .git excluded) to its stat.
type Stats map[string]FileStat

// ReadStats stats every file under dir. On a 6.12 tree (86k files) this
// takes 0.7-1.3 s with a warm page cache on a loaded 2-core machine.
func ReadStats(dir string) (Stats, error) {
	st := Stats{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" && p != dir {
			// A checkout's repository (a directory, or a file naming it
			// for worktrees) is not part of the tree's contents.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Name() == ".gitignore" && p != filepath.Join(dir, ".gitignore") && isBuildDir(p) {
			// A `make O=` folder kept inside the tree: its contents are
			// build products. Drop what was read of it; skip the rest.
			prefix := filepath.ToSlash(filepath.Dir(rel)) + "/"
			for q := range st {
				if strings.HasPrefix(q, prefix) {
					delete(st, q)
				}
			}
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fst := FileStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Mode: fi.Mode().Type()}
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			fst.Ctime = time.Unix(sys.Ctim.Unix()).UnixNano()
		}
		st[filepath.ToSlash(rel)] = fst
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// buildDirMark starts the .gitignore kbuild writes into every O= folder.
const buildDirMark = "# this is build directory"

func isBuildDir(gitignore string) bool {
	f, err := os.Open(gitignore)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(buildDirMark))
	n, _ := io.ReadFull(f, buf)
	return string(buf[:n]) == buildDirMark
}

// Paths returns the paths in sorted order.
func (s Stats) Paths() []string {
	paths := make([]string, 0, len(s))
	for p := range s {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// Changed returns, sorted, the paths that are new in s or whose stat differs
// from old. Files only in old (deleted) are not listed: make either no
// longer needs them or fails loudly.
func (s Stats) Changed(old Stats) []string {
	var changed []string
	for p, st := range s {
		if o, ok := old[p]; !ok || o != st {
			changed = append(changed, p)
		}
	}
	sort.Strings(changed)
	return changed
}

// Equal reports whether s and o list the same files with the same stats.
func (s Stats) Equal(o Stats) bool {
	return len(s) == len(o) && len(s.Changed(o)) == 0
}

// Differ returns, sorted, the paths that are new in s, changed, or only in
// old (deleted): every path on which s and old disagree.
func (s Stats) Differ(old Stats) []string {
	differ := s.Changed(old)
	for p := range old {
		if _, ok := s[p]; !ok {
			differ = append(differ, p)
		}
	}
	sort.Strings(differ)
	return differ
}

// WriteTo writes one line per file: size, mtime, ctime, mode and path,
// tab-separated, sorted by path.
func (s Stats) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	for _, p := range s.Paths() {
		st := s[p]
		k, err := fmt.Fprintf(bw, "%d\t%d\t%d\t%o\t%s\n", st.Size, st.Mtime, st.Ctime, uint32(st.Mode), p)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// ParseStats reads what WriteTo wrote.
func ParseStats(r io.Reader) (Stats, error) {
	st := Stats{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		f := strings.SplitN(sc.Text(), "\t", 5)
		if len(f) != 5 {
			return nil, fmt.Errorf("line %d: want 5 tab-separated fields, got %d", line, len(f))
		}
		var nums [4]int64
		for i := range 4 {
			base := 10
			if i == 3 {
				base = 8
			}
			v, err := strconv.ParseInt(f[i], base, 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			nums[i] = v
		}
		st[f[4]] = FileStat{Size: nums[0], Mtime: nums[1], Ctime: nums[2], Mode: fs.FileMode(nums[3])}
	}
	return st, sc.Err()
}
