// Command poweroff ends a `modmatrix shell` session from inside the guest
// (see package vmexit for why it restarts rather than powers off).
package main

import (
	"log"

	"modmatrix.dev/modmatrix/initramfs/internal/vmexit"
)

func main() {
	if err := vmexit.Now(); err != nil {
		log.Fatalf("poweroff: %v", err)
	}
}
