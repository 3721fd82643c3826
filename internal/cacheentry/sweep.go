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
// old belongs to a run that died, whoever its owner.
const maxAge = time.Hour

// ownerGrace is how old a temporary of an unlocked entry (a module build,
// a snapshot being saved: seconds of work) must be before an owner PID
// this process cannot see makes it dead. A PID is only meaningful in its
// own PID namespace: a live run in another container sharing the cache
// looks dead from here, but its temporaries are young.
const ownerGrace = 10 * time.Minute

// Owned is a pattern for os.MkdirTemp or os.CreateTemp whose names carry
// this process's PID after prefix: a later run tells a dead run's
// temporaries from a live one's by it (SweepTemp).
func Owned(prefix string) string { return fmt.Sprintf("%s-p%d-", prefix, os.Getpid()) }

// sweep removes the temporaries in dir that dead builds left: those of
// held, the entry whose lock the caller holds; those of other locked
// entries whose lock nobody holds (a live build holds its entry's lock for
// as long as its temporary exists: the flock decides, whatever PID the
// name carries); those of unlocked entries whose owner has exited, once
// older than ownerGrace; and any older than maxAge.
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
	if m != nil {
		lock := filepath.Join(filepath.Dir(temp), m[1]+".lock")
		if _, err := os.Stat(lock); err == nil {
			return unheld(lock)
		}
	}
	fi, err := os.Lstat(temp)
	if err != nil {
		return false
	}
	age := time.Since(fi.ModTime())
	if m != nil && m[2] != "" && age > ownerGrace {
		pid, _ := strconv.Atoi(m[2])
		return !alive(pid) || age > maxAge
	}
	return age > maxAge
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

// FailedMarker is the file a failed build leaves in its stage (Entry.Stage),
// with the error: such a stage stays for the user to inspect, until the
// next build there replaces it; SweepDead removes only killed builds'.
const FailedMarker = ".modmatrix-failed"

// SweepDead removes what runs that died (SIGKILL, a power cut) left in
// the cache at dir: temporaries of entries (.tmp-*) and build stages
// (.stage-*) nobody is building in and no failed build left, in the
// folders that hold entries: each folder of the cache, and each of
// modules/ (modules/KERNEL/ holds a kernel's module builds), never inside
// an entry. Locks are flocks, released by the kernel when their holder
// dies, so a lock file left behind is never held by a dead run and is
// kept. It returns what it removed.
func SweepDead(dir string) []string {
	var dirs []string
	for _, pat := range []string{"*", filepath.Join("modules", "*")} {
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
			if _, err := os.Stat(filepath.Join(s, FailedMarker)); err == nil {
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
// Owned(prefix)) whose owner has exited, once older than ownerGrace (a
// live run in another PID namespace sharing dir looks dead from here),
// and returns them.
func SweepTemp(dir, prefix string) []string {
	var removed []string
	paths, _ := filepath.Glob(filepath.Join(dir, prefix+"-p*-*"))
	for _, p := range paths {
		m := ownerRE.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || time.Since(fi.ModTime()) <= ownerGrace {
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); !alive(pid) && os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}
