// Package cachedir looks at a modmatrix cache as a whole, for `modmatrix
// cache`: what entries it holds, which of them are damaged (each kind
// checked the way a hit checks it), and which to prune by when they were
// last used. Every entry is marked used when a run takes it
// (cacheentry.Entry.Get), so its modification time is its last use.
package cachedir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"modmatrix.dev/modmatrix/harness/builtin"
	"modmatrix.dev/modmatrix/harness/distro"
	"modmatrix.dev/modmatrix/harness/kbuild"
	"modmatrix.dev/modmatrix/harness/modbuild"
	"modmatrix.dev/modmatrix/harness/probecache"
	"modmatrix.dev/modmatrix/harness/snapshot"
	"modmatrix.dev/modmatrix/initramfs"
	"modmatrix.dev/modmatrix/internal/cacheentry"
)

// kind is one kind of entry: where its entries are, and how a hit checks
// one (nil: an entry is whole when it is there, as its writer's atomic
// rename makes it).
type kind struct {
	name  string
	glob  string
	check func(dir string) error
	// input: an entry runs start from (an unpacked kernel source), pruned
	// by age only, never to keep the latest few.
	input bool
}

var kinds = []kind{
	{name: "kernel", glob: "kernels/*", check: kbuild.CheckEntry},
	{name: "variant", glob: "variants/*"},
	{name: "config", glob: "configs/*", check: kbuild.CheckConfigEntry},
	{name: "modules", glob: "modules/*/*", check: modbuild.CheckEntry},
	{name: "snapshot", glob: "snapshots/*", check: snapshot.CheckEntry},
	{name: "probe", glob: "probes/*", check: probecache.CheckEntry},
	{name: "shell", glob: "shell/*", check: initramfs.CheckShellEntry},
	{name: "builtin", glob: "builtin/*", check: builtin.CheckEntry},
	// Unpacked packages; beside them, spec-* files name the entry an
	// exact --kernel resolved to (a hint: a missing entry is asked again).
	{name: "distro", glob: "distro/linux-image-*", check: distro.CheckEntry},
	{name: "pin", glob: "distro/spec-*"},
	{name: "source", glob: "src/*", input: true},
}

// Entry is one cache entry.
type Entry struct {
	Kind string
	Path string
	Size int64     // bytes on disk, summed over its files
	Used time.Time // last taken by a run (or made)
	// Problem says why the entry is damaged or incomplete ("" when whole;
	// only Verify looks).
	Problem string
}

// List returns the entries of the cache at dir, by kind then path. Locks,
// temporaries and stages being built are not entries.
func List(dir string) ([]Entry, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	var out []Entry
	for _, k := range kinds {
		paths, _ := filepath.Glob(filepath.Join(dir, k.glob))
		sort.Strings(paths)
		for _, p := range paths {
			name := filepath.Base(p)
			if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".lock") {
				continue
			}
			fi, err := os.Stat(p)
			if err != nil {
				continue
			}
			out = append(out, Entry{Kind: k.name, Path: p, Size: size(p), Used: fi.ModTime()})
		}
	}
	return out, nil
}

func size(path string) int64 {
	var n int64
	_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func kindOf(name string) kind {
	for _, k := range kinds {
		if k.name == name {
			return k
		}
	}
	return kind{}
}

// Verify lists the entries with each one checked as a run's hit would
// check it: Problem is set on those a run would rebuild.
func Verify(dir string) ([]Entry, error) {
	entries, err := List(dir)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		if check := kindOf(entries[i].Kind).check; check != nil {
			if err := check(entries[i].Path); err != nil {
				entries[i].Problem = err.Error()
			}
		}
	}
	return entries, nil
}

// Policy says what Prune removes: entries not used for OlderThan (0: no
// age limit), and of each kind all but the KeepLatest most recently used
// (0: no such limit; unpacked sources are pruned by age only).
type Policy struct {
	OlderThan  time.Duration
	KeepLatest int
	// DryRun only says what would go.
	DryRun bool
}

// Prune removes what p says from the cache at dir and returns it. An entry
// being built (its lock is held) stays; one a run merely uses is not
// locked and goes. Removing a kernel takes its module builds with it.
func Prune(dir string, p Policy, now time.Time) (removed []Entry, err error) {
	entries, err := List(dir)
	if err != nil {
		return nil, err
	}
	doomed := map[string]bool{}
	byKind := map[string][]Entry{}
	for _, e := range entries {
		if p.OlderThan > 0 && now.Sub(e.Used) > p.OlderThan {
			doomed[e.Path] = true
		}
		byKind[e.Kind] = append(byKind[e.Kind], e)
	}
	if p.KeepLatest > 0 {
		for name, es := range byKind {
			if kindOf(name).input {
				continue
			}
			sort.SliceStable(es, func(i, j int) bool { return es[i].Used.After(es[j].Used) })
			for _, e := range es[min(p.KeepLatest, len(es)):] {
				doomed[e.Path] = true
			}
		}
	}
	// A kernel's module builds go with it.
	for _, e := range entries {
		if e.Kind == "modules" && doomed[filepath.Join(dir, "kernels", filepath.Base(filepath.Dir(e.Path)))] {
			doomed[e.Path] = true
		}
	}
	kept := map[string]bool{}   // kernels in use: their module builds stay too
	for _, e := range entries { // kernels come before their module builds
		if !doomed[e.Path] || e.Kind == "modules" && kept[filepath.Base(filepath.Dir(e.Path))] {
			continue
		}
		if !p.DryRun {
			if err := remove(e.Path); err != nil {
				if err == errInUse {
					kept[filepath.Base(e.Path)] = true
					continue
				}
				return removed, err
			}
			if e.Kind == "modules" {
				_ = os.Remove(filepath.Dir(e.Path)) // the kernel's folder, once empty
			}
		}
		removed = append(removed, e)
	}
	return removed, nil
}

var errInUse = errors.New("in use")

// remove takes an entry out, under its lock where its kind has one (a run
// building or taking it holds that lock: errInUse).
func remove(path string) error {
	if _, err := os.Stat(path + ".lock"); err == nil {
		unlock, free := cacheentry.TryLock(path)
		if !free {
			return errInUse
		}
		defer unlock()
	}
	return cacheentry.Remove(path)
}
