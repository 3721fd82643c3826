// Package cacheentry is how modmatrix writes a cache entry: each is built
// in a folder of its own and renamed into place whole, so that whatever is
// found at an entry's path is complete; builds that more than one process
// may start at once wait for each other on a flock, so that one builds and
// the others find its entry; and what dead builds leave behind is swept in
// one place.
package cacheentry

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
)

// Entry is one cache entry: a file or a folder at Path.
type Entry struct {
	Path string

	// Locked makes builds of the entry wait for each other on the flock
	// Path+".lock": one process builds, the others then find its entry.
	// Without it concurrent builds run side by side and the first rename
	// wins, which suits entries that are cheap and come out the same
	// every time.
	Locked bool

	// Complete reports whether what is at path is a finished entry; the
	// default is that something is there. It may read the entry for the
	// caller: it is called on Path only.
	Complete func(path string) bool

	// Stage, when set, is the one path the entry is built at instead of
	// a fresh temporary, under its own flock Stage+".lock" (taken after
	// the entry's): for builds whose output embeds the path they ran at.
	// What is there before a build is a failed build's and is removed;
	// a failed build's is left there to be inspected, marked by a
	// FailedMarker file (a killed build's, without one, goes at the next
	// run's SweepDead).
	Stage string
}

// Build makes an entry's content in dir and returns what becomes the
// entry: dir itself or a file or folder inside it. dir is an empty
// temporary folder beside the entry, removed with whatever else is in it
// once the entry is renamed out of it; or the Entry's Stage, which does
// not exist when Build is called.
type Build func(ctx context.Context, dir string) (string, error)

// completeFunc is e.Complete, or by default: something is at the path.
func (e Entry) completeFunc() func(string) bool {
	if e.Complete != nil {
		return e.Complete
	}
	return exists
}

// lockRetry is how often a waiter tries a held lock again.
const lockRetry = 200 * time.Millisecond

// Get makes sure the entry is complete, building it on a miss, and
// reports whether it was there already (a hit). A process that waited for
// the entry's lock while another built it gets the hit.
func (e Entry) Get(ctx context.Context, build Build) (hit bool, err error) {
	complete := e.completeFunc()
	if complete(e.Path) {
		touch(e.Path)
		return true, nil
	}
	if err := os.MkdirAll(filepath.Dir(e.Path), 0o755); err != nil {
		return false, err
	}
	if e.Locked {
		unlock, err := lock(ctx, e.Path+".lock")
		if err != nil {
			return false, err
		}
		defer unlock()
		if complete(e.Path) {
			touch(e.Path)
			return true, nil // built by another process while we waited
		}
	}
	if e.Stage != "" {
		return false, e.buildAtStage(ctx, build, complete)
	}
	return false, e.buildInTemp(ctx, build, complete)
}

func (e Entry) buildInTemp(ctx context.Context, build Build, complete func(string) bool) error {
	dir, name := filepath.Split(e.Path)
	held := ""
	if e.Locked {
		held = name
	}
	sweep(dir, held)
	tmp, err := MkdirTemp(dir, name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out, err := build(ctx, tmp)
	if err != nil {
		return err
	}
	return e.publish(out, complete)
}

func (e Entry) buildAtStage(ctx context.Context, build Build, complete func(string) bool) error {
	unlock, err := lock(ctx, e.Stage+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.RemoveAll(e.Stage); err != nil {
		return err
	}
	out, err := build(ctx, e.Stage)
	if err != nil {
		_ = os.WriteFile(filepath.Join(e.Stage, FailedMarker), []byte(err.Error()+"\n"), 0o644)
		return err
	}
	return e.publish(out, complete)
}

// Put publishes out, a finished build made elsewhere on the entry's file
// system (in a MkdirTemp folder beside it), as the entry, unless a
// complete entry is there already. For unlocked entries: it takes no lock.
func (e Entry) Put(out string) error {
	complete := e.completeFunc()
	if complete(e.Path) {
		return nil
	}
	return e.publish(out, complete)
}

// MkdirTemp makes an empty folder in dir, named for name and this process,
// so that SweepDead removes it once the process is gone: a temporary for a
// build whose output is published elsewhere.
func MkdirTemp(dir, name string) (string, error) {
	tmp, err := os.MkdirTemp(dir, Owned(tempPrefix+name))
	if err != nil {
		return "", err
	}
	return tmp, os.Chmod(tmp, 0o755) // MkdirTemp's 0700
}

// publish renames a finished build into place.
func (e Entry) publish(out string, complete func(string) bool) error {
	if e.Locked {
		// Under the lock, what is at Path is not complete: debris of a
		// partial rm, which would keep the rename from taking the name.
		if err := os.RemoveAll(e.Path); err != nil {
			return err
		}
		return os.Rename(out, e.Path)
	}
	err := os.Rename(out, e.Path)
	if err == nil {
		return nil
	}
	if complete(e.Path) {
		return nil // a concurrent build published first: take its entry
	}
	// What is there is damaged, or was made by an older modmatrix: it
	// makes way for the new build. Under the entry's lock, and checked
	// again there: another process may have just replaced it with a whole
	// one, which must not be removed. Not NAME.lock: sweep takes an
	// unheld NAME.lock to mean NAME's temporaries are dead, and the
	// builds of an unlocked entry never hold it.
	dir, name := filepath.Split(e.Path)
	unlock, lerr := lock(context.Background(), filepath.Join(dir, "."+name+".replace-lock"))
	if lerr != nil {
		return lerr
	}
	defer unlock()
	if complete(e.Path) {
		return nil
	}
	if rerr := Remove(e.Path); rerr != nil {
		return fmt.Errorf("%w (and removing the damaged entry: %v)", err, rerr)
	}
	if err := os.Rename(out, e.Path); err != nil && !complete(e.Path) {
		return err // else a build that took no lock published into the gap
	}
	return nil
}

// Replace writes the file at path whole: write fills a temporary beside
// it, which then takes path's place by rename, so that a reader finds the
// old file or the new one, never a part of one.
func Replace(path string, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), Owned(tempPrefix+filepath.Base(path)))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil { // CreateTemp's 0600
		return err
	}
	return os.Rename(f.Name(), path)
}

// Lock takes the flock path+".lock", waiting until ctx is done, for work
// beside entries that must not run twice at once (in two processes or two
// goroutines: each call opens the file anew, and flock(2) locks conflict
// between open files).
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	return lock(ctx, path+".lock")
}

// lock takes the exclusive flock on path, waiting until ctx is done. The
// kernel drops it when the process dies, so a crashed run never leaves it
// held.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	l := flock.New(path, flock.SetPermissions(0o644))
	if _, err := l.TryLockContext(ctx, lockRetry); err != nil {
		return nil, fmt.Errorf("waiting for %s: %w", path, err)
	}
	return func() { l.Unlock() }, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Remove takes the entry at path out of the cache: renamed aside first
// (to a temporary that sweep clears if this process dies), so a reader
// finds all of it or none, then deleted. A missing entry is no error.
func Remove(path string) error {
	// The pid and a count: unique among processes and among goroutines.
	aside := filepath.Join(filepath.Dir(path), fmt.Sprintf("%s%d", Owned(tempPrefix+filepath.Base(path)), removals.Add(1)))
	if err := os.Rename(path, aside); err != nil {
		if os.IsNotExist(err) {
			return nil // another process removed it first
		}
		return err
	}
	return os.RemoveAll(aside)
}

var removals atomic.Int64

// TryLock takes the entry's build lock if nobody holds it, for work that
// must not overlap a build or use of the entry (removing it).
func TryLock(path string) (unlock func(), ok bool) {
	l := flock.New(path+".lock", flock.SetPermissions(0o644))
	got, err := l.TryLock()
	if err != nil || !got {
		return nil, false
	}
	return func() { l.Unlock() }, true
}

// touch marks an entry used now: prune keeps what was used recently.
func touch(path string) {
	now := time.Now()
	_ = os.Chtimes(path, now, now)
}

// MarkUsed marks the entry at path used now, as Get does on a hit, for an
// entry read without Get: its modification time is its last use.
func MarkUsed(path string) { touch(path) }
