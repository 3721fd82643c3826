// Command floorinit is the benchmark's floor: an /init that reboots at
// once, so a boot with it measures kernel + firmware + QEMU and nothing else.
package main

import "golang.org/x/sys/unix"

func main() {
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
}
