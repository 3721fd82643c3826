package vm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// Saved is a snapshot Snapshot wrote: the guest stopped with its agent
// ready for work.
type Saved struct {
	// Ready is the agent's ready event: the boot's kernel log and taint.
	Ready protocol.Event
	// ReadyAfter is the boot up to the agent's ready event; Save the
	// stop and migration to the file after it.
	ReadyAfter, Save time.Duration
	// Boot is the snapshot boot itself (console, events, how it ended).
	Boot *Result
}

// Snapshot boots the machine, waits for the agent to say it is ready, and
// saves the stopped guest to file (QMP stop, then migrate to exec:cat):
// Boot WithRestore(file) then starts from that point in a fraction of a
// boot. The error says why the guest never got ready, or why QEMU could
// not save it (a migration blocker, an old QEMU); the caller boots instead.
func Snapshot(ctx context.Context, file string, opts ...Option) (*Saved, error) {
	c := newConfig(opts)
	c.Restore, c.Work = "", nil
	ready := make(chan protocol.Event, 1)
	onEvent := c.OnEvent
	c.OnEvent = func(e protocol.Event) {
		if e.Kind == protocol.EventReady {
			select {
			case ready <- e:
			default:
			}
		}
		if onEvent != nil {
			onEvent(e)
		}
	}
	saved := &Saved{}
	var saveErr error
	res, err := c.boot(ctx, false, func(s *sockets, res *Result, start time.Time) []qemu.Task {
		return []qemu.Task{func(ctx context.Context, n *qemu.Notifications) error {
			saveErr = save(ctx, s.monitor, file, ready, start, saved)
			return nil
		}}
	})
	if err != nil {
		return nil, err
	}
	saved.Boot = res
	switch {
	case saveErr != nil:
		return saved, saveErr
	case saved.Ready.Kind == "":
		return saved, fmt.Errorf("the guest ended before its agent was ready: %s", describeEnd(res))
	}
	return saved, nil
}

// save waits for the ready event, then stops the guest, migrates it into
// file and quits QEMU (also when the save fails: QEMU must not outlive it).
func save(ctx context.Context, monitorPath, file string, ready <-chan protocol.Event, start time.Time, out *Saved) error {
	m, err := dialMonitor(ctx, monitorPath)
	if err != nil {
		return ignoreIfExited(ctx, err)
	}
	defer m.close()
	defer m.run("quit", nil, nil) //nolint:errcheck // QEMU may exit before it answers
	select {
	case e := <-ready:
		out.Ready = e
	case <-ctx.Done():
		return nil
	}
	out.ReadyAfter = time.Since(start)
	begin := time.Now()
	if err := m.run("stop", nil, nil); err != nil {
		return err
	}
	if err := m.run("migrate", map[string]any{"uri": "exec:cat > " + shellQuote(file)}, nil); err != nil {
		return fmt.Errorf("save the guest: %w", err)
	}
	var st struct {
		Status    string `json:"status"`
		ErrorDesc string `json:"error-desc"`
	}
	err = poll(ctx, func() (bool, error) {
		err := m.run("query-migrate", nil, &st)
		return st.Status == "completed" || st.Status == "failed" || st.Status == "cancelled", err
	})
	if err != nil {
		return fmt.Errorf("save the guest: %w", err)
	}
	if st.Status != "completed" {
		return fmt.Errorf("save the guest: migration %s: %s", st.Status, st.ErrorDesc)
	}
	out.Save = time.Since(begin)
	return nil
}

func describeEnd(res *Result) string {
	switch {
	case res.TimedOut:
		return "timed out"
	case res.Err != nil:
		return res.Err.Error()
	}
	return "QEMU exited"
}

// MachineKey names everything a snapshot depends on besides the kernel
// and the initramfs: QEMU's version, the machine and its devices in order,
// and the kernel command line. A snapshot restores only into the machine
// it was taken of.
func MachineKey(opts ...Option) (string, error) {
	c := newConfig(opts)
	c.Restore = ""
	qemuPath, err := exec.LookPath(c.QEMU)
	if err != nil {
		return "", fmt.Errorf("%s not found: install qemu-system-x86 (make deps): %w", c.QEMU, err)
	}
	version, err := qemuVersion(qemuPath)
	if err != nil {
		return "", err
	}
	parts := []string{version, strings.Join(c.qemuArgs(), " "), strings.Join((&sockets{}).args(), " "), strings.Join(c.appendArgs(), " ")}
	if c.Accel.Resolve() == AccelKVM {
		// -cpu host is this host's CPU: a snapshot restores on the same model.
		parts = append(parts, hostCPU())
	}
	return strings.Join(parts, "\n"), nil
}

// hostCPU is the first CPU's model name and flags from /proc/cpuinfo.
func hostCPU() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	var model, flags string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch strings.TrimSpace(k) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(v)
			}
		case "flags":
			if flags == "" {
				flags = strings.TrimSpace(v)
			}
		}
	}
	return model + " " + flags
}

var qemuVersions sync.Map // path → version line

func qemuVersion(path string) (string, error) {
	if v, ok := qemuVersions.Load(path); ok {
		return v.(string), nil
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	v, _, _ := strings.Cut(string(out), "\n")
	if v == "" {
		return "", errors.New(path + " --version printed nothing")
	}
	qemuVersions.Store(path, v)
	return v, nil
}
