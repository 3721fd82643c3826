package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"

	"github.com/hugelgupf/vmtest/qemu"
)

// Interactive boots one guest with its serial console on in and out, for a
// person at a terminal: booted, or restored from a snapshot (WithRestore),
// with its work (WithWork) sent once it runs; no timeout (Config.Timeout
// is ignored), and what the guest sends on its event port is dropped.
// QEMU runs with
// -nographic, so its console multiplexes the serial port and the monitor on
// stdio (`-serial mon:stdio`) and Ctrl-A X quits it.
//
// vmtest's qemu package gives QEMU a pseudo-terminal of its own as stdin
// and copies QEMU's output to its SerialOutput writers; Interactive feeds
// in into that pseudo-terminal and adds out as a serial writer. The caller
// puts its own terminal in raw mode, so that Ctrl-A and Ctrl-C reach QEMU
// and the guest as bytes.
//
// It returns when QEMU exits: nil when QEMU exited 0 (the guest powered off
// or rebooted under -no-reboot, or the user typed Ctrl-A X), an error when
// it failed or ctx ended (QEMU is killed then).
func Interactive(ctx context.Context, in io.Reader, out io.Writer, opts ...Option) error {
	c := newConfig(opts)
	fns, err := c.machine()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	socks, err := newSockets()
	if err != nil {
		return err
	}
	defer socks.remove()
	tasks, errs := c.workTasks(socks)
	fns = append(fns, qemu.ArbitraryArgs(socks.args()...), qemu.WithTask(tasks...), qemu.WithSerialOutput(nopCloser{out}))
	machine, err := qemu.StartContext(ctx, qemu.ArchAMD64, fns...)
	if err != nil {
		if c.Restore != "" {
			return fmt.Errorf("%w: start QEMU: %w", errRestore, err)
		}
		return fmt.Errorf("start QEMU: %w", err)
	}
	// The copy stops at the first failed write, which happens once QEMU is
	// gone; a read still blocked on in then is left behind (the caller is
	// about to exit or to stop feeding in).
	go func() {
		_, _ = io.Copy(machine.Console, in)
	}()
	err = machine.Wait()
	switch {
	case errs.restore != nil && ctx.Err() == nil:
		return fmt.Errorf("%w: %w", errRestore, errs.restore)
	case errs.work != nil:
		return errs.work
	case ctx.Err() != nil:
		return fmt.Errorf("QEMU killed: %w", context.Cause(ctx))
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("QEMU exited with status %d (%s)", exit.ExitCode(), machine.CmdlineQuoted())
	}
	return err
}

// nopCloser keeps vmtest from closing the caller's output when QEMU exits.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
