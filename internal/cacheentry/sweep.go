package cacheentry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempPrefix begins the name of every temporary: .tmp-NAME-pPID-RANDOM
// beside the entry NAME, PID being the process that made it.
const tempPrefix = ".tmp-"

// StagePrefix begins the name of a build stage (Entry.Stage), and of its
// lock .stage-ID.lock, for SweepDead to find.
const StagePrefix = ".stage-"

var (
	tempRE = regexp.MustCompile(`^\.tmp-(.+?)(?:-p([0-9]+))?-[0-9]+$`)
	// ownerRE is the PID in an Owned name.
	ownerRE = regexp.MustCompile(`-p([0-9]+)-[0-9]+$`)
)

// maxAge is older than any real build: an unlocked entry's temporary this
// old whose name carries no owner belongs to a run that died.
const maxAge = time.Hour

// Owned is a pattern for os.MkdirTemp or os.CreateTemp whose names carry
// this process's PID after prefix: a later run tells a dead run's
// temporaries from a live one's by it (SweepTemp).
func Owned(prefix string) string { return fmt.Sprintf("%s-p%d-", prefix, os.Getpid()) }

// sweep removes the temporaries in dir that dead builds left: those of
// held, the entry whose lock the caller holds; those whose owner has
// exited; those of other locked entries whose lock nobody holds (a live
// build holds its entry's lock for as long as its temporary exists); and
// those of older runs with no owner in their name once older than maxAge.
func sweep(dir, held string) []string {
	var removed []string
	temps, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, t := range temps {
		if dead(t, held) && os.RemoveAll(t) == nil {
			removed = append(removed, t)
		}
	}
	return removed
}

func dead(temp, held string) bool {
	m := tempRE.FindStringSubmatch(filepath.Base(temp))
	if m != nil && m[1] == held {
		return true
	}
	if m != nil && m[2] != "" {
		pid, _ := strconv.Atoi(m[2])
		return !alive(pid)
	}
	if m != nil {
		lock := filepath.Join(filepath.Dir(temp), m[1]+".lock")
		if _, err := os.Stat(lock); err == nil {
			return unheld(lock)
		}
	}
	fi, err := os.Lstat(temp)
	return err == nil && time.Since(fi.ModTime()) > maxAge
}

// alive tells whether a process pid exists (as another user's, too).
func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
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

// SweepDead removes what runs that died (SIGKILL, a power cut) left in
// the cache at dir: temporaries of entries (.tmp-*) and build stages
// (.stage-*) nobody is building in, in every folder of the cache's
// entries (two levels: modules/KERNEL/ holds entries too). Locks are
// flocks, released by the kernel when their holder dies, so a lock file
// left behind is never held by a dead run and is kept. It returns what it
// removed.
func SweepDead(dir string) []string {
	dirs := []string{dir}
	for _, pat := range []string{"*", "*/*"} {
		ds, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, d := range ds {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() && !strings.HasPrefix(filepath.Base(d), ".") {
				dirs = append(dirs, d)
			}
		}
	}
	var removed []string
	for _, d := range dirs {
		removed = append(removed, sweep(d, "")...)
		stages, _ := filepath.Glob(filepath.Join(d, StagePrefix+"*"))
		for _, s := range stages {
			if strings.HasSuffix(s, ".lock") {
				continue
			}
			if unlock, free := TryLock(s); free {
				if os.RemoveAll(s) == nil {
					removed = append(removed, s)
				}
				unlock()
			}
		}
	}
	return removed
}

// SweepTemp removes the folders matching dir/prefix-pPID-* (made with
// Owned(prefix)) whose owner has exited, and returns them.
func SweepTemp(dir, prefix string) []string {
	var removed []string
	paths, _ := filepath.Glob(filepath.Join(dir, prefix+"-p*-*"))
	for _, p := range paths {
		m := ownerRE.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); !alive(pid) && os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}
