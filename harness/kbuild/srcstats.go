package kbuild

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"modmatrix.dev/modmatrix/harness/ksrc"
)

// statsName holds, in an entry built from an editable tree (a Location),
// the stat of every source file the kernel was built from.
const statsName = "source-stats.gz"

func writeStats(dir string, st ksrc.Stats) error {
	f, err := os.Create(filepath.Join(dir, statsName))
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if _, err := st.WriteTo(zw); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readStats(dir string) (ksrc.Stats, error) {
	f, err := os.Open(filepath.Join(dir, statsName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	st, err := ksrc.ParseStats(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return st, nil
}

// sourceDelta is how far the tree now is from the tree an entry was built
// from, as make will see it. ok is false when make would miss a change: a
// file that differs (size, mtime or ctime) but whose mtime is not newer than
// the end of that build, so it is not newer than the objects built from it
// (an edit under touch -r, a file restored with cp -p, a build that raced
// an edit). Building from such an entry would publish stale objects under
// the new content's key. File times come from the kernel's coarse clock,
// up to a tick behind BuiltAt: an edit within a tick of a build's end looks
// older and costs a full build, never a wrong one.
func sourceDelta(now, built ksrc.Stats, builtAt time.Time) (changed []string, ok bool) {
	changed = now.Changed(built)
	for _, p := range changed {
		if now[p].Mtime <= builtAt.UnixNano() {
			return changed, false
		}
	}
	return changed, true
}
