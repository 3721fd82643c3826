// Package agent is what runs inside the guest: it executes a plan's steps
// with u-root's kmodule, observes what the kernel did and emits one event per
// step. cmd/modagent is a thin main over it.
package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/u-root/u-root/pkg/kmodule"
	"golang.org/x/sys/unix"

	"modmatrix.dev/modmatrix/harness/kernel"
	"modmatrix.dev/modmatrix/harness/kreport/kinds"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// DefaultStepTimeout bounds a step when the plan gives none.
const DefaultStepTimeout = 30 * time.Second

// Emitter sends events to the host.
type Emitter interface {
	Emit(protocol.Event) error
}

// Agent runs one boot's plan.
type Agent struct {
	Plan   protocol.Plan
	Events Emitter
	Sys    System
	Kmsg   *KmsgReader
	// ModuleDir holds the .ko files (protocol.ModuleDir in the guest).
	ModuleDir string
	// OnHang is called when a step overruns its timeout, before the agent
	// gives up on the boot (the guest dumps blocked tasks there).
	OnHang func()

	open map[string]*os.File
	// lastLoad is when a module last loaded: kmemleak only reports objects
	// older than 5 s.
	lastLoad time.Time
	// stopped is set once a step hung or died: the boot ends there.
	stopped bool
	// baselines are the ledger's inventories before each loaded module's
	// load, by module.
	baselines map[string]baseline
	// loopLoaded are the modules loop steps loaded, by the last such step.
	loopLoaded map[string]int
}

// baseline is an inventory taken before step since loaded a module.
type baseline struct {
	inv   inventory
	since int
}

// Ready tells the host the agent is up and waits for work: the boot's
// kernel log goes with it. The host snapshots the guest here, so
// everything after it runs once per restore.
func (a *Agent) Ready() error {
	return a.emit(protocol.Event{Kind: protocol.EventReady, Boot: a.bootInfo(), Kmsg: a.Kmsg.ReadAvailable()})
}

func (a *Agent) bootInfo() *protocol.BootInfo {
	uts := unix.Utsname{}
	_ = unix.Uname(&uts)
	return &protocol.BootInfo{
		Release: unix.ByteSliceToString(uts.Release[:]),
		Version: unix.ByteSliceToString(uts.Version[:]),
		Taint:   a.Sys.Taint(),
		KmsgSeq: a.Kmsg.Next(),
		Modules: a.Sys.LoadedModules(),
	}
}

// Run executes the plan. It returns when the plan is done or the kernel is
// no longer clean; the caller then closes the event channel and reboots.
func (a *Agent) Run() error {
	a.open = map[string]*os.File{}
	// The kernel log since Ready: nothing, unless the kernel printed
	// while the guest waited (or, restored, since the snapshot).
	since := a.Kmsg.ReadAvailable()
	if err := a.emit(protocol.Event{Kind: protocol.EventBoot, Boot: a.bootInfo(), Kmsg: since}); err != nil {
		return err
	}

	for i, sc := range a.Plan.Scenarios {
		dirty, err := a.runScenario(sc)
		if err != nil || a.stopped {
			return err
		}
		if dirty != "" && i+1 < len(a.Plan.Scenarios) {
			var rest []string
			for _, r := range a.Plan.Scenarios[i+1:] {
				rest = append(rest, r.Name)
			}
			a.scanLeaks()
			return a.emit(protocol.Event{Kind: protocol.EventEndOfBoot, Dirty: dirty, Remaining: rest})
		}
	}
	a.scanLeaks()
	return a.emit(protocol.Event{Kind: protocol.EventEndOfBoot})
}

// kmemleakFile exists where the kernel has DEBUG_KMEMLEAK and debugfs.
const kmemleakFile = "/sys/kernel/debug/kmemleak"

// kmemleakMinAge is kmemleak's MSECS_MIN_AGE (5 s) plus a margin: younger
// objects are never reported, so the one scan of a boot waits for it.
const kmemleakMinAge = 5500 * time.Millisecond

// kmemleakDisabled tells whether a kernel command line turns kmemleak off
// (the kunit cell boots the debug kernel so): kmemleak=off disables it for
// good, whatever follows, and /sys/kernel/debug/kmemleak refuses scans.
func kmemleakDisabled(cmdline string) bool {
	return slices.Contains(strings.Fields(cmdline), "kmemleak=off")
}

// scanLeaks runs one kmemleak scan per boot, late enough after the last
// load for its objects to count, and reports what it found.
func (a *Agent) scanLeaks() {
	_ = unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, "")
	if _, err := os.Stat(kmemleakFile); err != nil || a.lastLoad.IsZero() {
		return
	}
	if cmdline, err := os.ReadFile("/proc/cmdline"); err == nil && kmemleakDisabled(string(cmdline)) {
		return // the file is there, but scans fail: nothing to wait for
	}
	time.Sleep(time.Until(a.lastLoad.Add(kmemleakMinAge)))
	// kmemleak skips objects whose content changed since its previous scan
	// (their checksum), so the first scan only settles checksums.
	for range 2 {
		if err := os.WriteFile(kmemleakFile, []byte("scan"), 0); err != nil {
			_ = a.emit(protocol.Event{Kind: protocol.EventKmemleak, Error: err.Error()})
			return
		}
	}
	b, err := os.ReadFile(kmemleakFile)
	e := protocol.Event{Kind: protocol.EventKmemleak, Kmemleak: string(b), Kmsg: a.Kmsg.ReadAvailable()}
	if err != nil {
		e.Error = err.Error()
	}
	_ = a.emit(e)
}

func (a *Agent) runScenario(sc protocol.Scenario) (dirty string, err error) {
	taintStart := a.Sys.Taint()
	a.baselines = map[string]baseline{}
	a.loopLoaded = map[string]int{}
	var loaded []string
	for i, st := range sc.Steps {
		markConsole(protocol.StepMarker(sc.Name, i))
		if err := a.emit(protocol.Event{Kind: protocol.EventStepStart, Scenario: sc.Name, StepIndex: i, Kmsg: a.Kmsg.ReadAvailable()}); err != nil {
			return "", err
		}
		var res protocol.StepResult
		var hung bool
		before := a.Sys.LoadedModules()
		if len(st.Loops) > 0 {
			res, hung = a.runLoops(sc.Name, i, st)
			// The clean-up unloads whichever of them is still there.
			loaded = append(loaded, loopModules(st)...)
			// The ledger keeps no baseline inside loops: whatever the loop
			// left loaded or unloaded, its modules' baselines are stale.
			for _, m := range loopModules(st) {
				delete(a.baselines, m)
				a.loopLoaded[m] = i
			}
		} else {
			lg := a.ledgerFor(i, st)
			res, hung = a.runWatched(st, &oopsWatch{}, lg)
			switch {
			case hung:
				// The step's thread may still be writing lg.
			case st.Action == protocol.ActionLoad && lg != nil && lg.taken != nil && res.Errno == "" && res.Error == "":
				a.baselines[st.Module] = baseline{inv: lg.taken, since: i}
			case res.Ledger != nil && res.Ledger.Compared:
				// Gone: its next load takes a baseline of its own.
				delete(a.baselines, st.Module)
			}
		}
		if err := a.emit(protocol.Event{Kind: protocol.EventStep, Scenario: sc.Name, StepIndex: i, Step: &res}); err != nil {
			return "", err
		}
		if hung {
			// A stuck or dead step leaves the kernel in no state to go on:
			// nothing else runs in this boot.
			a.stopped = true
			a.scanLeaks()
			return res.Error, a.emit(protocol.Event{Kind: protocol.EventEndOfBoot, Scenario: sc.Name, Dirty: res.Error})
		}
		if st.Action == protocol.ActionLoad && res.Errno == "" && res.Error == "" {
			loaded = append(loaded, st.Module)
			a.lastLoad = time.Now()
		}
		// What modprobe, or the kernel's request_module through it, loaded
		// besides: the clean-up unloads it and kmemleak waits for it too.
		for _, m := range newModules(before, a.Sys.LoadedModules()) {
			if !slices.Contains(loaded, m) {
				loaded = append(loaded, m)
			}
			a.lastLoad = time.Now()
		}
	}
	markConsole(protocol.StepMarker(sc.Name, len(sc.Steps)))
	if gained := (a.Sys.Taint() &^ taintStart) &^ kernel.HarmlessTaint; gained != 0 {
		// A tainted kernel (a forced unload, an oops) ends the boot anyway;
		// closing fds into a force-unloaded module's code would oops again.
		dirty = fmt.Sprintf("taint gained: %d", gained)
	} else {
		dirty = a.cleanUp(loaded)
	}
	return dirty, a.emit(protocol.Event{Kind: protocol.EventScenarioEnd, Scenario: sc.Name, Dirty: dirty, Kmsg: a.Kmsg.ReadAvailable()})
}

// markConsole prints a marker into the kernel log at warning level, so it
// reaches the console too: when the kernel dies before the agent can
// report, the host places console-only reports between these markers.
func markConsole(text string) {
	_ = os.WriteFile("/dev/kmsg", []byte("<4>"+text+"\n"), 0)
}

// cleanUp closes the scenario's fds and unloads what it left loaded, newest
// first, so the next scenario starts from a clean module state.
func (a *Agent) cleanUp(loaded []string) string {
	for p, f := range a.open {
		f.Close()
		delete(a.open, p)
	}
	var stuck []string
	for _, name := range slices.Backward(loaded) {
		if line, _ := a.Sys.ProcModules(name); line == "" {
			continue
		}
		if err := kmodule.Delete(name, unix.O_NONBLOCK); err != nil {
			stuck = append(stuck, fmt.Sprintf("%s (%s)", name, errnoName(err)))
		}
	}
	if len(stuck) > 0 {
		return fmt.Sprintf("module left loaded: %v", stuck)
	}
	return ""
}

// ledgerFor decides the resource ledger's part in step i of a scenario:
// the baseline before a module's load, the comparison after its unload
// or failed load. Loop steps take none (their iterations must cost
// little), nor does a kernel without modules.
func (a *Agent) ledgerFor(i int, st protocol.Step) *ledgerStep {
	if _, modules := a.Sys.ProcModules(""); !modules || st.Module == "" {
		return nil
	}
	settle := time.Duration(a.Plan.SettleMS) * time.Millisecond
	switch st.Action {
	case protocol.ActionLoad:
		if line, _ := a.Sys.ProcModules(st.Module); line != "" {
			return nil
		}
		return &ledgerStep{module: st.Module, action: st.Action, baseline: true, since: i, settle: settle}
	case protocol.ActionUnload:
		b, ok := a.baselines[st.Module]
		lg := &ledgerStep{module: st.Module, action: st.Action, base: b.inv, since: b.since, settle: settle}
		for m, other := range a.baselines {
			if ok && m != st.Module && other.since > b.since {
				lg.later = append(lg.later, other.inv)
			}
		}
		for m, at := range a.loopLoaded {
			if line, _ := a.Sys.ProcModules(m); ok && m != st.Module && at > b.since && line != "" {
				// A loop left m loaded after this module's baseline, and
				// loops take none of their own: what is new may be m's.
				// Settle, but compare nothing.
				lg.base = nil
			}
		}
		return lg
	}
	return nil
}

// stepDone is how a step's thread ends: the action's error and how long
// the action itself took (not the ledger's part).
type stepDone struct {
	err    error
	dur    time.Duration
	helper *helperRun
}

// runWatched runs one step under a watchdog (hung is true when it
// overran), with the oops watch shared by the steps running at the same
// time (a concurrent step's loops): an oops read by one loop's poll still
// ends the step whose thread it killed. The ledger's part, if any, runs
// in the step's thread around the action.
func (a *Agent) runWatched(st protocol.Step, watch *oopsWatch, lg *ledgerStep) (res protocol.StepResult, hung bool) {
	res = protocol.StepResult{Step: st, TaintBefore: a.Sys.Taint(), KmsgSeqStart: a.Kmsg.Next()}
	if st.Action == protocol.ActionLoad {
		res.Modinfo = readModinfo(a.moduleFile(st))
	}
	timeout := DefaultStepTimeout
	if st.TimeoutMS > 0 {
		timeout = time.Duration(st.TimeoutMS) * time.Millisecond
	}
	if lg != nil {
		// The settle window is the step's too, on top of its own bound.
		timeout += lg.settle
	}
	start := time.Now()
	done := make(chan stepDone, 1)
	tid := make(chan int, 1)
	go func() {
		// The step gets an OS thread of its own, which exits with the
		// goroutine: its TID names the step in kernel reports (kmemleak's
		// "pid"), and no stale pointer outlives it on a kernel stack. An
		// oops in the ledger's reads after an unload (a list still
		// pointing into the module) is so the step's own, too.
		runtime.LockOSThread()
		tid <- unix.Gettid()
		lg.before(a.Sys)
		t := time.Now()
		var err error
		var h *helperRun
		if st.Action == protocol.ActionModprobe {
			h, err = runModprobe(st)
		} else {
			err = a.act(st)
		}
		d := time.Since(t)
		lg.after(a.Sys, err)
		done <- stepDone{err, d, h}
	}()
	res.TID = <-tid
	// Poll kmsg while the step runs: an oops in the step's own thread kills
	// that thread, so the syscall never returns; waiting out the whole
	// timeout would only delay the report.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	var early []protocol.Kmsg
	var settled time.Time
wait:
	for {
		select {
		case d := <-done:
			res.DurationUS = d.dur.Microseconds()
			res.Ledger = lg.result()
			if h := d.helper; h != nil {
				res.Status, res.Output, res.HelperPID = &h.status, h.output, h.pid
			}
			err := d.err
			var errno syscall.Errno
			switch {
			case err == nil:
			case errors.As(err, &errno):
				res.Errno, res.ErrnoNum = errnoName(errno), int(errno)
			default:
				res.Error = err.Error()
			}
			break wait
		case <-tick.C:
			recs := a.Kmsg.ReadAvailable()
			early = append(early, recs...)
			if hasOops(recs) {
				watch.see()
			}
			if lg.settling() {
				// Asleep in the settle window: an oops now is a timer's or
				// a work item's, which the step reports when it returns;
				// the thread's 2 s to return count from the window's end.
				settled = time.Now()
				continue
			}
			if at := watch.since(); !at.IsZero() && time.Since(later(at, settled)) > 2*time.Second {
				res.DurationUS = time.Since(start).Microseconds()
				res.Error = "the step never returned: the kernel oopsed in its thread"
				res.Died, hung = true, true
				break wait
			}
		case <-deadline:
			res.DurationUS = time.Since(start).Microseconds()
			res.Error = fmt.Sprintf("step did not return within %s", timeout)
			res.Hung, hung = true, true
			if a.OnHang != nil {
				a.OnHang()
			}
			break wait
		}
	}
	a.observe(&res)
	res.Kmsg = append(early, res.Kmsg...)
	return res, hung
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// hasOops: one of the records starts a report that may kill the calling
// task (kinds.CrashMarkers).
func hasOops(recs []protocol.Kmsg) bool {
	for _, r := range recs {
		if kinds.StartsCrash(r.Text) {
			return true
		}
	}
	return false
}

func (a *Agent) act(st protocol.Step) error {
	switch st.Action {
	case protocol.ActionLoad:
		f, err := os.Open(a.moduleFile(st))
		if err != nil {
			return fmt.Errorf("module file: %w", err)
		}
		defer f.Close()
		flags, err := syscallFlags(st, loadFlags)
		if err != nil {
			return err
		}
		return finitModule(f, st.Params, flags)
	case protocol.ActionUnload:
		flags, err := syscallFlags(st, unloadFlags)
		if err != nil {
			return err
		}
		return kmodule.Delete(st.Module, flags)
	case protocol.ActionOpen:
		f, err := os.OpenFile(st.Path, os.O_RDWR, 0)
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EISDIR) {
			f, err = os.Open(st.Path)
		}
		if err != nil {
			return unwrapErrno(err)
		}
		a.open[st.Path] = f
		return nil
	case protocol.ActionClose:
		f, ok := a.open[st.Path]
		if !ok {
			// Nothing open under that path (the open step failed): what
			// close(2) says of an fd that is not open.
			return syscall.EBADF
		}
		delete(a.open, st.Path)
		return unwrapErrno(f.Close())
	case protocol.ActionPause:
		time.Sleep(time.Duration(st.PauseMS) * time.Millisecond)
		return nil
	case protocol.ActionWrite:
		return writeFile(st.Path, st.Text)
	case protocol.ActionCheck:
		return nil
	}
	return fmt.Errorf("unknown action %q", st.Action)
}

// writeFile writes text to an existing file (a sysctl, a parameter): a
// mistyped path is ENOENT, not a new file.
func writeFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return unwrapErrno(err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return unwrapErrno(err)
}

// newModules are the modules listed after and not before, oldest first
// (/proc/modules lists the newest first).
func newModules(before, after []string) []string {
	var out []string
	for _, m := range slices.Backward(after) {
		if !slices.Contains(before, m) {
			out = append(out, m)
		}
	}
	return out
}

// unwrapErrno keeps the errno of a *PathError so it is reported as one.
func unwrapErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

func (a *Agent) observe(res *protocol.StepResult) {
	st := res.Step
	res.TaintAfter = a.Sys.Taint()
	if st.Module != "" {
		res.ProcModules, res.ProcModulesExists = a.Sys.ProcModules(st.Module)
		res.SysModule, res.Sysfs = a.Sys.SysModule(st.Module, st.Sysfs)
	} else {
		_, res.ProcModulesExists = a.Sys.ProcModules("")
	}
	res.Kallsyms = a.Sys.Kallsyms(st.Kallsyms)
	res.Files = a.Sys.Files(st.Files)
	res.Kmsg = a.Kmsg.ReadAvailable()
	res.KmsgSeqEnd = a.Kmsg.Next()
}

func (a *Agent) emit(e protocol.Event) error {
	e.UptimeMS = uptimeMS()
	return a.Events.Emit(e)
}

func uptimeMS() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return ts.Nano() / 1e6
}

// errnoName gives the symbolic name of an errno ("EAGAIN"), as the
// expectations spell it: package kernel's errno table, which its tests
// check against unix.ErrnoName.
func errnoName(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	if name := kernel.ErrnoName(int(errno)); name != "" {
		return name
	}
	return fmt.Sprintf("errno %d", int(errno))
}

// moduleFile is the file a load step loads.
func (a *Agent) moduleFile(st protocol.Step) string {
	if st.File == "" {
		return filepath.Join(a.ModuleDir, st.Module+".ko")
	}
	return filepath.Join(a.ModuleDir, st.File)
}

// The protocol's flag words, as the syscalls take them.
var (
	loadFlags = map[string]uintptr{
		protocol.FlagIgnoreModversions: unix.MODULE_INIT_IGNORE_MODVERSIONS,
		protocol.FlagIgnoreVermagic:    unix.MODULE_INIT_IGNORE_VERMAGIC,
		protocol.FlagCompressedFile:    unix.MODULE_INIT_COMPRESSED_FILE,
	}
	unloadFlags = map[string]uintptr{
		protocol.FlagForce:    unix.O_TRUNC,
		protocol.FlagNonBlock: unix.O_NONBLOCK,
	}
)

func syscallFlags(st protocol.Step, words map[string]uintptr) (uintptr, error) {
	var flags uintptr
	for _, fl := range st.Flags {
		v, ok := words[fl]
		if !ok {
			return 0, fmt.Errorf("unknown %s flag %q", st.Action, fl)
		}
		flags |= v
	}
	return flags, nil
}

// finitModule loads the module file as insmod does: finit_module(2), so
// the kernel reads the file and sees the flags. u-root's kmodule.FileInit
// (v0.16.0) passes every .ko through init_module(2) instead, dropping the
// flags: a forced load there is an unforced one. init_module(2) remains
// for a kernel without finit_module, where no flag can be passed anyway.
func finitModule(f *os.File, params string, flags uintptr) error {
	err := unix.FinitModule(int(f.Fd()), params, int(flags))
	if err != unix.ENOSYS || flags != 0 {
		return err
	}
	img, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	return kmodule.Init(img, params)
}
