//go:build embedguest

package initramfs

import (
	"embed"
	"io/fs"
)

//go:embed guest
var guestFiles embed.FS

// embedded holds the guest programs `make guest` wrote into guest/.
var embedded = func() fs.FS {
	sub, err := fs.Sub(guestFiles, "guest")
	if err != nil {
		panic(err)
	}
	return sub
}()
