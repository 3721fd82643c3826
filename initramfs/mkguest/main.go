// Command mkguest builds the guest's programs into a folder, for a
// modmatrix binary that carries them (`make build`):
//
//	go run ./initramfs/mkguest initramfs/guest
//
// It runs in the modmatrix checkout, whose source it builds.
package main

import (
	"context"
	"fmt"
	"os"

	"modmatrix.dev/modmatrix/initramfs"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkguest DIR")
		os.Exit(2)
	}
	if err := initramfs.WriteGuest(context.Background(), ".", os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkguest:", err)
		os.Exit(1)
	}
}
