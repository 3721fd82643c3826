package cacheentry

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// tempPrefix begins the name of every temporary: .tmp-NAME-RANDOM beside
// the entry NAME.
const tempPrefix = ".tmp-"

var tempRE = regexp.MustCompile(`^\.tmp-(.+)-[0-9]+$`)

// maxAge is older than any real build: an unlocked entry's temporary this
// old belongs to a run that died; a younger one may be a live run's.
const maxAge = time.Hour

// sweep removes the temporaries in dir that dead builds left: those of
// held, the entry whose lock the caller holds; those of other locked
// entries whose lock nobody holds (a live build holds its entry's lock
// for as long as its temporary exists); and those of unlocked entries
// (and older runs' of any name) once they are older than maxAge.
func sweep(dir, held string) {
	temps, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, t := range temps {
		if dead(t, held) {
			os.RemoveAll(t)
		}
	}
}

func dead(temp, held string) bool {
	if m := tempRE.FindStringSubmatch(filepath.Base(temp)); m != nil {
		if m[1] == held {
			return true
		}
		lock := filepath.Join(filepath.Dir(temp), m[1]+".lock")
		if _, err := os.Stat(lock); err == nil {
			return unheld(lock)
		}
	}
	fi, err := os.Lstat(temp)
	return err == nil && time.Since(fi.ModTime()) > maxAge
}

// unheld reports whether nobody holds the flock on lock, taking it for a
// moment to find out.
func unheld(lock string) bool {
	unlock, ok := TryLock(strings.TrimSuffix(lock, ".lock"))
	if ok {
		unlock()
	}
	return ok
}
