package kconfig

import (
	"fmt"
	"strings"
)

// GuestBuiltIn are what the guest needs before any module can be loaded:
// the serial console, the initramfs, devtmpfs, and the virtio-serial port
// the agent reports on (Debian's 6.1 cloud kernel has VIRTIO_CONSOLE=m,
// which its guest then loads first: GuestModules).
var GuestBuiltIn = []string{"SERIAL_8250_CONSOLE", "BLK_DEV_INITRD", "DEVTMPFS", "VIRTIO_PCI", "VIRTIO_CONSOLE"}

// GuestModules are the modules that provide those of GuestBuiltIn a
// distribution builds as modules: a prebuilt kernel's guest loads them
// from its own package before the agent starts (CheckGuestLoading).
var GuestModules = map[string]string{"VIRTIO_PCI": "virtio_pci", "VIRTIO_CONSOLE": "virtio_console"}

// CheckGuest refuses a kernel configuration the agent cannot boot and
// report on, naming each symbol that is not built in and, where one of
// frags set it, the fragment and line that did: a guest that cannot
// report would otherwise only show as a silent VM.
func CheckGuest(cfg Config, frags ...*Fragment) error {
	return CheckGuestLoading(cfg, nil, frags...)
}

// CheckGuestLoading is CheckGuest for a kernel whose guest can load some
// of GuestModules before the agent starts: a symbol that is =m passes
// where loadable says its module is at hand.
func CheckGuestLoading(cfg Config, loadable func(sym string) bool, frags ...*Fragment) error {
	var missing []string
	for _, sym := range GuestBuiltIn {
		v := cfg.Value(sym)
		if v == "y" || v == "m" && loadable != nil && loadable(sym) {
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
