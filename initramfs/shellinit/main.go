// Command shellinit is the uinit of a `modmatrix shell` image: it prints the
// banner the host packed, runs u-root's gosh on the console, and ends the VM
// when the shell exits, so `exit` leaves as cleanly as `poweroff`.
package main

import (
	"log"
	"os"
	"os/exec"
	"os/signal"

	"modmatrix.dev/modmatrix/initramfs/internal/vmexit"
)

// Paths inside the guest; the host side is package initramfs.
const (
	bannerPath = "/modmatrix/banner"
	shellPath  = "/bbin/gosh"
)

func main() {
	if b, err := os.ReadFile(bannerPath); err == nil {
		os.Stdout.Write(b)
	}
	// Ctrl-C is for the shell's children. Notified, not ignored: an ignored
	// signal would stay ignored in every command the shell starts.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	sh := exec.Command(shellPath)
	sh.Stdin, sh.Stdout, sh.Stderr = os.Stdin, os.Stdout, os.Stderr
	sh.Env = append(os.Environ(), "PATH=/bbin:/bin:/ubin")
	if err := sh.Run(); err != nil {
		log.Printf("shellinit: %s: %v", shellPath, err)
	}
	if err := vmexit.Now(); err != nil {
		log.Fatalf("shellinit: %v", err)
	}
}
