package kreport

import "regexp"

// endRule says how a report ends (besides "---[ end trace … ]---", which
// ends any report, and the start of the next report).
type endRule int

const (
	// endAtMarker: the report runs to "---[ end trace … ]---"; a log that
	// ends first truncated it.
	endAtMarker endRule = iota
	// endAfterTrace: the report is a message plus a stack dump and ends
	// with the dump ("</TASK>", or the first line that is not a frame).
	endAfterTrace
	// endAtClosing: the report ends at its pattern's closing line.
	endAtClosing
	// endTerminal: the kernel stops here (panic); the report runs to panic's
	// end marker, a reboot line or the end of the log, and is never
	// truncated.
	endTerminal
)

// pattern is one recogniser: a report starts at a line matching start.
type pattern struct {
	kind  Kind
	start *regexp.Regexp
	// template is the title: ${N} are start's groups, {func} the report's
	// function, {detail} the first group of detail in a later line.
	template string
	// signature, when set, is the template without what differs between
	// two runs of the same bug (Report.Signature).
	signature string
	// funcGroup is a group of start holding a %pS symbol that names the
	// function ({func}) when it is symbolized.
	funcGroup int
	// moduleGroup is a group of start holding a module name.
	moduleGroup int
	detail      *regexp.Regexp
	end         endRule
	closing     *regexp.Regexp // endAtClosing
	// awaitsDie: the die header ("Oops: 0000 [#1]") the kernel prints next
	// belongs to this report rather than starting one.
	awaitsDie bool
	// dieHeader: start is a die header, absorbed by a report awaiting one.
	dieHeader bool
	// skip are the frames that do not name the report, on top of
	// uninteresting.
	skip *frameSet
	// pick chooses {func} among the frames of the report's first stack
	// dump; nil is firstUseful.
	pick func(frames []frame, skip *frameSet) string
}

// patterns in priority order: a line starts the report of the first
// pattern it matches. Regexps see the line without its timestamp.
var patterns = []pattern{{
	kind:      KindNullDeref,
	start:     regexp.MustCompile(`^BUG: kernel NULL pointer dereference`),
	template:  "BUG: kernel NULL pointer dereference in {func}",
	end:       endAtMarker,
	awaitsDie: true,
}, {
	kind:      KindOops,
	start:     regexp.MustCompile(`^BUG: unable to handle page fault`),
	template:  "BUG: unable to handle page fault in {func}",
	end:       endAtMarker,
	awaitsDie: true,
}, {
	kind:      KindKASAN,
	start:     regexp.MustCompile(`^BUG: KASAN: ([a-z0-9-]+) in (\S+)`),
	template:  "KASAN: ${1} {detail} in {func}",
	funcGroup: 2,
	detail:    regexp.MustCompile(`^(Read|Write) (?:of size \d+ )?at addr`),
	end:       endAtClosing,
	closing:   regexp.MustCompile(`^={20,}$`),
}, {
	kind:      KindBUG,
	start:     regexp.MustCompile(`^kernel BUG at (\S+):(\d+)!`),
	template:  "kernel BUG in {func}",
	end:       endAtMarker,
	awaitsDie: true,
}, {
	// 6.12: "Oops: general protection fault, probably for non-canonical
	// address 0x…: 0000 [#1]"; 6.1 has no "Oops: ".
	kind:      KindGPF,
	start:     regexp.MustCompile(`^(?:Oops: )?general protection fault`),
	template:  "general protection fault in {func}",
	end:       endAtMarker,
	dieHeader: true,
}, {
	// A die header of its own: 6.12 "Oops: Oops: 0000 [#1]", 6.1
	// "Oops: 0000 [#1]".
	kind:      KindOops,
	start:     regexp.MustCompile(`^Oops: (?:Oops: )?[0-9a-f]{4} \[#\d+\]`),
	template:  "Oops in {func}",
	end:       endAtMarker,
	dieHeader: true,
}, {
	// "Oops: invalid opcode: 0000 [#1]" (6.12), "invalid opcode: 0000 [#1]" (6.1).
	kind:      KindOops,
	start:     regexp.MustCompile(`^(?:Oops: )?([a-z][a-z -]*): [0-9a-f]{4} \[#\d+\]`),
	template:  "Oops: ${1} in {func}",
	end:       endAtMarker,
	dieHeader: true,
}, {
	kind:      KindWarning,
	start:     regexp.MustCompile(`^WARNING: CPU: \d+ PID: \d+ at (?:\S+:\d+ )?(\S+)`),
	template:  "WARNING in {func}",
	end:       endAtMarker,
	funcGroup: 1,
}, {
	// lockdep and friends: "WARNING: possible circular locking dependency
	// detected", followed by a stack dump.
	kind:     KindWarning,
	start:    regexp.MustCompile(`^WARNING: ([a-z].*?)\s*$`),
	template: "WARNING: ${1}",
	end:      endAfterTrace,
}, {
	// kmemleak, from /sys/kernel/debug/kmemleak or (kmemleak.verbose=1) the
	// console, where each line carries "kmemleak: " (normalize drops it).
	kind:     KindLeak,
	start:    regexp.MustCompile(`^unreferenced object 0x[0-9a-f]+ \(size \d+\):`),
	template: "memory leak in {func}",
	end:      endAfterTrace,
	skip:     allocator,
	pick:     leakFrame,
}, {
	kind:     KindPanic,
	start:    regexp.MustCompile(`^Kernel panic - not syncing: (.*?)\s*$`),
	template: "kernel panic: ${1}",
	end:      endTerminal,
}, {
	kind:     KindHang,
	start:    regexp.MustCompile(`^INFO: task (\S+):(\d+) blocked for more than (\d+) seconds`),
	template: "task hung in {func}",
	end:      endAfterTrace,
	skip:     sleeping,
}, {
	kind:     KindHang,
	start:    regexp.MustCompile(`^watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s!`),
	template: "BUG: soft lockup in {func}",
	end:      endAfterTrace,
}, {
	// The OOM killer's dump: the allocation that failed, its stack, the
	// memory state and the process killed (the console shows that line at
	// the default loglevel; the oom-kill: summary before it only in kmsg).
	kind:     KindOOM,
	start:    regexp.MustCompile(`^(\S+) invoked oom-killer: `),
	template: "out of memory in {func}, killed {detail}",
	// The allocation that meets the limit is whichever comes next: the
	// module's loop, or another thread's page fault (captured).
	signature: "out of memory, killed {detail}",
	detail:    regexp.MustCompile(`^Out of memory(?: \(oom_kill_allocating_task\))?: Killed process \d+ \((.+?)\)`),
	end:       endAtClosing,
	closing:   regexp.MustCompile(`^Out of memory(?: \(oom_kill_allocating_task\))?: Killed process `),
	skip:      oomKiller,
}, {
	kind:        KindInitReturn,
	start:       regexp.MustCompile(`^do_init_module: '([^']+)'->init suspiciously returned (-?\d+), it should follow 0/-E convention`),
	template:    "init returned ${2} in ${1}",
	moduleGroup: 1,
	end:         endAfterTrace,
}, {
	// Any other "BUG: …" line ("scheduling while atomic", "sleeping
	// function called from invalid context", "Bad page state"): a message
	// and a stack dump.
	kind:     KindBUG,
	start:    regexp.MustCompile(`^BUG: (.+?)(?:[:,!\[]| in | at |$)`),
	template: "BUG: ${1} in {func}",
	end:      endAfterTrace,
}}
