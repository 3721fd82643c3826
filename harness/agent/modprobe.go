package agent

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// modprobePath is kmod's modprobe in the image; tests point it at a stand-in.
var modprobePath = protocol.ModprobePath

// helperRun is what a modprobe step's process did.
type helperRun struct {
	status int
	output string
	pid    int
}

// runModprobe runs kmod's modprobe as a user would: NAME (and the step's
// parameters) or -r NAME. Its exit status and output are the step's
// result; only a modprobe that cannot be started is an error.
func runModprobe(st protocol.Step) (*helperRun, error) {
	args := []string{"--", st.Module}
	if st.Remove {
		args = []string{"-r", "--", st.Module}
	} else if st.Params != "" {
		args = append(args, strings.Fields(st.Params)...)
	}
	cmd := exec.Command(modprobePath, args...)
	// The environment the kernel gives request_module's modprobe.
	cmd.Env = []string{"HOME=/", "PATH=/sbin:/usr/sbin:/bin:/usr/bin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("modprobe: %w", err)
	}
	h := &helperRun{pid: cmd.Process.Pid}
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		h.status = exit.ExitCode()
	case err != nil:
		return nil, fmt.Errorf("modprobe: %w", err)
	}
	h.output = strings.TrimSpace(out.String())
	return h, nil
}

// LinkModulesDir makes /lib/modules/RELEASE the work's module folder when
// the host sent a depmod index with it, so that modprobe, and the
// kernel's request_module through it, find the scenario's modules.
func LinkModulesDir(moduleDir string) error {
	if _, err := os.Stat(filepath.Join(moduleDir, protocol.ModulesDep)); err != nil {
		return nil
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	link := filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]))
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	_ = os.Remove(link)
	return os.Symlink(moduleDir, link)
}
