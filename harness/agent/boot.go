package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
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
			return err
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("boot module %s: finit_module: %w", filepath.Base(ko), err)
		}
	}
	return nil
}
