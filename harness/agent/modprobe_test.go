package agent

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// TestRunModprobe runs a stand-in for kmod's modprobe that prints its
// arguments and exits as told: the step keeps the exit status, the output
// and the process.
func TestRunModprobe(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "modprobe")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho \"args: $*\"\nexit $EXIT\n"), 0o755))
	old := modprobePath
	modprobePath = fake
	t.Cleanup(func() { modprobePath = old })

	t.Setenv("EXIT", "0") // not passed: modprobe gets the kernel's environment
	h, err := runModprobe(protocol.Step{Action: protocol.ActionModprobe, Module: "autoload_user", Params: "count=3 name=x"})
	require.NoError(t, err)
	assert.Equal(t, 0, h.status)
	assert.Equal(t, "args: -- autoload_user count=3 name=x", h.output)
	assert.NotZero(t, h.pid)

	h, err = runModprobe(protocol.Step{Action: protocol.ActionModprobe, Module: "-x", Remove: true})
	require.NoError(t, err)
	assert.Equal(t, "args: -r -- -x", h.output, "a name is never an option")

	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'modprobe: FATAL: Module x not found.' >&2\nexit 1\n"), 0o755))
	h, err = runModprobe(protocol.Step{Action: protocol.ActionModprobe, Module: "x"})
	require.NoError(t, err, "a modprobe that ran and failed is a result, not an agent error")
	assert.Equal(t, 1, h.status)
	assert.Equal(t, "modprobe: FATAL: Module x not found.", h.output)

	modprobePath = filepath.Join(t.TempDir(), "missing")
	_, err = runModprobe(protocol.Step{Action: protocol.ActionModprobe, Module: "x"})
	assert.Error(t, err)
}

func TestWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "modprobe")
	require.NoError(t, os.WriteFile(p, []byte("/sbin/modprobe\n"), 0o644))
	require.NoError(t, writeFile(p, "/sbin/no-such-modprobe"))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "/sbin/no-such-modprobe", string(b))
	assert.Equal(t, syscall.ENOENT, writeFile(p+"-typo", "x"), "a mistyped path is not created")
	assert.NoFileExists(t, p+"-typo")
}

func TestNewModules(t *testing.T) {
	// /proc/modules lists the newest first.
	before := []string{"autoload_request"}
	after := []string{"autoload_alias", "autoload_target", "autoload_request"}
	assert.Equal(t, []string{"autoload_target", "autoload_alias"}, newModules(before, after))
	assert.Empty(t, newModules(after, before))
}
