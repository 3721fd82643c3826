package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"modmatrix.dev/modmatrix/harness/protocol"
)

// LoadBootModules loads the .ko files in dir in the order of their names:
// a distribution kernel's own virtio drivers, which the agent's ports need
// (protocol.BootModuleDir; absent for a kernel that builds them in). A
// module the kernel already has (EEXIST) is fine; any other failure is an
// error naming the file, which the agent prints on the console, where the
// host's report of a silent guest shows it.
func LoadBootModules(dir string) error {
	kos, err := filepath.Glob(filepath.Join(dir, "*.ko"))
	if err != nil {
		return err
	}
	sort.Strings(kos)
	for _, ko := range kos {
		f, err := os.Open(ko)
		if err != nil {
			return fmt.Errorf("boot module: %w", err)
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("boot module %s: finit_module: %w", filepath.Base(ko), err)
		}
	}
	if len(kos) == 0 {
		return nil
	}
	// Loaded from user space, virtio_console names its ports one after
	// the other, after finit_module returns: both must be there before
	// the agent looks them up once.
	for range 500 {
		if portsNamed() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("boot modules loaded, but no virtio-serial ports %s and %s after 10 s", protocol.EventChannel, protocol.CommandChannel)
}

// portsNamed tells whether both the agent's virtio-serial ports have
// their names in sysfs.
func portsNamed() bool {
	names, _ := filepath.Glob("/sys/class/virtio-ports/*/name")
	seen := map[string]bool{}
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			seen[strings.TrimSpace(string(b))] = true
		}
	}
	return seen[protocol.EventChannel] && seen[protocol.CommandChannel]
}
