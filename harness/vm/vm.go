// Package vm boots one guest with vmtest's qemu package: the cell's kernel,
// the boot's initramfs, the console saved to a log, and the agent's events
// drained from a virtio-serial port as they arrive.
package vm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// Accel is how QEMU runs the guest.
type Accel string

// Accelerators. AccelAuto picks KVM only where it really works.
const (
	AccelAuto Accel = "auto"
	AccelTCG  Accel = "tcg"
	AccelKVM  Accel = "kvm"
)

// ParseAccel checks a --accel value.
func ParseAccel(s string) (Accel, error) {
	switch a := Accel(s); a {
	case AccelAuto, AccelTCG, AccelKVM:
		return a, nil
	}
	return "", fmt.Errorf("unknown accelerator %q (want auto, tcg or kvm)", s)
}

// Resolve turns auto into kvm or tcg for this host.
func (a Accel) Resolve() Accel {
	if a != AccelAuto {
		return a
	}
	if KVMUsable() {
		return AccelKVM
	}
	return AccelTCG
}

// KVMUsable reports whether KVM can run ordinary guests: /dev/kvm opens and
// the CPU has vmx or svm. Some hosts expose a /dev/kvm (a PVM variant) on
// which ordinary guests hang after "Booting from ROM".
func KVMUsable() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(cpuinfo), "\n") {
		if strings.HasPrefix(line, "flags") {
			for _, fl := range strings.Fields(line) {
				if fl == "vmx" || fl == "svm" {
					return true
				}
			}
		}
	}
	return false
}

// Config is one boot's settings; build it with Options.
type Config struct {
	Kernel     string
	PVH        bool
	Initramfs  string
	ConsoleLog string
	EventLog   string
	Timeout    time.Duration
	Accel      Accel
	MemoryMB   int
	Append     []string
	QEMU       string
	// OnEvent sees each agent event as it arrives; OnConsole each console line.
	OnEvent   func(protocol.Event)
	OnConsole func(string)
	// StallAfterOops kills the VM when the console showed a kernel oops and
	// the agent then stayed silent this long (0: wait for Timeout). An oops
	// with interrupts off can wedge the guest for good.
	StallAfterOops time.Duration
	// Restore starts the guest from a snapshot (see Snapshot) instead of
	// booting it; the rest of the machine must be the snapshot's.
	Restore string
	// Work is written to the agent's command port once the guest runs.
	Work func(io.Writer) error
	// Icount runs TCG guests on an instruction-counting clock that skips
	// the time the guest sits idle (-icount shift=auto,sleep=off): a guest
	// that sleeps 5 s costs almost no wall time. Under KVM it does nothing.
	Icount bool
}

// Option configures a boot.
type Option func(*Config)

// WithKernel boots an uncompressed vmlinux through its PVH entry point
// (pvh=true; decompression and real mode are slow under TCG) or a bzImage.
func WithKernel(path string, pvh bool) Option {
	return func(c *Config) { c.Kernel, c.PVH = path, pvh }
}

// WithInitramfs sets the initramfs.
func WithInitramfs(path string) Option { return func(c *Config) { c.Initramfs = path } }

// WithConsoleLog saves the serial console to path.
func WithConsoleLog(path string) Option { return func(c *Config) { c.ConsoleLog = path } }

// WithEventLog saves the raw agent events, one JSON line each, to path.
func WithEventLog(path string) Option { return func(c *Config) { c.EventLog = path } }

// WithTimeout kills the VM after d.
func WithTimeout(d time.Duration) Option { return func(c *Config) { c.Timeout = d } }

// WithAccel picks the accelerator.
func WithAccel(a Accel) Option { return func(c *Config) { c.Accel = a } }

// WithMemory sets guest memory in MiB.
func WithMemory(mb int) Option { return func(c *Config) { c.MemoryMB = mb } }

// WithAppend adds kernel command-line arguments.
func WithAppend(args ...string) Option {
	return func(c *Config) { c.Append = append(c.Append, args...) }
}

// WithEventHandler sees each agent event as it arrives.
func WithEventHandler(f func(protocol.Event)) Option { return func(c *Config) { c.OnEvent = f } }

// WithConsoleHandler sees each console line as it arrives.
func WithConsoleHandler(f func(string)) Option { return func(c *Config) { c.OnConsole = f } }

// WithStallAfterOops kills a VM that went silent for d after an oops.
func WithStallAfterOops(d time.Duration) Option { return func(c *Config) { c.StallAfterOops = d } }

// WithRestore starts the guest from a snapshot file instead of booting.
func WithRestore(file string) Option { return func(c *Config) { c.Restore = file } }

// WithWork sends the agent its work (protocol.WriteWork) once the guest runs.
func WithWork(f func(io.Writer) error) Option { return func(c *Config) { c.Work = f } }

// WithIcount runs a TCG guest on instruction-counted time that skips idle
// time (see Config.Icount).
func WithIcount(on bool) Option { return func(c *Config) { c.Icount = on } }

// Result is what one boot produced.
type Result struct {
	Events []protocol.Event
	// Done is true when the agent closed its event channel properly.
	Done bool
	// TimedOut is true when the host killed the VM at its timeout; Stalled
	// when it killed it for silence after an oops.
	TimedOut bool
	Stalled  bool
	// Err is QEMU's or the event channel's failure, if any.
	Err      error
	Duration time.Duration
	// Working is how long after QEMU started the agent had its work (its
	// boot event arrived): the cost of a restore, or of a boot, before the
	// scenario's first step.
	Working time.Duration
	Cmdline string
}

// Boot runs one VM to completion: booted, or restored from a snapshot
// (WithRestore), with its work (WithWork) sent once it runs. It returns an
// error only when QEMU could not be started; what happened in the guest is
// in the Result. A snapshot that could not be restored gives an error, or
// a Result's Err, that satisfies RestoreFailed.
func Boot(ctx context.Context, opts ...Option) (*Result, error) {
	c := newConfig(opts)
	var errs *taskErrors
	res, err := c.boot(ctx, true, func(s *sockets, res *Result, start time.Time) []qemu.Task {
		tasks, e := c.workTasks(s)
		errs = e
		return tasks
	})
	if err != nil {
		if c.Restore != "" && ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", errRestore, err) // the snapshot could not be opened
		}
		return nil, err
	}
	switch {
	case errs.work != nil:
		res.Err, res.Done, res.TimedOut = errs.work, false, false
	case c.Restore != "" && ctx.Err() == nil && !hasEvent(res.Events, protocol.EventBoot) && !hasEvent(res.Events, protocol.EventAgentFailure):
		// Nothing of the scenario runs before the agent's boot event (its
		// modules load after it): a restored guest that failed before it,
		// without the agent saying why, is the snapshot's failure.
		why := errs.restore
		if why == nil {
			why = fmt.Errorf("the restored guest never started its work (%s)", describeEnd(res))
		}
		res.Err, res.Done = fmt.Errorf("%w: %w", errRestore, why), false
	}
	return res, nil
}

func hasEvent(events []protocol.Event, kind protocol.EventKind) bool {
	for _, e := range events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// controlTasks are the tasks that drive one VM beside its guest.
type controlTasks func(s *sockets, res *Result, start time.Time) []qemu.Task

// boot starts QEMU with the control tasks and collects what the guest
// sends until QEMU exits. wantDone: a guest that ends without the agent's
// done event failed (a snapshot's guest is stopped before it gets there).
func (c Config) boot(ctx context.Context, wantDone bool, control controlTasks) (*Result, error) {
	machineFns, err := c.machine()
	if err != nil {
		return nil, err
	}

	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()

	log, err := openEventLog(c.EventLog)
	if err != nil {
		return nil, err
	}
	defer log.close() // on the early returns; the result takes its error below
	socks, err := newSockets()
	if err != nil {
		return nil, err
	}
	defer socks.remove()
	tail, err := openEventTail(socks.events)
	if err != nil {
		return nil, err
	}
	defer tail.close()
	stall := newStallWatch(c.StallAfterOops)
	serialFns, console, err := c.serial(stall)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	start := time.Now()
	fns := append(machineFns, qemu.ArbitraryArgs(socks.args()...))
	fns = append(fns, serialFns...)
	fns = append(fns, qemu.WithTask(control(socks, res, start)...))
	machine, err := qemu.StartContext(ctx, qemu.ArchAMD64, fns...)
	if err != nil {
		if console != nil {
			console.Close()
		}
		return nil, fmt.Errorf("start QEMU: %w", err)
	}
	res.Cmdline = machine.CmdlineQuoted()

	res.Stalled, err = waitDraining(machine, tail, stall, wantDone, c.collector(res, log, stall, start))
	res.Duration = time.Since(start)
	// Only the VM's own timeout is a hang: the caller's deadline or
	// cancellation (an interrupted run, a go test -timeout) says nothing
	// about the guest.
	res.TimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded) && caller.Err() == nil
	if err == nil && caller.Err() != nil {
		err = fmt.Errorf("stopped by the caller: %w", caller.Err())
	}
	if logErr := log.close(); logErr != nil && err == nil {
		err = logErr
	}
	// err is set when QEMU failed, the done event is missing or the
	// event log could not be written; a boot counts as complete only
	// without any of them.
	res.Done = err == nil && !res.TimedOut
	res.Err = err
	return res, nil
}

// openEventTail opens the file QEMU writes the agent's events to (QEMU
// appends to it; it is created empty first so the tail can open it now).
func openEventTail(file string) (*eventTail, error) {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &eventTail{f: f, r: faultReader(f)}, nil
}

// serial is where the console goes: the ConsoleLog file (returned, for the
// caller to close if QEMU does not start), and line by line to OnConsole
// and the stall watch.
func (c Config) serial(stall *stallWatch) ([]qemu.Fn, *os.File, error) {
	var fns []qemu.Fn
	var console *os.File
	if c.ConsoleLog != "" {
		var err error
		console, err = os.Create(c.ConsoleLog)
		if err != nil {
			return nil, nil, err
		}
		fns = append(fns, qemu.WithSerialOutput(console))
	}
	if c.OnConsole != nil || stall != nil {
		fns = append(fns, qemu.LogSerialByLine(func(line string) {
			stall.console(line)
			if c.OnConsole != nil {
				c.OnConsole(line)
			}
		}))
	}
	return fns, console, nil
}

// eventLog is the EventLog file: results.json points users at it, so a
// log that cannot be created or written is an error of the boot, not a
// silently missing file. A nil *eventLog (no EventLog asked) writes nothing.
type eventLog struct {
	path string
	f    *os.File
	w    *bufio.Writer
	err  error // the first write error
}

func openEventLog(path string) (*eventLog, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	return &eventLog{path: path, f: f, w: bufio.NewWriter(f)}, nil
}

func (l *eventLog) write(e protocol.Event) {
	if l == nil || l.err != nil {
		return
	}
	b, err := json.Marshal(e)
	if err == nil {
		_, err = l.w.Write(append(b, '\n'))
	}
	if err != nil {
		l.err = fmt.Errorf("event log %s: %w", l.path, err)
	}
}

// close flushes and closes the file, returning the first error; closing
// again returns it again.
func (l *eventLog) close() error {
	if l == nil || l.f == nil {
		return l.firstErr()
	}
	defer func() { l.f = nil }()
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = fmt.Errorf("event log %s: %w", l.path, err)
	}
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = fmt.Errorf("event log %s: %w", l.path, err)
	}
	return l.err
}

func (l *eventLog) firstErr() error {
	if l == nil {
		return nil
	}
	return l.err
}

// collector takes each event as it arrives: it tells the stall watch, adds
// the event to res, writes it to log (if any) and hands it to OnEvent.
func (c Config) collector(res *Result, log *eventLog, stall *stallWatch, start time.Time) func(protocol.Event) {
	return func(e protocol.Event) {
		stall.event()
		if e.Kind == protocol.EventBoot && res.Working == 0 {
			res.Working = time.Since(start)
		}
		res.Events = append(res.Events, e)
		log.write(e)
		if c.OnEvent != nil {
			c.OnEvent(e)
		}
	}
}

// waitDraining waits for QEMU to exit while the events are read (progress
// and the stall watch need them live), and once more after it exits.
// stalled says whether the stall watch killed the VM; err is QEMU's
// failure, the event channel's, or a missing done event.
func waitDraining(machine *qemu.VM, tail *eventTail, stall *stallWatch, wantDone bool, emit func(protocol.Event)) (stalled bool, err error) {
	stop := make(chan struct{})
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		tail.follow(stop, emit)
	}()
	stopWatch := stall.watch(machine.Kill)
	err = machine.Wait()
	stalled = stopWatch()
	close(stop)
	<-followed
	// What the tail found wrong says more than the missing done event
	// that usually follows from it, and must survive QEMU's own failure
	// (errors.Is finds protocol.ErrCorrupt in either).
	err = errors.Join(tail.err, err)
	if err == nil && wantDone && !tail.done {
		err = errors.New("the agent never closed its event channel (no done event)")
	}
	return stalled, err
}

// newConfig applies opts over the defaults every boot shares.
func newConfig(opts []Option) Config {
	c := Config{Accel: AccelAuto, MemoryMB: 256, Timeout: 2 * time.Minute, QEMU: "qemu-system-x86_64"}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// machine is the QEMU command line of every boot, batch or interactive:
// the binary (under setpriv), kernel, initramfs, machine and kernel
// command line.
func (c Config) machine() ([]qemu.Fn, error) {
	qemuPath, err := exec.LookPath(c.QEMU)
	if err != nil {
		return nil, fmt.Errorf("%s not found: install qemu-system-x86 (make deps): %w", c.QEMU, err)
	}
	fns := []qemu.Fn{
		qemu.WithQEMUCommand(qemuCommand(qemuPath)),
		qemu.WithKernel(c.Kernel),
		qemu.WithInitramfs(c.Initramfs),
		qemu.ArbitraryArgs(c.qemuArgs()...),
		qemu.WithAppendKernel(c.appendArgs()...),
	}
	if c.Restore != "" {
		fns = append(fns, incoming(c.Restore))
	}
	return fns, nil
}

// appendArgs is the kernel command line.
func (c Config) appendArgs() []string {
	// tsc=reliable: under TCG on a busy host the clocksource watchdog
	// often declares the TSC unstable, and the guest falls back to
	// jiffies, timing every load and unload in whole 4 ms ticks.
	return append([]string{"console=ttyS0", "panic=-1", "earlyprintk=serial", "tsc=reliable"}, c.Append...)
}

// qemuCommand wraps QEMU in setpriv so it dies with the harness even when
// the harness is killed without a chance to clean up.
func qemuCommand(qemuPath string) string {
	if p, err := exec.LookPath("setpriv"); err == nil {
		return p + " --pdeathsig KILL " + qemuPath
	}
	return qemuPath
}

func (c Config) qemuArgs() []string {
	args := []string{"-m", fmt.Sprint(c.MemoryMB), "-smp", "1", "-no-reboot", "-nic", "none", "-M", "pc"}
	switch c.Accel.Resolve() {
	case AccelKVM:
		args = append(args, "-enable-kvm", "-cpu", "host")
	default:
		args = append(args, "-accel", "tcg")
		if c.Icount {
			args = append(args, "-icount", "shift=auto,sleep=off")
		}
	}
	if c.PVH {
		if _, err := os.Stat(qbootROM); err == nil {
			// qboot skips SeaBIOS's option ROM scan; measured 0.07 s faster.
			args = append(args, "-bios", qbootROM)
		}
	}
	return args
}

// shellQuote quotes a path for the shell QEMU runs exec: migrations in.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// incoming hands QEMU the snapshot to restore as an open file (-incoming
// fd:N): no shell and cat between them, and nothing but QEMU on its
// terminal.
func incoming(file string) qemu.Fn {
	return func(alloc *qemu.IDAllocator, opts *qemu.Options) error {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		opts.AppendQEMU("-incoming", fmt.Sprintf("fd:%d", opts.AddFile(f)))
		opts.Tasks = append(opts.Tasks, qemu.Cleanup(f.Close))
		return nil
	}
}

const qbootROM = "/usr/share/qemu/qboot.rom"
