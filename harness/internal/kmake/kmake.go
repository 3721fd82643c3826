// Package kmake runs make (and its helpers) for the kernel stages: output
// teed to a log, the tail carried by errors, the whole process group killed
// on cancel.
package kmake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// tailLines is how much of a failed command's output an error carries.
const tailLines = 40

// Run runs a command in dir, copying its output to log, and on failure
// returns an error carrying the command line and the tail of its output.
func Run(ctx context.Context, dir string, log io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	tail := &tailWriter{max: tailLines}
	var out io.Writer = tail
	if log != nil {
		out = io.MultiWriter(tail, &bestEffort{w: log})
	}
	cmd.Stdout, cmd.Stderr = out, out
	// make forks compilers; cancelling must kill the whole process group,
	// not only make.
	// And if modmatrix is killed outright, make gets SIGTERM, which it
	// passes on to its compilers before it exits. (The kernel sends it when
	// the thread that forked make exits: the Go runtime keeps its threads
	// unless a goroutine locked to one exits, which no code here does.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("%s %s (in %s): %w\n%s", name, strings.Join(args, " "), dir, err, tail)
	}
	return nil
}

// bestEffort writes to w until a write fails (a log on a full disk), then
// drops the rest, never failing: an error would stop exec's copy of the
// output, and make's jobs would block on a pipe nobody reads.
type bestEffort struct {
	w      io.Writer
	failed bool
}

func (b *bestEffort) Write(p []byte) (int, error) {
	if !b.failed {
		if _, err := b.w.Write(p); err != nil {
			b.failed = true
		}
	}
	return len(p), nil
}

// cleanEnv drops variables that would make kbuild read or write another
// config or output directory than the one on the command line.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "KCONFIG_CONFIG", "KCONFIG_ALLCONFIG", "KBUILD_OUTPUT", "LC_ALL":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	max     int
	lines   []string
	partial []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.partial[:i]))
		t.partial = t.partial[i+1:]
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	lines := t.lines
	if len(t.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(t.partial))
	}
	if len(lines) == 0 {
		return "(no output)"
	}
	return fmt.Sprintf("--- last %d lines of output ---\n%s", len(lines), strings.Join(lines, "\n"))
}
