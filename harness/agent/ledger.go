package agent

import (
	"bufio"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// inventory is what a module could leave behind in the kernel, as the
// guest lists it (protocol.ResourceKinds): names only. Reading an entry a
// module made can run the module's code, freed once it is gone, so the
// inventory lists directories and reads only the kernel's own lists.
type inventory map[protocol.Resource]bool

func (inv inventory) add(kind, name string) { inv[protocol.Resource{Kind: kind, Name: name}] = true }

// minus is what inv lists that base does not, sorted.
func (inv inventory) minus(base inventory) []protocol.Resource {
	var out []protocol.Resource
	for r := range inv {
		if !base[r] {
			out = append(out, r)
		}
	}
	sortResources(out)
	return out
}

// Inventory lists what module could leave behind: the kernel-wide lists,
// plus module's own /sys/module entry and symbols.
func (s System) Inventory(module string) inventory {
	inv := inventory{}
	s.walk("/proc", 3, skipProc, func(p string) { inv.add("proc", p) })
	// /proc/net is a link to the reader's namespace, /proc/self/net.
	s.walk("/proc/self/net", 1, nil, func(p string) { inv.add("proc", "/proc/net"+strings.TrimPrefix(p, "/proc/self/net")) })
	s.grandchildren("/sys/class", "", func(p string) { inv.add("class", p) })
	s.grandchildren("/sys/bus", "drivers", func(p string) { inv.add("driver", p) })
	s.walk("/sys/kernel", 1, nil, func(p string) { inv.add("kobject", p) })
	s.walk("/sys/kernel/debug", 1, nil, func(p string) { inv.add("debugfs", p) })
	s.walk("/dev", 3, skipDev, func(p string) { inv.add("dev", p) })
	s.majors(inv)
	s.kthreads(inv)
	s.interrupts(inv)
	s.slabs(inv)
	if module != "" {
		if dir := "/sys/module/" + module; s.exists(dir) {
			inv.add("module", dir)
			// /proc/kallsyms lists the symbols of the modules the kernel
			// still lists, so they are read only while /sys/module/NAME
			// lingers; once a module is gone this finds none.
			for _, sym := range s.moduleSymbols(module) {
				inv.add("kallsyms", sym+" ["+module+"]")
			}
		}
	}
	// Last, the lists whose entries live in a module's memory: after a
	// leak, reading them faults on freed memory, which kills this thread
	// (the step's own) and so is the step's oops, with everything above
	// already listed. /proc/misc is such a list too; misc devices show in
	// /sys/class/misc instead.
	s.walk("/proc/sys", 8, nil, func(p string) { inv.add("sysctl", p) })
	s.lines("/proc/filesystems", func(line string) {
		if f := strings.Fields(line); len(f) > 0 {
			inv.add("filesystem", f[len(f)-1])
		}
	})
	return inv
}

func (s System) exists(p string) bool {
	_, err := os.Lstat(s.path(p))
	return err == nil
}

// walk calls fn with every entry under dir (not dir itself) down to depth
// levels, not following links, leaving out what skip says.
func (s System) walk(dir string, depth int, skip func(p string, d fs.DirEntry) bool, fn func(p string)) {
	f, err := os.Open(s.path(dir))
	if err != nil {
		return
	}
	// Unsorted: the inventory is a set.
	entries, _ := f.ReadDir(-1)
	f.Close()
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		if skip != nil && skip(p, e) {
			continue
		}
		fn(p)
		if depth > 1 && e.IsDir() {
			s.walk(p, depth-1, skip, fn)
		}
	}
}

// grandchildren lists dir/*/sub/* (dir/*/* when sub is "").
func (s System) grandchildren(dir, sub string, fn func(p string)) {
	s.walk(dir, 1, nil, func(p string) {
		s.walk(path.Join(p, sub), 1, nil, fn)
	})
}

// skipProc leaves out processes (and so their threads' churn), the
// links to the reader's own, and /proc/sys, listed as its own kind.
func skipProc(p string, _ fs.DirEntry) bool {
	switch p {
	case "/proc/self", "/proc/thread-self", "/proc/sys", "/proc/net", "/proc/kmsg":
		return true
	}
	dir, name := path.Split(p)
	_, err := strconv.Atoi(name)
	return dir == "/proc/" && err == nil
}

// skipDev leaves out what userspace makes: terminals of sessions, shared
// memory, message queues.
func skipDev(p string, _ fs.DirEntry) bool {
	switch path.Dir(p) {
	case "/dev/pts", "/dev/shm", "/dev/mqueue":
		return true
	}
	return false
}

// lines calls fn with each line of a kernel list.
func (s System) lines(file string, fn func(line string)) {
	f, err := os.Open(s.path(file))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
}

// majors lists /proc/devices: "Character devices:", then "Block
// devices:", each a list of "MAJOR NAME". The names are the kernel's
// copies, safe to read after the module is gone.
func (s System) majors(inv inventory) {
	kind := ""
	s.lines("/proc/devices", func(line string) {
		switch {
		case strings.HasPrefix(line, "Character"):
			kind = "chrdev"
		case strings.HasPrefix(line, "Block"):
			kind = "blkdev"
		case strings.TrimSpace(line) != "" && kind != "":
			inv.add(kind, strings.Join(strings.Fields(line), " "))
		}
	})
}

// pfKthread is PF_KTHREAD, the flags bit of a kernel thread.
const pfKthread = 0x00200000

// kthreads lists kernel threads by name, from /proc/PID/stat. Kworkers
// come and go with the work queued: they are the kernel's churn; a
// workqueue's rescuer ("kworker/R-NAME") lives as long as its queue.
func (s System) kthreads(inv inventory) {
	s.walk("/proc", 1, nil, func(p string) {
		if _, err := strconv.Atoi(path.Base(p)); err != nil {
			return
		}
		b, err := os.ReadFile(s.path(p + "/stat"))
		if err != nil {
			return
		}
		// "PID (COMM) STATE PPID PGRP SESSION TTY TPGID FLAGS …"; COMM may
		// hold spaces and parentheses, so it ends at the last ')'.
		st := string(b)
		open, end := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
		if open < 0 || end < open {
			return
		}
		comm := st[open+1 : end]
		f := strings.Fields(st[end+1:])
		if len(f) < 7 {
			return
		}
		flags, _ := strconv.ParseUint(f[6], 10, 64)
		if flags&pfKthread != 0 && (!strings.HasPrefix(comm, "kworker/") || strings.HasPrefix(comm, "kworker/R-")) {
			inv.add("kthread", comm)
		}
	})
}

// interrupts lists the numbered lines of /proc/interrupts by number, chip
// and handler names, without the counts.
func (s System) interrupts(inv inventory) {
	cpus := -1
	s.lines("/proc/interrupts", func(line string) {
		f := strings.Fields(line)
		if cpus < 0 {
			cpus = len(f) // the header: CPU0 CPU1 …
			return
		}
		if len(f) == 0 || len(f) <= 1+cpus {
			return
		}
		if _, err := strconv.Atoi(strings.TrimSuffix(f[0], ":")); err != nil {
			return // NMI:, LOC:, … are the kernel's counters
		}
		inv.add("irq", f[0]+" "+strings.Join(f[1+cpus:], " "))
	})
}

// slabs lists /proc/slabinfo's caches (where SLUB_DEBUG made it). A cache
// merged into another shows only as an alias in /sys/kernel/slab, which
// SLUB may keep after the cache is destroyed, so those are not listed.
func (s System) slabs(inv inventory) {
	n := 0
	s.lines("/proc/slabinfo", func(line string) {
		if n++; n <= 2 { // "slabinfo - version: 2.1" and the column names
			return
		}
		if f := strings.Fields(line); len(f) > 0 {
			inv.add("slab", f[0])
		}
	})
}

// moduleSymbols are the symbols /proc/kallsyms gives module.
func (s System) moduleSymbols(module string) []string {
	var out []string
	tag := "[" + module + "]"
	s.lines("/proc/kallsyms", func(line string) {
		if f := strings.Fields(line); len(f) >= 4 && f[3] == tag {
			out = append(out, f[2])
		}
	})
	return out
}

func sortResources(rs []protocol.Resource) {
	slices.SortFunc(rs, func(a, b protocol.Resource) int { return strings.Compare(a.String(), b.String()) })
}

// ledgerStep is the ledger's part in one step, decided before it runs
// and done in the step's own thread (see runWatched).
type ledgerStep struct {
	module string
	action protocol.Action
	// baseline: list before the step (a load of a module not loaded).
	baseline bool
	// base is the baseline to compare with after the step, from step
	// since (for a load, its own).
	base  inventory
	since int
	// later are the baselines of the modules loaded after this one and
	// still loaded: what is in none of them appeared while one of those
	// was loaded, and may be that module's, so it is not this one's
	// leftover (load a; load b; unload a must not blame a for b's
	// entries). Something a left behind after b's load is missed while b
	// is loaded.
	later []inventory
	// settle is the wait after an unload or failed load.
	settle time.Duration
	// phase is where the step's thread is (phaseAct, phaseSettle,
	// phaseList), read by the oops watch: a thread asleep in the settle
	// window has not died in an oops printed meanwhile.
	phase atomic.Int32

	taken inventory // the baseline this step took
	res   protocol.Ledger
}

const (
	phaseAct int32 = iota
	phaseSettle
	phaseList
)

// settling tells whether the step's thread is in its settle window.
func (l *ledgerStep) settling() bool { return l != nil && l.phase.Load() == phaseSettle }

// before takes the baseline.
func (l *ledgerStep) before(s System) {
	if l == nil || !l.baseline {
		return
	}
	start := time.Now()
	l.taken = s.Inventory(l.module)
	l.res.Baseline, l.res.Entries = true, len(l.taken)
	l.res.CostUS += time.Since(start).Microseconds()
	if l.base == nil {
		l.base = l.taken
	}
}

// after waits for the module's delayed work to fire, then compares what
// the kernel lists with the baseline, once the module is gone: unloaded,
// or its load failed. A load refused while the module is loaded (EEXIST),
// or an unload refused, leaves nothing to compare or wait for.
func (l *ledgerStep) after(s System, actErr error) {
	if l == nil {
		return
	}
	gone := actErr == nil
	if l.action == protocol.ActionLoad {
		gone = actErr != nil
	}
	if line, _ := s.ProcModules(l.module); line != "" || !gone {
		return
	}
	l.phase.Store(phaseSettle)
	time.Sleep(l.settle)
	l.phase.Store(phaseList)
	l.res.SettleMS = int(l.settle.Milliseconds())
	if l.base == nil {
		return
	}
	start := time.Now()
	inv := s.Inventory(l.module)
	l.res.Compared, l.res.Since, l.res.Entries = true, l.since, len(inv)
	added := inv.minus(l.base)
	for _, later := range l.later {
		added = slices.DeleteFunc(added, func(r protocol.Resource) bool { return !later[r] })
	}
	l.res.Added = added
	l.res.CostUS += time.Since(start).Microseconds()
}

// result is the ledger record for the step's result.
func (l *ledgerStep) result() *protocol.Ledger {
	if l == nil || !l.res.Baseline && !l.res.Compared {
		return nil
	}
	r := l.res
	r.Module = l.module
	if !r.Compared {
		r.Since = -1
	}
	return &r
}
