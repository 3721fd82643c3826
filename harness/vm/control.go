package vm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"modmatrix.dev/modmatrix/internal/cacheentry"

	"github.com/digitalocean/go-qemu/qmp"
	"github.com/hugelgupf/vmtest/qemu"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// sockets are the host ends of one VM's control channels, in a scratch
// folder short enough for a unix socket's path.
type sockets struct {
	dir     string
	monitor string // QMP
	command string // the agent's command port (protocol.CommandChannel)
	events  string // the file QEMU writes the agent's events to
}

// TempPrefix names the temporary folder of each VM's sockets, with its
// run's PID (cacheentry.Owned): a later run removes those of a run that
// was killed (cacheentry.SweepTemp).
const TempPrefix = "modmatrix-vm"

func newSockets() (*sockets, error) {
	dir, err := os.MkdirTemp("", cacheentry.Owned(TempPrefix))
	if err != nil {
		return nil, err
	}
	return &sockets{
		dir:     dir,
		monitor: filepath.Join(dir, "qmp"),
		command: filepath.Join(dir, "cmd"),
		events:  filepath.Join(dir, "events"),
	}, nil
}

func (s *sockets) remove() { os.RemoveAll(s.dir) }

// args are QEMU's devices and backends for them. The devices come in the
// same order on every boot and restore of a machine: a snapshot names its
// devices' state by that order.
func (s *sockets) args() []string {
	return []string{
		// A -qmp turns off -nographic's default monitor, and with it the
		// console's mux: say it, so Ctrl-A X and Ctrl-C keep working.
		"-serial", "mon:stdio",
		"-qmp", "unix:" + s.monitor + ",server=on,wait=off",
		"-device", "virtio-serial",
		"-chardev", "file,id=modmatrix-events,path=" + s.events,
		"-device", "virtserialport,chardev=modmatrix-events,name=" + protocol.EventChannel,
		"-chardev", "socket,id=modmatrix-cmd,path=" + s.command + ",server=on,wait=off",
		"-device", "virtserialport,chardev=modmatrix-cmd,name=" + protocol.CommandChannel,
	}
}

// dialUnix connects to a socket QEMU creates once it has started.
func dialUnix(ctx context.Context, path string) (net.Conn, error) {
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to %s: %w", filepath.Base(path), context.Cause(ctx))
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// monitor is a QMP connection (digitalocean/go-qemu's qmp package).
type monitor struct{ mon *qmp.SocketMonitor }

func dialMonitor(ctx context.Context, path string) (*monitor, error) {
	// go-qemu dials at once; wait for QEMU to create the socket first.
	c, err := dialUnix(ctx, path)
	if err != nil {
		return nil, err
	}
	c.Close()
	mon, err := qmp.NewSocketMonitor("unix", path, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if err := mon.Connect(); err != nil {
		return nil, fmt.Errorf("QMP: %w", err)
	}
	return &monitor{mon}, nil
}

func (m *monitor) close() { m.mon.Disconnect() }

// run executes one QMP command and decodes its "return" into out (if set).
func (m *monitor) run(command string, args any, out any) error {
	cmd := qmp.Command{Execute: command, Args: args}
	b, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	raw, err := m.mon.Run(b)
	if err != nil {
		return fmt.Errorf("QMP %s: %w", command, err)
	}
	if out == nil {
		return nil
	}
	var resp struct {
		Return json.RawMessage `json:"return"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("QMP %s: %w", command, err)
	}
	return json.Unmarshal(resp.Return, out)
}

// status is query-status's run state ("inmigrate", "paused", "running").
func (m *monitor) status() (string, error) {
	var s struct {
		Status string `json:"status"`
	}
	err := m.run("query-status", nil, &s)
	return s.Status, err
}

// poll asks QMP every few milliseconds until done says so.
func poll(ctx context.Context, done func() (bool, error)) error {
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// resume lets a guest restored from a snapshot run: the snapshot was taken
// of a stopped guest, so the incoming one stays paused until `cont`. On
// any failure it quits QEMU: a guest that never runs must not hold its
// slot until the timeout.
func resume(ctx context.Context, path string) (err error) {
	m, err := dialMonitor(ctx, path)
	if err != nil {
		return err
	}
	defer m.close()
	defer func() {
		if err != nil {
			_ = m.run("quit", nil, nil)
		}
	}()
	var state string
	err = poll(ctx, func() (bool, error) {
		state, err = m.status()
		return state != "inmigrate", err
	})
	if err != nil {
		return err
	}
	if state != "paused" && state != "postmigrate" && state != "prelaunch" {
		return fmt.Errorf("the restored guest is %s, not paused", state)
	}
	return m.run("cont", nil, nil)
}

// quit asks QEMU to exit at once (the work could not be sent: the guest
// would wait for it until the timeout).
func quit(path string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if m, err := dialMonitor(ctx, path); err == nil {
		_ = m.run("quit", nil, nil)
		m.close()
	}
}

// workTasks resume a restored guest and send the agent its work once the
// guest runs. What failed goes to the returned
// errors: resuming (the snapshot did not restore), sending the work.
func (c Config) workTasks(s *sockets) ([]qemu.Task, *taskErrors) {
	errs := &taskErrors{}
	running := make(chan struct{})
	var tasks []qemu.Task
	if c.Restore == "" {
		close(running)
	} else {
		tasks = append(tasks, func(ctx context.Context, n *qemu.Notifications) error {
			if err := resume(ctx, s.monitor); err != nil {
				errs.restore = err
				return nil
			}
			close(running)
			return nil
		})
	}
	if c.Work != nil {
		tasks = append(tasks, sendWork(s, c.Work, running, &errs.work))
	}
	return tasks, errs
}

// taskErrors are the control tasks' failures, read once QEMU has exited
// and its tasks have returned.
type taskErrors struct{ restore, work error }

// sendWork is the task that writes the agent's work into its command port.
// A restored guest gets it once it runs again (data QEMU took from the
// socket while the device state was still loading could be lost), a fresh
// one at once: it reads the port when its agent is up. A write that fails
// while the VM runs (a module file unreadable) quits QEMU and goes to
// *failed; one that fails because the VM is gone is no error of its own.
func sendWork(s *sockets, work func(io.Writer) error, running <-chan struct{}, failed *error) qemu.Task {
	return func(ctx context.Context, n *qemu.Notifications) error {
		select {
		case <-running:
		case <-ctx.Done():
			return nil
		}
		conn, err := dialUnix(ctx, s.command)
		if err != nil {
			return ignoreIfExited(ctx, err)
		}
		defer conn.Close()
		if err := work(conn); err != nil {
			if ctx.Err() == nil {
				*failed = fmt.Errorf("send the agent its work: %w", err)
				quit(s.monitor)
			}
			return nil
		}
		// Keep the port's host side open until the guest is done.
		<-ctx.Done()
		return nil
	}
}

func ignoreIfExited(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// errRestore marks a failure to restore a snapshot, as opposed to a
// failure of the guest: the caller can boot instead.
var errRestore = errors.New("restore failed")

// RestoreFailed reports whether a Boot's or Interactive's error means its
// snapshot could not be restored (the guest never ran).
func RestoreFailed(err error) bool { return errors.Is(err, errRestore) }
