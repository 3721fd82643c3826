//go:build tools

package initramfs

// The guest's init is u-root's, built with plain `go build` from this module's
// dependency graph; this blank import keeps it in go.mod through `go mod tidy`.
import _ "github.com/u-root/u-root/cmds/core/init"
