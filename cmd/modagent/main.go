// Command modagent runs inside the guest as u-root's uinit: once up it
// says so and waits for the host's plan and modules on a virtio-serial
// port (the host snapshots the guest at that point, and restores it once
// per scenario), executes the plan, streams one event per step over
// another port, and reboots the guest when done.
package main

import (
	"log"
	"os"

	"golang.org/x/sys/unix"

	"modmatrix.dev/modmatrix/harness/agent"
	"modmatrix.dev/modmatrix/harness/protocol"
)

func main() {
	log.SetPrefix("modagent: ")
	err := run()
	if err != nil {
		log.Print(err)
	}
	unix.Sync()
	// QEMU runs with -no-reboot, so a restart ends the VM; there is no ACPI
	// to power off with.
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
		log.Printf("reboot: %v", err)
		os.Exit(1)
	}
}

func run() error {
	// A distribution kernel's virtio drivers, where it builds them as
	// modules: the ports below need them.
	if err := agent.LoadBootModules(protocol.BootModuleDir); err != nil {
		return err
	}
	events, err := agent.OpenEvents()
	if err != nil {
		return err
	}
	// Close sends the done event; without it the host reports ERROR.
	defer events.Close()

	fail := func(err error) error {
		_ = events.Emit(protocol.Event{Kind: protocol.EventAgentFailure, Error: err.Error()})
		return err
	}
	kmsg, err := agent.OpenKmsg("/dev/kmsg")
	if err != nil {
		return fail(err)
	}
	a := &agent.Agent{
		Events:    events,
		Kmsg:      kmsg,
		ModuleDir: protocol.ModuleDir,
		OnHang:    dumpBlockedTasks,
	}
	if err := a.Ready(); err != nil {
		return err
	}
	if a.Plan, err = agent.AwaitWork(protocol.WorkDir); err != nil {
		return fail(err)
	}
	if err := agent.LinkModulesDir(protocol.ModuleDir); err != nil {
		return fail(err)
	}
	if err := a.Run(); err != nil {
		return fail(err)
	}
	return nil
}

// dumpBlockedTasks asks the kernel (sysrq-w, where MAGIC_SYSRQ is built) to
// print where blocked tasks sleep, so a hang's report shows where it is stuck.
func dumpBlockedTasks() {
	_ = os.WriteFile("/proc/sysrq-trigger", []byte("w"), 0)
}
