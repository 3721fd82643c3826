// Package stale clears what crashed runs left in a cache folder: the
// temporary folders an entry is built in before it is renamed into place.
package stale

import (
	"os"
	"path/filepath"
	"time"
)

// MaxAge is older than any real build: a temporary folder this old belongs
// to a run that died; a younger one may belong to a concurrent run.
const MaxAge = time.Hour

// Sweep removes the entries of dir matching pattern (".tmp-*") that are
// older than MaxAge.
func Sweep(dir, pattern string) {
	matches, _ := filepath.Glob(filepath.Join(dir, pattern))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > MaxAge {
			os.RemoveAll(m)
		}
	}
}

// RemoveAll removes every entry of dir matching pattern, whatever its age:
// for callers that hold the lock guarding those names, so that none of
// them can belong to a live run.
func RemoveAll(dir, pattern string) {
	matches, _ := filepath.Glob(filepath.Join(dir, pattern))
	for _, m := range matches {
		os.RemoveAll(m)
	}
}
