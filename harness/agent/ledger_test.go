package agent

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// guestTree copies the recorded kernel lists (testdata/ledger, from a real
// guest) into a folder and lays the directories a guest has around them.
func guestTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS("testdata/ledger")))
	for _, d := range []string{
		"proc/sys/kernel", "proc/tty/driver", "proc/self/net", "sys/class/misc/cpu_dma_latency",
		"sys/class/tty/ttyS0", "sys/bus/virtio/drivers/virtio_console", "sys/kernel/mm",
		"sys/module/hello/parameters", "dev/pts/0",
	} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	write(t, root, "proc/sys/kernel/tainted", "0\n")
	write(t, root, "dev/console", "")
	return root
}

func write(t *testing.T, root, name, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(content), 0o644))
}

func TestInventory(t *testing.T) {
	root := guestTree(t)
	s := System{Root: root}
	inv := s.Inventory("hello")
	has := func(kind, name string) bool { return inv[protocol.Resource{Kind: kind, Name: name}] }
	for _, r := range []protocol.Resource{
		{Kind: "proc", Name: "/proc/tty/driver"},
		{Kind: "sysctl", Name: "/proc/sys/kernel/tainted"},
		{Kind: "class", Name: "/sys/class/misc/cpu_dma_latency"},
		{Kind: "driver", Name: "/sys/bus/virtio/drivers/virtio_console"},
		{Kind: "kobject", Name: "/sys/kernel/mm"},
		{Kind: "dev", Name: "/dev/console"},
		{Kind: "chrdev", Name: "254 virtio-portsdev"},
		{Kind: "filesystem", Name: "debugfs"},
		{Kind: "kthread", Name: "kthreadd"},
		{Kind: "irq", Name: "4: IO-APIC 4-edge ttyS0"},
		{Kind: "module", Name: "/sys/module/hello"},
	} {
		assert.True(t, has(r.Kind, r.Name), "%s not listed", r)
	}
	// Processes, their churn and user space's own are not resources.
	assert.False(t, has("kthread", "init"), "init is not a kthread")
	assert.False(t, has("proc", "/proc/1"))
	assert.False(t, has("proc", "/proc/1/stat"))
	assert.False(t, has("dev", "/dev/pts/0"))
	assert.False(t, has("irq", "NMI: Non-maskable interrupts"))

	// What a module left: in the difference, and nothing else.
	write(t, root, "proc/leftover", "")
	write(t, root, "proc/3/stat", "3 (leftover_thread) S 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
	write(t, root, "proc/4/stat", "4 (kworker/0:1-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
	write(t, root, "proc/devices", "Character devices:\n  1 mem\n250 leftover\n 10 misc\n254 virtio-portsdev\n")
	assert.Equal(t, []protocol.Resource{
		{Kind: "chrdev", Name: "250 leftover"},
		{Kind: "kthread", Name: "leftover_thread"},
		{Kind: "proc", Name: "/proc/leftover"},
	}, s.Inventory("hello").minus(inv))
}

// load a; load b; unload a: what appeared while b is loaded may be b's,
// and is not a's leftover; what a left before b's load is.
func TestLedgerLaterModule(t *testing.T) {
	root := guestTree(t)
	s := System{Root: root}
	write(t, root, "proc/modules", "")
	baseA := s.Inventory("a")
	write(t, root, "proc/a_leak", "") // a's init registers it, its exit forgets it
	baseB := s.Inventory("b")
	write(t, root, "proc/b_entry", "") // b's, live while b is loaded
	l := &ledgerStep{module: "a", action: protocol.ActionUnload, base: baseA, since: 0, later: []inventory{baseB}}
	l.after(s, nil)
	assert.Equal(t, []protocol.Resource{{Kind: "proc", Name: "/proc/a_leak"}}, l.result().Added)

	// An unload that failed (ENOENT: never loaded) neither waits nor
	// compares.
	l = &ledgerStep{module: "a", action: protocol.ActionUnload, base: baseA, settle: time.Hour}
	l.after(s, syscall.ENOENT)
	assert.Nil(t, l.result())
}
