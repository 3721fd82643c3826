// Command shellinit is the uinit of a `modmatrix shell` image: it tells
// the host it is up (the host snapshots the guest there, once per cell,
// and restores it for each session), takes the session's banner and
// modules from the command port, prints the banner, runs u-root's gosh on
// the console, and ends the VM when the shell exits, so `exit` leaves as
// cleanly as `poweroff`.
package main

import (
	"log"
	"os"
	"os/exec"
	"os/signal"

	"modmatrix.dev/modmatrix/harness/agent"
	"modmatrix.dev/modmatrix/harness/protocol"
	"modmatrix.dev/modmatrix/initramfs/internal/vmexit"
)

// Paths inside the guest; the host side is package initramfs.
const (
	bannerPath = protocol.WorkDir + "/" + protocol.ShellBanner
	shellPath  = "/bbin/gosh"
)

func main() {
	if err := awaitSession(); err != nil {
		log.Printf("shellinit: %v", err)
	}
	if b, err := os.ReadFile(bannerPath); err == nil {
		os.Stdout.Write(b)
	}
	// Ctrl-C is for the shell's children. Notified, not ignored: an ignored
	// signal would stay ignored in every command the shell starts.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	sh := exec.Command(shellPath)
	sh.Stdin, sh.Stdout, sh.Stderr = os.Stdin, os.Stdout, os.Stderr
	sh.Env = append(os.Environ(), "PATH=/bbin:/bin:/ubin:/sbin") // /sbin: kmod's modprobe
	if err := sh.Run(); err != nil {
		log.Printf("shellinit: %s: %v", shellPath, err)
	}
	if err := vmexit.Now(); err != nil {
		log.Fatalf("shellinit: %v", err)
	}
}

// awaitSession says ready on the event port and waits for the session's
// work: the banner and the modules.
func awaitSession() error {
	events, err := agent.OpenEvents()
	if err != nil {
		return err
	}
	if err := events.Emit(protocol.Event{Kind: protocol.EventReady}); err != nil {
		return err
	}
	if _, err = agent.AwaitWork(protocol.WorkDir); err != nil {
		return err
	}
	// modprobe finds the session's modules in /lib/modules/RELEASE.
	return agent.LinkModulesDir(protocol.ModuleDir)
}
