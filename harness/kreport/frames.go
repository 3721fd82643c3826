package kreport

import (
	"regexp"
	"strings"
)

// frame is one line of a stack dump.
type frame struct {
	name       string // function, "" for a bare address (code of an unloaded module)
	unreliable bool   // printed with "? "
}

var (
	// frameRe is a stack dump line: " ? func+0x1/0x2 [mod]", "    0xffffffffa000601a",
	// 6.1 kmemleak's "    [<0000000012345678>] func+0x1/0x2" (or, with
	// hashed pointers unavailable early, "[<(____ptrval____)>]").
	frameRe = regexp.MustCompile(`^\s+(\? )?(?:\[<(?:[0-9a-f]+|\(____ptrval____\))>\] )?(\? )?([A-Za-z0-9_.$]+\+0x[0-9a-f]+/0x[0-9a-f]+|0x[0-9a-f]+)(?: \[[A-Za-z0-9_]+(?: [0-9a-f]+)?\])?\s*$`)
	// traceHeaderRe opens a stack dump (kmemleak: "  backtrace (crc 1a2b):").
	traceHeaderRe = regexp.MustCompile(`^\s*(Call Trace|Call trace|backtrace(?: \(crc [0-9a-f]+\))?):\s*$`)
	traceOpenRe   = regexp.MustCompile(`^\s*<[A-Z#]+>\s*$`)
	traceCloseRe  = regexp.MustCompile(`^\s*</([A-Z#]+)>\s*$`)
	ripRe         = regexp.MustCompile(`^RIP: [0-9a-f]{4}:(\S+)`)
	symbolRe      = regexp.MustCompile(`^([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+`)
)

func parseFrame(s string) (frame, bool) {
	m := frameRe.FindStringSubmatch(s)
	if m == nil {
		return frame{}, false
	}
	return frame{name: symbolName(m[3]), unreliable: m[1] != "" || m[2] != ""}, true
}

// symbolName is the function of a %pS symbol ("filp_flush+0xc/0x2b" →
// "filp_flush") without compiler suffixes (".constprop.0", ".isra.0",
// ".cold"); "" for a bare address.
func symbolName(sym string) string {
	m := symbolRe.FindStringSubmatch(sym)
	if m == nil {
		return ""
	}
	name, _, _ := strings.Cut(m[1], ".")
	return name
}

// traceState follows the first stack dump of a report, line by line.
type traceState struct {
	started bool // header seen
	frames  []frame
	open    int  // depth of <TASK>, <IRQ>, … sections
	done    bool // the dump is over
}

// feed takes the next line of the report and says whether it is part of
// the stack dump; done is set on the line that ends it ("</TASK>",
// which belongs, or the first line after the frames, which does not).
func (t *traceState) feed(s string) bool {
	switch {
	case t.done:
		return false
	case !t.started:
		t.started = traceHeaderRe.MatchString(s)
		return t.started
	case traceOpenRe.MatchString(s):
		t.open++
		return true
	case traceCloseRe.MatchString(s):
		t.open--
		// x86 prints the task's stack last; <IRQ> and <NMI> come before it.
		t.done = traceCloseRe.FindStringSubmatch(s)[1] == "TASK"
		return true
	}
	if f, ok := parseFrame(s); ok {
		t.frames = append(t.frames, f)
		return true
	}
	if t.open > 0 || len(t.frames) == 0 {
		// Registers of the user context inside <TASK>, or noise between
		// the header and the first frame.
		return true
	}
	t.done = true
	return false
}

// complete says whether the dump was whole when the log ended: over, or
// frames outside any <TASK> section (kmemleak's backtrace ends the file).
func (t *traceState) complete() bool {
	return t.done || t.started && t.open == 0 && len(t.frames) > 0
}

// reportFunc is the function a report is about: the kernel RIP, else the
// pattern's pick among the frames of the first stack dump.
func (p *pattern) reportFunc(texts []string) string {
	var tr traceState
	for _, s := range texts[1:] {
		if m := ripRe.FindStringSubmatch(s); m != nil && !tr.started {
			if name := symbolName(m[1]); name != "" && !skipped(name, p.skip) {
				return name
			}
		}
		tr.feed(s)
		if tr.done {
			break
		}
	}
	pick := p.pick
	if pick == nil {
		pick = firstUseful
	}
	return pick(tr.frames, p.skip)
}

// firstUseful is the first symbolized frame not skipped, reliable frames
// first (tinyconfig's guess unwinder marks every frame "? ").
func firstUseful(frames []frame, skip *frameSet) string {
	for _, unreliable := range []bool{false, true} {
		for _, f := range frames {
			if f.unreliable == unreliable && f.name != "" && !skipped(f.name, skip) {
				return f.name
			}
		}
	}
	return ""
}

// leakFrame is the allocation's caller: the first frame past kmemleak and
// the allocator. When that caller is a bare address (its module is gone),
// the allocator entry it called ("kmalloc_trace") names the leak instead.
func leakFrame(frames []frame, skip *frameSet) string {
	last := ""
	for _, f := range frames {
		switch {
		case f.name == "":
			return last
		case skipped(f.name, skip):
			last = f.name
		default:
			return f.name
		}
	}
	return last
}

// frameSet matches function names exactly or by prefix.
type frameSet struct {
	exact    map[string]bool
	prefixes []string
}

func newFrameSet(exact []string, prefixes ...string) *frameSet {
	s := &frameSet{exact: map[string]bool{}, prefixes: prefixes}
	for _, e := range exact {
		s.exact[e] = true
	}
	return s
}

func (s *frameSet) has(name string) bool {
	if s == nil {
		return false
	}
	if s.exact[name] {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func skipped(name string, extra *frameSet) bool {
	return uninteresting.has(name) || extra.has(name)
}

// uninteresting frames never name a report: stack dumping, WARN/BUG/oops
// machinery, KASAN's reporting, printk.
var uninteresting = newFrameSet([]string{
	"dump_stack", "dump_stack_lvl", "show_stack", "show_trace_log_lvl",
	"show_regs", "__show_regs", "show_regs_print_info", "panic",
	"__warn", "warn_slowpath_fmt", "warn_slowpath_null", "report_bug",
	"handle_bug", "die", "__die", "__die_body", "die_addr", "oops_end",
	"do_trap", "do_error_trap", "fixup_exception", "page_fault_oops",
	"kernelmode_fixup_or_oops", "bad_area_nosemaphore",
	"__bad_area_nosemaphore", "do_user_addr_fault", "do_kern_addr_fault",
	"handle_page_fault", "print_report", "print_address_description",
	"check_region_inline", "__schedule_bug", "__might_sleep",
	"__might_resched", "___might_sleep", "__might_fault", "print_modules",
	"printk", "_printk", "vprintk", "vprintk_emit", "vprintk_default",
	"check_panic_on_warn",
}, "exc_", "asm_exc_", "__pfx_", "kasan_", "__kasan_", "__asan_", "__ubsan_", "ubsan_")

// allocator frames of a kmemleak backtrace.
var allocator = newFrameSet(nil,
	"kmemleak_", "__kmalloc", "kmalloc", "kmem_cache_alloc", "__kmem_cache_alloc",
	"slab_post_alloc_hook", "slab_alloc", "__slab_alloc", "___slab_alloc",
	"kzalloc", "kcalloc", "krealloc", "__krealloc", "kvmalloc", "__kvmalloc",
	"kvzalloc", "vmalloc", "__vmalloc", "vzalloc", "alloc_pages", "__alloc_pages",
	"kstrdup", "kmemdup", "pcpu_alloc", "__alloc_percpu", "alloc_percpu")

// oomKiller frames: the OOM killer and the page and folio allocators
// that called it, below the function that allocated (a user page fault
// allocates through vma_alloc_folio).
var oomKiller = newFrameSet([]string{"dump_header", "oom_kill_process", "out_of_memory"},
	"__alloc_pages", "alloc_pages", "__alloc_pages_slowpath", "alloc_page", "__get_free_pages",
	"__folio_alloc", "folio_alloc", "vma_alloc_folio", "alloc_anon_folio",
	"__kmalloc", "kmalloc", "kmem_cache_alloc", "vmalloc", "__vmalloc", "kvmalloc")

// sleeping frames of a blocked task: the scheduler and the primitive it
// sleeps in, below the function that waits.
var sleeping = newFrameSet([]string{"schedule", "__schedule", "io_schedule"},
	"schedule_", "io_schedule_", "__mutex_lock", "mutex_lock", "__down", "down_",
	"rwsem_down", "__rwsem", "wait_for_completion", "__wait_for_common",
	"do_wait_for_common", "wait_woken", "msleep", "usleep_range",
	"schedule_hrtimeout", "__flush_work", "flush_work", "rt_mutex", "__rt_mutex",
	"percpu_down", "__percpu_down")

var (
	// frameModuleRe is the module of a symbol: "func+0x1/0x2 [name]" (with
	// CONFIG_STACKTRACE_BUILD_ID, "[name buildid]").
	frameModuleRe  = regexp.MustCompile(`\+0x[0-9a-f]+/0x[0-9a-f]+ \[([A-Za-z0-9_]+)(?: [0-9a-f]+)?\]`)
	linkedInRe     = regexp.MustCompile(`^(?:Modules linked in|Unloaded tainted modules):(.*)$`)
	lastUnloadedRe = regexp.MustCompile(`\[last unloaded: ([A-Za-z0-9_]+)(?:\([^)]*\))?\]`)
	// moduleTokenRe is "name", "name(O+)" or, for unloaded tainted
	// modules, "name(O):1".
	moduleTokenRe = regexp.MustCompile(`^([A-Za-z0-9_]+)(?:\([A-Z+\-]*\))?(?::\d+)?$`)
)

// modules lists the module names the report's lines mention.
func modules(first, texts []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, n := range first {
		add(n)
	}
	for _, s := range texts {
		if m := linkedInRe.FindStringSubmatch(s); m != nil {
			for _, tok := range strings.Fields(lastUnloadedRe.ReplaceAllString(m[1], "")) {
				if tm := moduleTokenRe.FindStringSubmatch(tok); tm != nil {
					add(tm[1])
				}
			}
			for _, lm := range lastUnloadedRe.FindAllStringSubmatch(m[1], -1) {
				add(lm[1])
			}
			continue
		}
		for _, fm := range frameModuleRe.FindAllStringSubmatch(s, -1) {
			add(fm[1])
		}
	}
	return out
}
