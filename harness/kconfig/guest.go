package kconfig

import (
	"fmt"
	"strings"
)

// GuestBuiltIn are what the guest needs before any module can be loaded:
// the serial console, the initramfs, devtmpfs, and the virtio-serial port
// the agent reports on (Debian's 6.1 cloud kernel has VIRTIO_CONSOLE=m).
var GuestBuiltIn = []string{"SERIAL_8250_CONSOLE", "BLK_DEV_INITRD", "DEVTMPFS", "VIRTIO_PCI", "VIRTIO_CONSOLE"}

// CheckGuest refuses a kernel configuration the agent cannot boot and
// report on, naming each symbol that is not built in and, where one of
// frags set it, the fragment and line that did: a guest that cannot
// report would otherwise only show as a silent VM.
func CheckGuest(cfg Config, frags ...*Fragment) error {
	var missing []string
	for _, sym := range GuestBuiltIn {
		v := cfg.Value(sym)
		if v == "y" {
			continue
		}
		what := "CONFIG_" + sym + "=" + v
		for _, f := range frags {
			for _, e := range f.Entries {
				if e.Symbol == sym {
					what = fmt.Sprintf("CONFIG_%s=%s (%s:%d)", sym, v, f.Path, e.Line)
				}
			}
		}
		missing = append(missing, what)
	}
	if len(missing) > 0 {
		return fmt.Errorf("the kernel has %s: the agent needs each of them built in (=y) to boot and report over virtio-serial", strings.Join(missing, ", "))
	}
	return nil
}
