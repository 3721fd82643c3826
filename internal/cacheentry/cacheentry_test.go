package cacheentry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// hold takes path's flock the way another process would: flock conflicts
// between separately opened files, even in one process.
func hold(t *testing.T, path string) (release func()) {
	t.Helper()
	l := flock.New(path)
	ok, err := l.TryLock()
	require.NoError(t, err)
	require.True(t, ok)
	return func() { l.Unlock() }
}

// writeBuild builds a folder with one file, counting its calls.
func writeBuild(calls *atomic.Int32, delay time.Duration) Build {
	return func(ctx context.Context, dir string) (string, error) {
		calls.Add(1)
		time.Sleep(delay)
		return dir, os.WriteFile(filepath.Join(dir, "done"), []byte("yes"), 0o644)
	}
}

func TestGetMissThenHit(t *testing.T) {
	dir := t.TempDir()
	e := Entry{Path: filepath.Join(dir, "sub", "e"), Locked: true}
	var calls atomic.Int32
	hit, err := e.Get(context.Background(), writeBuild(&calls, 0))
	require.NoError(t, err)
	assert.False(t, hit)
	assert.FileExists(t, filepath.Join(e.Path, "done"))
	fi, err := os.Stat(e.Path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm(), "not MkdirTemp's 0700")
	assert.ElementsMatch(t, []string{"e", "e.lock"}, names(t, filepath.Dir(e.Path)), "no temporary left")

	hit, err = e.Get(context.Background(), writeBuild(&calls, 0))
	require.NoError(t, err)
	assert.True(t, hit)
	assert.EqualValues(t, 1, calls.Load())
}

// A process that waited for the lock while another built the entry gets
// the hit, and builds nothing.
func TestGetWaiterSeesTheHit(t *testing.T) {
	dir := t.TempDir()
	e := Entry{Path: filepath.Join(dir, "e"), Locked: true,
		Complete: func(p string) bool { _, err := os.Stat(filepath.Join(p, "done")); return err == nil }}
	release := hold(t, e.Path+".lock")

	var calls atomic.Int32
	type got struct {
		hit bool
		err error
	}
	done := make(chan got)
	go func() {
		hit, err := e.Get(context.Background(), writeBuild(&calls, 0))
		done <- got{hit, err}
	}()
	time.Sleep(3 * lockRetry / 2) // waiting now
	// The holder publishes its entry, then lets go.
	require.NoError(t, os.MkdirAll(e.Path, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(e.Path, "done"), nil, 0o644))
	release()
	g := <-done
	require.NoError(t, g.err)
	assert.True(t, g.hit)
	assert.Zero(t, calls.Load())
}

func TestGetBuildsOnceUnderConcurrency(t *testing.T) {
	dir := t.TempDir()
	var calls atomic.Int32
	const n = 4
	hits := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hits[i], errs[i] = Entry{Path: filepath.Join(dir, "e"), Locked: true}.Get(context.Background(), writeBuild(&calls, 300*time.Millisecond))
		}()
	}
	wg.Wait()
	misses := 0
	for i := range n {
		require.NoError(t, errs[i])
		if !hits[i] {
			misses++
		}
	}
	assert.EqualValues(t, 1, calls.Load())
	assert.Equal(t, 1, misses)
}

func TestGetCancelledWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	for _, e := range []Entry{
		{Path: filepath.Join(dir, "e"), Locked: true},
		{Path: filepath.Join(dir, "s"), Stage: filepath.Join(dir, ".stage")},
	} {
		lock := e.Path + ".lock"
		if e.Stage != "" {
			lock = e.Stage + ".lock"
		}
		release := hold(t, lock)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(lockRetry/2, cancel)
		var calls atomic.Int32
		_, err := e.Get(ctx, writeBuild(&calls, 0))
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), lock)
		assert.Zero(t, calls.Load())
		assert.NoFileExists(t, e.Path)
		release()
	}
}

// A failed build publishes nothing and leaves no temporary; the next Get
// builds again.
func TestGetFailedBuild(t *testing.T) {
	for _, locked := range []bool{true, false} {
		dir := t.TempDir()
		e := Entry{Path: filepath.Join(dir, "e"), Locked: locked}
		boom := errors.New("make: *** [Makefile:1] Error 2")
		_, err := e.Get(context.Background(), func(ctx context.Context, tmp string) (string, error) {
			require.NoError(t, os.WriteFile(filepath.Join(tmp, "half"), nil, 0o644))
			return "", boom
		})
		assert.ErrorIs(t, err, boom)
		assert.NoFileExists(t, e.Path)
		for _, n := range names(t, dir) {
			assert.Equal(t, "e.lock", n, "locked %v: only the lock is left", locked)
		}
		var calls atomic.Int32
		hit, err := e.Get(context.Background(), writeBuild(&calls, 0))
		require.NoError(t, err)
		assert.False(t, hit)
		assert.EqualValues(t, 1, calls.Load())
	}
}

// What Build returns becomes the entry: a folder or a file inside the
// temporary (a tarball's top folder, an archive), the rest goes.
func TestGetPublishesWhatBuildReturns(t *testing.T) {
	dir := t.TempDir()
	tree := Entry{Path: filepath.Join(dir, "linux-source-6.12-abc"), Locked: true}
	_, err := tree.Get(context.Background(), func(ctx context.Context, tmp string) (string, error) {
		top := filepath.Join(tmp, "linux-source-6.12")
		require.NoError(t, os.MkdirAll(top, 0o755))
		return top, os.WriteFile(filepath.Join(top, "Makefile"), nil, 0o644)
	})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(tree.Path, "Makefile"))

	archive := Entry{Path: filepath.Join(dir, "key.cpio")}
	_, err = archive.Get(context.Background(), func(ctx context.Context, tmp string) (string, error) {
		out := filepath.Join(tmp, "base.cpio")
		require.NoError(t, os.WriteFile(filepath.Join(tmp, "scratch"), nil, 0o644))
		return out, os.WriteFile(out, []byte("070701"), 0o644)
	})
	require.NoError(t, err)
	data, err := os.ReadFile(archive.Path)
	require.NoError(t, err)
	assert.Equal(t, "070701", string(data))
	assert.ElementsMatch(t, []string{"key.cpio", "linux-source-6.12-abc", "linux-source-6.12-abc.lock"}, names(t, dir))
}

// An incomplete or damaged entry (debris of a partial rm, an older
// modmatrix's) is replaced by the build, under the lock or without one.
func TestGetReplacesDebris(t *testing.T) {
	for _, locked := range []bool{true, false} {
		dir := t.TempDir()
		e := Entry{Path: filepath.Join(dir, "e"), Locked: locked,
			Complete: func(p string) bool { _, err := os.Stat(filepath.Join(p, "done")); return err == nil }}
		require.NoError(t, os.MkdirAll(e.Path, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(e.Path, "vmlinux"), []byte("half"), 0o644))
		var calls atomic.Int32
		hit, err := e.Get(context.Background(), writeBuild(&calls, 0))
		require.NoError(t, err, "locked %v", locked)
		assert.False(t, hit)
		assert.FileExists(t, filepath.Join(e.Path, "done"))
		assert.NoFileExists(t, filepath.Join(e.Path, "vmlinux"))
	}
}

// Without a lock, the build that loses the race to publish takes the
// winner's entry.
func TestGetUnlockedLosesRace(t *testing.T) {
	dir := t.TempDir()
	e := Entry{Path: filepath.Join(dir, "e"),
		Complete: func(p string) bool { _, err := os.Stat(filepath.Join(p, "done")); return err == nil }}
	hit, err := e.Get(context.Background(), func(ctx context.Context, tmp string) (string, error) {
		// The other run publishes while this one builds.
		require.NoError(t, os.MkdirAll(e.Path, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(e.Path, "done"), []byte("theirs"), 0o644))
		return tmp, os.WriteFile(filepath.Join(tmp, "done"), []byte("ours"), 0o644)
	})
	require.NoError(t, err)
	assert.False(t, hit)
	data, err := os.ReadFile(filepath.Join(e.Path, "done"))
	require.NoError(t, err)
	assert.Equal(t, "theirs", string(data))
	assert.Equal(t, []string{"e"}, names(t, dir))
}

// With a Stage the build runs at that one path, under the stage's own lock,
// from nothing; a failed build stays there until the next build.
func TestGetAtStage(t *testing.T) {
	dir := t.TempDir()
	stage := filepath.Join(dir, ".stage-1")
	e := Entry{Path: filepath.Join(dir, "key"), Locked: true, Stage: stage}
	require.NoError(t, os.MkdirAll(stage, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stage, "crashed"), nil, 0o644))

	boom := errors.New("build failed")
	_, err := e.Get(context.Background(), func(ctx context.Context, d string) (string, error) {
		assert.Equal(t, stage, d)
		assert.NoDirExists(t, d, "a crashed build's stage is removed first")
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "half"), nil, 0o644))
		return "", boom
	})
	assert.ErrorIs(t, err, boom)
	assert.FileExists(t, filepath.Join(stage, "half"), "kept to be inspected")
	assert.NoFileExists(t, e.Path)

	_, err = e.Get(context.Background(), func(ctx context.Context, d string) (string, error) {
		// Both locks are held while it builds.
		for _, l := range []string{e.Path + ".lock", stage + ".lock"} {
			ok, err := flock.New(l).TryLock()
			require.NoError(t, err)
			assert.False(t, ok, l)
		}
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d, os.WriteFile(filepath.Join(d, "vmlinux"), nil, 0o644)
	})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(e.Path, "vmlinux"))
	assert.NoDirExists(t, stage)
	assert.ElementsMatch(t, []string{"key", "key.lock", ".stage-1.lock"}, names(t, dir))
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * maxAge)
	mk := func(name string, age time.Time) {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name, "sub"), 0o755))
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), age, age))
	}
	now := time.Now()
	mk(".tmp-mine-11", now)     // of the entry whose lock the sweeper holds
	mk(".tmp-dead-22", now)     // its lock is free: its build died
	mk(".tmp-live-33", old)     // its lock is held: a live build, however old
	mk(".tmp-unlocked-44", now) // no lock: may be a live run's
	mk(".tmp-unlocked-55", old) // no lock, old: a dead run's
	mk(".tmp-legacy", old)      // not NAME-RANDOM, old: an older run's
	mk("dead", now)             // entries are never touched
	mk("live", now)
	for _, l := range []string{"mine.lock", "dead.lock", "live.lock"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, l), nil, 0o644))
	}
	release := hold(t, filepath.Join(dir, "live.lock"))
	defer release()

	sweep(dir, "mine")
	assert.ElementsMatch(t, []string{".tmp-live-33", ".tmp-unlocked-44", "dead", "live", "mine.lock", "dead.lock", "live.lock"}, names(t, dir))

	release()
	sweep(dir, "")
	assert.ElementsMatch(t, []string{".tmp-unlocked-44", "dead", "live", "mine.lock", "dead.lock", "live.lock"}, names(t, dir),
		"the live build is gone: its temporary is debris")
}

// deadPID is the PID of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestSweepByOwner(t *testing.T) {
	dir := t.TempDir()
	gone, me := deadPID(t), os.Getpid()
	past := time.Now().Add(-2 * ownerGrace)
	mk := func(name string, age time.Time) {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name), 0o755))
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), age, age))
	}
	mk(fmt.Sprintf(".tmp-a-p%d-1", gone), past)       // its run exited: debris
	mk(fmt.Sprintf(".tmp-a-p%d-2", gone), time.Now()) // young: maybe a run in another PID namespace
	mk(fmt.Sprintf(".tmp-b-p%d-3", me), past)         // a live run's
	mk(fmt.Sprintf(".tmp-c-p%d-4", gone), time.Now()) // its lock is held: live, whatever the PID says
	mk(fmt.Sprintf(".tmp-d-p%d-5", me), time.Now())   // its lock is free: dead, whatever the PID says
	for _, l := range []string{"c.lock", "d.lock"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, l), nil, 0o644))
	}
	release := hold(t, filepath.Join(dir, "c.lock"))
	defer release()
	sweep(dir, "")
	assert.ElementsMatch(t, []string{fmt.Sprintf(".tmp-a-p%d-2", gone), fmt.Sprintf(".tmp-b-p%d-3", me),
		fmt.Sprintf(".tmp-c-p%d-4", gone), "c.lock", "d.lock"}, names(t, dir))
}

// TestSweepDead: what a SIGKILLed run leaves across the cache (a kernel
// stage, a module build's temporary) goes; what a live run is building
// at, a failed build's stage, entries, what is inside them and lock files
// stay.
func TestSweepDead(t *testing.T) {
	cache := t.TempDir()
	gone := deadPID(t)
	past := time.Now().Add(-2 * ownerGrace)
	mk := func(rel string) {
		require.NoError(t, os.MkdirAll(filepath.Join(cache, rel), 0o755))
		require.NoError(t, os.Chtimes(filepath.Join(cache, rel), past, past))
	}
	mk("kernels/.stage-dead/arch")
	mk("kernels/.stage-live/arch")
	mk("kernels/.stage-failed/arch")
	require.NoError(t, os.WriteFile(filepath.Join(cache, "kernels/.stage-failed", FailedMarker), []byte("make: error\n"), 0o644))
	mk("kernels/key/.tmp-x-1") // inside an entry: not the sweep's
	mk(fmt.Sprintf("modules/key/.tmp-hello-x-p%d-7", gone))
	mk("modules/key/hello-x")
	for _, l := range []string{"kernels/.stage-dead.lock", "kernels/.stage-live.lock", "kernels/.stage-failed.lock", "kernels/key.lock"} {
		require.NoError(t, os.WriteFile(filepath.Join(cache, l), nil, 0o644))
	}
	release := hold(t, filepath.Join(cache, "kernels/.stage-live.lock"))
	defer release()

	removed := SweepDead(cache)
	assert.ElementsMatch(t, []string{
		filepath.Join(cache, "kernels/.stage-dead"),
		filepath.Join(cache, fmt.Sprintf("modules/key/.tmp-hello-x-p%d-7", gone)),
	}, removed)
	assert.ElementsMatch(t, []string{".stage-dead.lock", ".stage-live", ".stage-live.lock", ".stage-failed", ".stage-failed.lock", "key", "key.lock"},
		names(t, filepath.Join(cache, "kernels")))
	assert.DirExists(t, filepath.Join(cache, "kernels/key/.tmp-x-1"))
	assert.ElementsMatch(t, []string{"hello-x"}, names(t, filepath.Join(cache, "modules/key")))
}

func TestSweepTemp(t *testing.T) {
	dir := t.TempDir()
	past := time.Now().Add(-2 * ownerGrace)
	gone := deadPID(t)
	dead, young := fmt.Sprintf("modmatrix-vm-p%d-123", gone), fmt.Sprintf("modmatrix-vm-p%d-456", gone)
	live := filepath.Base(must(os.MkdirTemp(dir, Owned("modmatrix-vm"))))
	for _, d := range []string{dead, young, "modmatrix-vm-123"} { // the last has no owner: left alone
		require.NoError(t, os.Mkdir(filepath.Join(dir, d), 0o755))
	}
	for _, d := range []string{dead, live, "modmatrix-vm-123"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, d), past, past))
	}
	assert.Equal(t, []string{filepath.Join(dir, dead)}, SweepTemp(dir, "modmatrix-vm"))
	assert.ElementsMatch(t, []string{live, young, "modmatrix-vm-123"}, names(t, dir))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spec-x")
	write := func(text string) func(w io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, text); return err }
	}
	require.NoError(t, Replace(path, write("one\n")))
	require.NoError(t, Replace(path, write("two\n")))
	boom := errors.New("disk full")
	err := Replace(path, func(w io.Writer) error { io.WriteString(w, "thr"); return boom })
	assert.ErrorIs(t, err, boom)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two\n", string(data), "a failed write leaves the old file")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	assert.Equal(t, []string{"spec-x"}, names(t, dir))
}
