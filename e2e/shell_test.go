package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestShell drives `modmatrix shell` through a pseudo-terminal, as a person
// at a terminal would: on the 6.12 unload cell it loads hello, sees it in
// lsmod, unloads it with rmmod -f, finds the exit message in dmesg's
// last lines, reads modinfo, does the same with modprobe, and leaves, once with
// poweroff and once with QEMU's Ctrl-A X. Each time the command exits 0,
// leaves no QEMU behind and gives the terminal back in cooked mode.
func TestShell(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	hello := filepath.Join(repoRoot(t), "modules", "hello")
	tests := []struct {
		name   string
		args   []string // which modules to pack
		origin string   // the folder the banner says hello.ko is from
		leave  string   // what the user types to end the session
		last   string   // what the console shows last
	}{
		{name: "poweroff", args: []string{"--scenarios", "hello"}, origin: hello,
			leave: "poweroff\r", last: "reboot: Restarting system"},
		{name: "ctrl-a x", args: []string{"--module", hello}, origin: hello,
			leave: "\x01x", last: "QEMU: Terminated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh := startShell(t, bin, tc.args...)
			c := sh.console
			assert.Regexp(t, `/modmatrix/ko:\r\n  hello\.ko +`+regexp.QuoteMeta(tc.origin)+`\r\n`, c.text())

			// Each command ends with a marker whose typed form differs from
			// its output ($((...)) is expanded), so the echo cannot match.
			run := func(command string, n int) string {
				t.Helper()
				start := c.len()
				c.send(t, command+"; echo end-$((1000+"+strconv.Itoa(n)+"))\r")
				marker := "end-" + strconv.Itoa(1000+n)
				out := c.waitFor(t, time.Minute, regexp.MustCompile(regexp.QuoteMeta(marker)+`\r\n\$ $`))
				return out[start:]
			}
			assert.NotRegexp(t, `(?i)error|no such`, run("insmod /modmatrix/ko/hello.ko", 1))
			assert.Regexp(t, `(?m)^hello +\d+ +0`, run("lsmod", 2))
			// The article's commands as a developer types them: kmod's
			// rmmod -f (the unload cell has no forced unload, and hello
			// has no users, so it simply unloads) and tail's short form.
			assert.NotRegexp(t, `(?i)error`, run("rmmod -f hello", 3))
			assert.NotRegexp(t, `(?m)^hello `, run("lsmod", 4))
			assert.Contains(t, run("dmesg | tail -3", 5), "hi module being unloaded.")
			assert.Regexp(t, `(?m)^vermagic: +6\.12\.\d+ .*mod_unload`, run("modinfo /modmatrix/ko/hello.ko", 9))
			// kmod's modprobe, over the index depmod made of the packed modules.
			assert.Regexp(t, `(?m)^hello +\d+ +0`, run("modprobe hello; lsmod", 7))
			assert.NotRegexp(t, `(?m)^hello `, run("modprobe -r hello; lsmod", 8))

			// Ctrl-C stops the running command, not the shell.
			start := c.len()
			c.send(t, "sleep 600\r")
			time.Sleep(time.Second)
			c.send(t, "\x03")
			c.waitFor(t, 30*time.Second, regexp.MustCompile(`sleep 600\r\n(?s:.*)\$ $`))
			assert.NotContains(t, c.text()[start:], "QEMU: Terminated")
			assert.Contains(t, run("echo still here", 6), "still here")

			c.send(t, tc.leave)
			require.NoError(t, sh.wait(t), "modmatrix shell should exit 0\n%s", c.tail())
			assert.Contains(t, c.text(), tc.last)
			sh.checkClean(t)
		})
	}
}

// TestShellSignals ends a session from outside: SIGTERM and SIGHUP (the
// terminal went away) end it with QEMU killed and the terminal restored;
// SIGKILL gives no chance to clean up, and QEMU still dies with it.
func TestShellSignals(t *testing.T) {
	requireTools(t)
	bin := modmatrixBin(t)
	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGHUP, unix.SIGKILL} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			sh := startShell(t, bin, "--scenarios", "hello")
			require.NoError(t, sh.cmd.Process.Signal(sig))
			err := sh.wait(t)
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "%v", err)
			if sig == unix.SIGKILL {
				// QEMU gets SIGKILL from the kernel (setpriv --pdeathsig).
				require.Eventually(t, func() bool { return len(sh.liveQEMU()) == 0 }, 10*time.Second, 50*time.Millisecond,
					"qemu %v outlived a killed modmatrix shell", sh.qemus)
				return
			}
			if sig == unix.SIGTERM {
				assert.Equal(t, 130, exit.ExitCode(), sh.console.tail())
			}
			sh.checkClean(t)
		})
	}
}

// shellRun is one `modmatrix shell` on a pseudo-terminal.
type shellRun struct {
	cmd     *exec.Cmd
	tty     *os.File
	console *console
	exited  chan error
	done    bool
	qemus   []string
}

// startShell starts `modmatrix shell` on the 6.12 unload cell on a new
// pseudo-terminal (its controlling terminal, as in a login) and waits for
// the first prompt.
func startShell(t *testing.T, bin string, args ...string) *shellRun {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"shell", "--cell", "unload", "--kernel", "6.12",
		"--repo", repoRoot(t), "--cache", cacheDir()}, args...)...)
	cmd.Env = os.Environ()
	return startShellCmd(t, cmd)
}

// startShellCmd is startShell of a command made by the caller (its Env
// set, TMPDIR is added).
func startShellCmd(t *testing.T, cmd *exec.Cmd) *shellRun {
	t.Helper()
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// A SIGKILLed command cannot remove its scratch folder.
	cmd.Env = append(cmd.Env, "TMPDIR="+t.TempDir())
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true, Setctty: true}
	require.NoError(t, cmd.Start())
	sh := &shellRun{cmd: cmd, tty: tty, console: newConsole(ptmx), exited: make(chan error, 1)}
	go func() { sh.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// A failed step leaves the command running: end it and everything
		// in its session.
		if !sh.done {
			_ = unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
			<-sh.exited
		}
	})
	// Building the shell image on a cold cache takes about a minute, a
	// kernel much longer.
	sh.console.waitFor(t, 30*time.Minute, regexp.MustCompile(`leave: poweroff[^\n]*\n(?s:.*)\$ $`))
	sh.qemus = childQEMU(cmd.Process.Pid, "-kernel")
	require.NotEmpty(t, sh.qemus, "no QEMU under the command")
	return sh
}

// wait waits (bounded) for the command to exit.
func (sh *shellRun) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-sh.exited:
		sh.done = true
		return err
	case <-time.After(2 * time.Minute):
		t.Fatalf("modmatrix shell still running after 2 min\n%s", sh.console.tail())
		return nil
	}
}

func (sh *shellRun) liveQEMU() []string {
	var live []string
	for _, pid := range sh.qemus {
		if _, err := os.Stat(filepath.Join("/proc", pid)); err == nil {
			live = append(live, pid)
		}
	}
	return live
}

// checkClean: no QEMU left, and the terminal is back in cooked mode.
func (sh *shellRun) checkClean(t *testing.T) {
	t.Helper()
	assert.Empty(t, sh.liveQEMU(), "qemu outlived modmatrix shell")
	termios, err := unix.IoctlGetTermios(int(sh.tty.Fd()), unix.TCGETS)
	require.NoError(t, err)
	assert.NotZero(t, termios.Lflag&unix.ICANON, "terminal left in raw mode")
	assert.NotZero(t, termios.Lflag&unix.ECHO, "terminal left without echo")
}

// console collects what the command writes to the terminal.
type console struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
	w       *os.File
}

func newConsole(ptmx *os.File) *console {
	c := &console{changed: make(chan struct{}, 1), w: ptmx}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			c.mu.Lock()
			c.buf.Write(b[:n])
			c.mu.Unlock()
			select {
			case c.changed <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

func (c *console) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *console) len() int { return len(c.text()) }

func (c *console) tail() string {
	s := c.text()
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	return s
}

// waitFor waits until the whole output matches re and returns it.
func (c *console) waitFor(t *testing.T, d time.Duration, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(d)
	for {
		if s := c.text(); re.MatchString(s) {
			return s
		}
		select {
		case <-c.changed:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %q on the console after %v; last output:\n%s", re, d, c.tail())
		}
	}
}

// send types s, a few bytes at a time: a serial line has no flow control
// into the guest's small receive buffer.
func (c *console) send(t *testing.T, s string) {
	t.Helper()
	for len(s) > 0 {
		n := min(8, len(s))
		_, err := c.w.Write([]byte(s[:n]))
		if err != nil && !errors.Is(err, os.ErrClosed) {
			require.NoError(t, err)
		}
		s = s[n:]
		time.Sleep(20 * time.Millisecond)
	}
}
