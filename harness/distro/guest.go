package distro

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"modmatrix.dev/modmatrix/harness/kconfig"
)

// guestBuiltIn are what the guest needs before any module can be loaded:
// the serial console, the initramfs, and the virtio-serial port the agent
// reports on (Debian's 6.1 cloud kernel has VIRTIO_CONSOLE=m).
var guestBuiltIn = []string{"SERIAL_8250_CONSOLE", "BLK_DEV_INITRD", "DEVTMPFS", "VIRTIO_PCI", "VIRTIO_CONSOLE"}

func checkGuest(cfg kconfig.Config) error {
	var missing []string
	for _, sym := range guestBuiltIn {
		if v := cfg.Value(sym); v != "y" {
			missing = append(missing, "CONFIG_"+sym+"="+v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the kernel has %s: the agent needs them built in (=y) to boot and report over virtio-serial", strings.Join(missing, ", "))
	}
	return nil
}

// checkPahole: a kernel with DEBUG_INFO_BTF_MODULES whose headers ship a
// vmlinux makes kbuild run pahole on every module it links.
func checkPahole(headers string, cfg kconfig.Config) error {
	if !cfg.Enabled("DEBUG_INFO_BTF_MODULES") {
		return nil
	}
	if _, err := os.Stat(filepath.Join(headers, "vmlinux")); err != nil {
		return nil // kbuild skips BTF without it
	}
	if _, err := exec.LookPath("pahole"); err != nil {
		return errors.New("modules for this kernel get BTF from pahole, which is missing: apt-get install dwarves (or make deps)")
	}
	return nil
}
