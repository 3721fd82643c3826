// Package protocol is the contract between the host and the guest agent: the
// run plan the host packs into the initramfs, and the events the agent streams
// back over virtio-serial. It has no dependencies so the agent stays small.
package protocol

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ModuleDir is where the scenario's .ko files live inside the guest (the
// ko/ of WorkDir).
const ModuleDir = "/modmatrix/ko"

// ModprobePath is kmod's modprobe in the guest image: CONFIG_MODPROBE_PATH's
// default, which the kernel's request_module runs as "modprobe -q -- NAME".
const ModprobePath = "/sbin/modprobe"

// BootModuleDir holds, in a distribution kernel's image, the modules the
// agent loads (in the order of their names) before it opens its ports:
// the kernel's own modular virtio drivers.
const BootModuleDir = "/lib/modmatrix-boot"

// ModulesDep is depmod's index of the scenario's modules, in ModuleDir
// (beside modules.alias and the rest); where it is there, the agent makes
// /lib/modules/RELEASE point at ModuleDir, as modprobe expects.
const ModulesDep = "modules.dep"

// EventChannel is the virtio-serial port name the agent writes events to.
const EventChannel = "modmatrix"

// ErrCorrupt wraps the host's error for an event line that does not
// parse: the stream lost or changed bytes, and nothing judged from it can
// be trusted (no verdict but a HANG or CRASH the console shows stands).
// ErrTruncated wraps the one for a last line cut short (the guest died
// mid-write): what came before it stands, but a result may be lost, so no
// scenario of that VM passes.
var (
	ErrCorrupt   = errors.New("corrupt event channel")
	ErrTruncated = errors.New("truncated event channel")
)

// Plan is what one boot runs: scenarios in order, each from a clean module state.
type Plan struct {
	Cell      string     `json:"cell"`
	Scenarios []Scenario `json:"scenarios"`
	// SettleMS is how long the agent waits after an unload or a failed
	// load before it takes the ledger's inventory: a module's timers, work
	// and RCU callbacks may still fire then, and an oops they cause
	// belongs to that step. Guest time: under icount an idle wait costs
	// the host almost nothing.
	SettleMS int `json:"settle_ms,omitempty"`
}

// Scenario is one scenario's steps as the agent needs them.
type Scenario struct {
	Name  string `json:"name"`
	Steps []Step `json:"steps"`
}

// StepMarker is the line the agent prints to the kernel log (and so the
// console) before step i of a scenario; i = len(steps) marks its clean-up.
func StepMarker(scenario string, i int) string {
	return fmt.Sprintf("modmatrix: %s step %d", scenario, i)
}

// ParseStepMarker reads a console line (timestamp and all) back.
func ParseStepMarker(line string) (scenario string, i int, ok bool) {
	_, rest, found := strings.Cut(line, "modmatrix: ")
	if !found {
		return "", 0, false
	}
	name, num, found := strings.Cut(rest, " step ")
	if !found {
		return "", 0, false
	}
	i, err := strconv.Atoi(strings.TrimSpace(num))
	return name, i, err == nil && name != ""
}

// Action names a step kind.
type Action string

// Step kinds the agent executes.
const (
	ActionLoad   Action = "load"   // finit_module(ko, params)
	ActionUnload Action = "unload" // delete_module(name, flags)
	ActionCheck  Action = "check"  // observe only
	ActionOpen   Action = "open"   // open a path and keep the fd
	ActionClose  Action = "close"  // close an fd opened by ActionOpen
	ActionPause  Action = "pause"  // sleep
	// ActionModprobe runs the guest's modprobe (kmod's) on Module, or
	// modprobe -r with Remove, over the modules.dep that depmod made on
	// the host for the scenario's modules (ModprobePath, ModulesDep).
	ActionModprobe Action = "modprobe"
	ActionWrite    Action = "write" // write Text to Path (a sysctl, a parameter)
	// ActionRepeat runs Loops[0] Count times in the step's own loop;
	// ActionConcurrent runs every loop of Loops at once, each in its own
	// goroutine (see loop.go).
	ActionRepeat     Action = "repeat"
	ActionConcurrent Action = "concurrent"
)

// Unload flags, in the words of delete_module(2), and load flags, in
// those of finit_module(2).
const (
	FlagForce    = "O_TRUNC"    // what rmmod -f passes
	FlagNonBlock = "O_NONBLOCK" // what rmmod always passes

	// modprobe --force passes both.
	FlagIgnoreModversions = "MODULE_INIT_IGNORE_MODVERSIONS"
	FlagIgnoreVermagic    = "MODULE_INIT_IGNORE_VERMAGIC"
	// FlagCompressedFile has the kernel decompress the file itself
	// (MODULE_DECOMPRESS), as kmod does for a .ko.xz the kernel can read.
	FlagCompressedFile = "MODULE_INIT_COMPRESSED_FILE"
)

// Step is one action of a scenario.
type Step struct {
	Action Action `json:"action"`
	// Module is the module name (load: the .ko under ModuleDir is NAME.ko unless File is set).
	Module string   `json:"module,omitempty"`
	File   string   `json:"file,omitempty"`
	Params string   `json:"params,omitempty"`
	Flags  []string `json:"flags,omitempty"`
	// Path is the file for open/close; Sysfs and Kallsyms list what to observe.
	Path     string   `json:"path,omitempty"`
	Sysfs    []string `json:"sysfs,omitempty"`
	Kallsyms []string `json:"kallsyms,omitempty"`
	Files    []string `json:"files,omitempty"`
	PauseMS  int      `json:"pause_ms,omitempty"`
	Remove   bool     `json:"remove,omitempty"` // modprobe -r
	Text     string   `json:"text,omitempty"`   // write
	// TimeoutMS bounds the step in the agent's watchdog (0: agent default).
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// Loops are the inner sequences of a repeat or concurrent step.
	Loops []Loop `json:"loops,omitempty"`
}

// EventKind tells events apart.
type EventKind string

// Event kinds, in the order a boot emits them.
const (
	EventReady        EventKind = "ready"         // agent up, waiting for work: the boot's kmsg
	EventBoot         EventKind = "boot"          // agent got its work
	EventStepStart    EventKind = "step_start"    // before a step runs
	EventStep         EventKind = "step"          // a step's observations
	EventScenarioEnd  EventKind = "scenario_end"  // a scenario finished, with clean-up state
	EventEndOfBoot    EventKind = "end_of_boot"   // the agent stops this boot
	EventAgentFailure EventKind = "agent_failure" // the agent could not do its job
	EventKmemleak     EventKind = "kmemleak"      // a kmemleak scan's report, once per boot
	EventIteration    EventKind = "iteration"     // one iteration of a repeat or concurrent step
)

// Event is one JSON line on the event channel.
type Event struct {
	Kind     EventKind `json:"kind"`
	Scenario string    `json:"scenario,omitempty"`
	// StepIndex is the 0-based index of the step in its scenario.
	StepIndex int         `json:"step_index"`
	Boot      *BootInfo   `json:"boot,omitempty"`
	Step      *StepResult `json:"step,omitempty"`
	// Dirty says why the kernel is no longer clean after a scenario ("" when clean).
	Dirty string `json:"dirty,omitempty"`
	// Remaining names scenarios the agent did not run in this boot.
	Remaining []string `json:"remaining,omitempty"`
	Error     string   `json:"error,omitempty"`
	Kmsg      []Kmsg   `json:"kmsg,omitempty"`
	// Kmemleak is the content of /sys/kernel/debug/kmemleak after a scan.
	Kmemleak string `json:"kmemleak,omitempty"`
	// Iteration is one pass of a repeat or concurrent step's loop.
	Iteration *Iteration `json:"iteration,omitempty"`
	// UptimeMS is the guest's CLOCK_BOOTTIME when the event was made.
	UptimeMS int64 `json:"uptime_ms"`
}

// BootInfo describes the guest when the agent is ready and when it starts work.
type BootInfo struct {
	Release string `json:"release"` // uname -r
	Version string `json:"version"` // uname -v
	Taint   uint64 `json:"taint"`
	// KmsgSeq is the sequence number of the next kmsg record.
	KmsgSeq uint64 `json:"kmsg_seq"`
	// Modules are the modules loaded (from /proc/modules).
	Modules []string `json:"modules,omitempty"`
}

// StepResult is everything the agent observed around one step.
type StepResult struct {
	Step Step `json:"step"`
	// Errno is the symbolic name ("" on success), ErrnoNum its number.
	Errno    string `json:"errno"`
	ErrnoNum int    `json:"errno_num"`
	// Error is set when the agent itself failed at the step (not the syscall).
	Error string `json:"error,omitempty"`
	// Stopped names the iteration that stopped a loop step early and why
	// ("iteration 7/200: the kernel oopsed"); a kernel report that stopped
	// it is the kernel's doing, not the agent's, and leaves Error empty.
	Stopped string `json:"stopped,omitempty"`
	// Hung is set when the step overran its timeout in the agent's watchdog;
	// Died when it never returned because the kernel oopsed in its thread.
	Hung        bool   `json:"hung,omitempty"`
	Died        bool   `json:"died,omitempty"`
	TaintBefore uint64 `json:"taint_before"`
	TaintAfter  uint64 `json:"taint_after"`
	// ProcModules is the module's /proc/modules line, "" when absent;
	// ProcModulesPresent is false when /proc/modules itself does not exist.
	ProcModules       string `json:"proc_modules"`
	ProcModulesExists bool   `json:"proc_modules_exists"`
	// Sysfs maps /sys/module/NAME/<attr> to its content; a missing file has no key.
	Sysfs map[string]string `json:"sysfs,omitempty"`
	// SysModule is whether /sys/module/NAME exists.
	SysModule bool `json:"sys_module"`
	// Modinfo is what the loaded file's .modinfo says (srcversion,
	// version, vermagic), to hold /sys/module/NAME's attributes against;
	// none for a compressed file, which only the kernel unpacks.
	Modinfo map[string]string `json:"modinfo,omitempty"`
	// Kallsyms maps each requested symbol to presence.
	Kallsyms map[string]bool `json:"kallsyms,omitempty"`
	// Files maps each requested path to presence.
	Files map[string]bool `json:"files,omitempty"`
	// Status and Output are a modprobe step's exit status and what it
	// printed; HelperPID its process, whose kmsg records are the step's.
	Status    *int   `json:"status,omitempty"`
	Output    string `json:"output,omitempty"`
	HelperPID int    `json:"helper_pid,omitempty"`
	// KmsgSeqStart and KmsgSeqEnd bound the kmsg records of this step: [start, end).
	KmsgSeqStart uint64 `json:"kmsg_seq_start"`
	KmsgSeqEnd   uint64 `json:"kmsg_seq_end"`
	// TID is the thread that ran the step (each step gets its own), as
	// kernel reports name it ("comm", "pid").
	TID        int    `json:"tid,omitempty"`
	Kmsg       []Kmsg `json:"kmsg"`
	DurationUS int64  `json:"duration_us"`
	// Iterations of a repeat or concurrent step. The agent streams them as
	// EventIteration events (so a guest that dies keeps what it did); the
	// host gathers them here.
	Iterations []Iteration `json:"iterations,omitempty"`
	// Clocksource is the guest's clocksource after a loop step: under TCG
	// the kernel may fall back to jiffies, and durations to its ticks.
	Clocksource string `json:"clocksource,omitempty"`
	// Ledger is the resource ledger's part in the step: the inventory
	// before a module's load, and the comparison after its unload or
	// failed load. nil where the step takes none.
	Ledger *Ledger `json:"ledger,omitempty"`
}

// Ledger is what the agent's resource ledger did around one step. Before
// a module's load (when it is not loaded) the agent lists what a module
// can leave behind in the kernel; after the module's unload, or a load
// whose init failed, it lists it again, and Added is what is there now
// and was not before: each a leftover of that module, unless another
// step's. The agent sends the difference, not the inventories (a few
// thousand names each), and keeps the baseline itself.
type Ledger struct {
	Module string `json:"module"`
	// Baseline: this step took the inventory the module's lifetime is
	// compared against.
	Baseline bool `json:"baseline,omitempty"`
	// Compared: this step took the inventory after, and compared it with
	// the baseline of step Since.
	Compared bool       `json:"compared,omitempty"`
	Since    int        `json:"since"`
	Added    []Resource `json:"added,omitempty"`
	// Entries is the size of the last inventory taken; CostUS the time
	// the step's inventories took, SettleMS the wait before the last.
	// None of it is in the step's DurationUS, which times the action
	// alone (but for a step that hung or died: then it is all the time
	// the step had).
	Entries  int    `json:"entries"`
	CostUS   int64  `json:"cost_us"`
	SettleMS int    `json:"settle_ms,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Resource is one entry of a ledger's inventory, in the kernel's words:
// its kind (one of ResourceKinds) and a name that says where it shows,
// a path for what lives in a filesystem ("/proc/foo", "/sys/class/misc/
// foo"), else the name as the kernel lists it ("254 foo" in /proc/devices,
// a kthread's comm).
type Resource struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func (r Resource) String() string { return r.Kind + " " + r.Name }

// ResourceKinds are the kinds of a ledger's entries, with where the agent
// lists them.
var ResourceKinds = map[string]string{
	"proc":       "/proc entries (not /proc/PID, not /proc/sys)",
	"sysctl":     "/proc/sys entries",
	"class":      "/sys/class/CLASS/DEVICE (devices, misc devices, network devices)",
	"driver":     "/sys/bus/BUS/drivers/DRIVER",
	"kobject":    "/sys/kernel/NAME",
	"debugfs":    "/sys/kernel/debug/NAME, where debugfs is mounted",
	"dev":        "/dev nodes",
	"chrdev":     "character majors of /proc/devices",
	"blkdev":     "block majors of /proc/devices",
	"filesystem": "/proc/filesystems",
	"kthread":    "kernel threads, by name (not kworkers)",
	"irq":        "/proc/interrupts lines, by number and handler names",
	"slab":       "slab caches of /proc/slabinfo (where SLUB_DEBUG made it)",
	"module":     "/sys/module/NAME of the module",
	"kallsyms":   "the module's symbols in /proc/kallsyms",
}

// Kmsg is one /dev/kmsg record.
type Kmsg struct {
	Seq   uint64 `json:"seq"`
	Level int    `json:"level"`
	// TimeUS is the record's timestamp in microseconds since boot.
	TimeUS int64 `json:"time_us"`
	// Text is the message with /dev/kmsg escapes (\x0a) decoded.
	Text string `json:"text"`
	// Caller is CONFIG_PRINTK_CALLER's "T<tid>" (a task printed it) or
	// "C<cpu>" (interrupt context); "" on a kernel without it.
	Caller string `json:"caller,omitempty"`
}

// Background reports whether the record was printed by a task other than
// thread tid, while tid's step ran: a late device probe, a kworker's
// clocksource switch. Records from interrupt context, or from a kernel
// without PRINTK_CALLER, cannot be told apart by thread and count as the
// step's own.
func (k Kmsg) Background(tid int) bool {
	return tid > 0 && strings.HasPrefix(k.Caller, "T") && k.Caller != "T"+strconv.Itoa(tid)
}

// Own reports whether the step's thread (or the modprobe it ran) printed
// the record, or interrupt context did.
func (s StepResult) Own(k Kmsg) bool {
	return !k.Background(s.TID) || s.HelperPID > 0 && !k.Background(s.HelperPID)
}

// ReadEventLog reads a boot's event log back (one JSON event a line, as
// the host saves the agent's events beside the console log).
func ReadEventLog(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var events []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		events = append(events, e)
	}
	return events, sc.Err()
}
