//go:build !embedguest

package initramfs

import "io/fs"

// embedded is nil: this build makes the guest programs from source.
var embedded fs.FS
