// Package kinds is the one list of kernel report kinds: their names as
// scenarios and results spell them, which of them kill the task that hit
// them, which are benign, and the text that starts the reports that may
// kill. Package kreport classifies console logs and kmsg into these kinds;
// the guest agent and the VM's stall watch only need the markers, so this
// package imports nothing but strings (no regexp), keeping the agent small.
package kinds

import "strings"

// Kind is the class of a kernel report.
type Kind string

// Report kinds.
const (
	Warning Kind = "WARNING" // WARN*(): "WARNING: CPU: N PID: N at FILE:LINE FUNC"
	BUG     Kind = "BUG"     // BUG(), "kernel BUG at", other "BUG: …" lines
	Oops    Kind = "OOPS"    // page fault or bare "Oops:" die
	GPF     Kind = "GPF"     // general protection fault
	KASAN   Kind = "KASAN"   // "BUG: KASAN: …"
	Leak    Kind = "LEAK"    // kmemleak "unreferenced object"
	Panic   Kind = "PANIC"   // "Kernel panic - not syncing: …"
	Hang    Kind = "HANG"    // hung task, soft lockup
	// OOM is the OOM killer's report: "COMM invoked oom-killer: …" to
	// "Out of memory: Killed process N (COMM)". It kills a task of its
	// choosing, not always the one that hit it; but in this guest the only
	// one it may choose is the agent (init is exempt), whose step then
	// never returns: a crash.
	OOM        Kind = "OOM"
	InitReturn Kind = "INIT_RETURN" // do_init_module: init suspiciously returned N (benign)
	NullDeref  Kind = "NULL_DEREF"  // "BUG: kernel NULL pointer dereference"
	// Leftover is not printed by the kernel: the agent's resource ledger
	// found something a module registered still there after its unload
	// or failed init (a /proc entry, a device, a kthread).
	Leftover Kind = "LEFTOVER"
)

// kind is one row of the table.
type kind struct {
	Kind
	// crash: the report kills the task that hit it, and may take the
	// kernel with it.
	crash bool
	// benign: documented behaviour, which a scenario may cause without
	// saying so and which leaves the kernel as clean as it was.
	benign bool
	// unlogged: the kernel prints nothing for it; the harness finds it.
	unlogged bool
}

// table is every kind, in the order errors list them.
var table = []kind{
	{Kind: Warning},
	{Kind: BUG, crash: true},
	{Kind: Oops, crash: true},
	{Kind: NullDeref, crash: true},
	{Kind: GPF, crash: true},
	{Kind: KASAN},
	{Kind: Leak},
	{Kind: Panic, crash: true},
	{Kind: Hang},
	{Kind: OOM, crash: true},
	{Kind: InitReturn, benign: true},
	{Kind: Leftover, unlogged: true},
}

// All lists every kind, in the order errors list them.
func All() []Kind {
	out := make([]Kind, len(table))
	for i, k := range table {
		out[i] = k.Kind
	}
	return out
}

// Logged lists the kinds the kernel prints (all but Leftover), in table
// order: the ones package kreport finds in a log.
func Logged() []Kind {
	var out []Kind
	for _, k := range table {
		if !k.unlogged {
			out = append(out, k.Kind)
		}
	}
	return out
}

// Crashes lists the kinds that kill the task that hit them, in table order.
func Crashes() []Kind {
	var out []Kind
	for _, k := range table {
		if k.crash {
			out = append(out, k.Kind)
		}
	}
	return out
}

func (k Kind) row() (kind, bool) {
	for _, r := range table {
		if r.Kind == k {
			return r, true
		}
	}
	return kind{}, false
}

// Known tells whether k is one of the kinds.
func (k Kind) Known() bool {
	_, ok := k.row()
	return ok
}

// Crash tells whether a report of kind k kills the task that hit it (and
// may take the kernel with it): the step that printed it never returns.
func (k Kind) Crash() bool {
	r, _ := k.row()
	return r.crash
}

// Benign tells whether a report of kind k is documented behaviour that a
// scenario may cause without expecting it (the loader's warning about a
// positive init return), and that leaves the kernel clean.
func (k Kind) Benign() bool {
	r, _ := k.row()
	return r.benign
}

// PanicMarker starts the line panic() prints: "Kernel panic - not syncing: …".
const PanicMarker = "Kernel panic"

// CrashMarkers start the first line of the reports that may kill the task
// that hit them: "BUG: …" (page faults, NULL dereferences, and other BUG:
// lines), BUG()'s "kernel BUG at FILE:LINE!" (on 6.1 die() follows it
// with a bare "invalid opcode: 0000 [#1]", which no other marker starts),
// die()'s "Oops: …" header, 6.1's bare "general protection fault",
// panic() and the OOM killer's last line ("Out of memory: Killed process"). They are a cheap watch for code that cannot classify (the
// agent polling kmsg while a step runs, the VM watching its console), not
// a classifier: a marker also starts some reports that do not kill
// ("BUG: KASAN: …"), and only says to watch whether the task comes back.
// kreport's tests check them against its classification of real logs.
var CrashMarkers = []string{"BUG: ", "kernel BUG at ", "Oops: ", "general protection fault", PanicMarker, "Out of memory"}

// StartsCrash tells whether line (a kmsg record's text, or a console line
// without its timestamp) begins with one of the CrashMarkers.
func StartsCrash(line string) bool {
	for _, m := range CrashMarkers {
		if strings.HasPrefix(line, m) {
			return true
		}
	}
	return false
}

// Panicked tells whether console text (a log, or its last lines) shows
// the kernel panicking: panic()'s line anywhere in it, timestamps or not.
func Panicked(console string) bool {
	return strings.Contains(console, PanicMarker)
}
