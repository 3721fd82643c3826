package agent

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// System is where the agent reads the kernel's state. Root is "" in the
// guest; tests point it at a folder of recorded files.
type System struct {
	Root string
}

func (s System) path(p string) string { return filepath.Join(s.Root, p) }

// Taint reads /proc/sys/kernel/tainted.
func (s System) Taint() uint64 {
	b, err := os.ReadFile(s.path("/proc/sys/kernel/tainted"))
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v
}

// ProcModules returns the module's /proc/modules line ("" when not listed)
// and whether /proc/modules exists at all (it does not with MODULES=n).
func (s System) ProcModules(name string) (line string, exists bool) {
	f, err := os.Open(s.path("/proc/modules"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if first, _, _ := strings.Cut(sc.Text(), " "); first == name {
			return sc.Text(), true
		}
	}
	return "", true
}

// LoadedModules names every module /proc/modules lists.
func (s System) LoadedModules() []string {
	b, err := os.ReadFile(s.path("/proc/modules"))
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if name, _, _ := strings.Cut(line, " "); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// SysModule reports whether /sys/module/NAME exists and reads the given
// attributes; a missing attribute gets no key (refcnt has none without
// MODULE_UNLOAD). An attribute may name a subpath such as holders/dep_b.
func (s System) SysModule(name string, attrs []string) (bool, map[string]string) {
	dir := s.path(filepath.Join("/sys/module", name))
	if _, err := os.Stat(dir); err != nil {
		return false, nil
	}
	values := map[string]string{}
	for _, a := range attrs {
		p := filepath.Join(dir, a)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			values[a] = target
		case fi.IsDir():
			entries, _ := os.ReadDir(p)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			values[a] = strings.Join(names, " ")
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			values[a] = strings.TrimRight(string(b), "\n")
		}
	}
	return true, values
}

// Kallsyms reports, for each symbol, whether /proc/kallsyms lists it.
func (s System) Kallsyms(symbols []string) map[string]bool {
	if len(symbols) == 0 {
		return nil
	}
	found := make(map[string]bool, len(symbols))
	for _, sym := range symbols {
		found[sym] = false
	}
	s.lines("/proc/kallsyms", func(line string) {
		// "ffffffffc0000000 t bye\t[hello]"
		if fields := strings.Fields(line); len(fields) >= 3 {
			if _, want := found[fields[2]]; want {
				found[fields[2]] = true
			}
		}
	})
	return found
}

// Files reports, for each path, whether it exists.
func (s System) Files(paths []string) map[string]bool {
	if len(paths) == 0 {
		return nil
	}
	out := make(map[string]bool, len(paths))
	for _, p := range paths {
		_, err := os.Lstat(s.path(p))
		out[p] = !errors.Is(err, fs.ErrNotExist) && err == nil
	}
	return out
}
