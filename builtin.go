package modmatrix

import (
	"embed"
	"io/fs"
)

// builtin is this module's cells and scenarios, carried by every binary
// built from it (harness/builtin puts them in the cache to run them), and
// the Go source of the guest's programs with the module files that pin
// their dependencies: the agent, the floor's and the shell's programs and
// every package of this module they import (TestGuestSourceComplete). A
// binary built without the programs themselves (go install) builds them
// from that source in the cache, with the user's Go.
//
//go:embed kconfigs modules go.mod go.sum
//go:embed cmd/modagent/*.go initramfs/floorinit/*.go initramfs/shellinit/*.go initramfs/poweroff/*.go initramfs/internal/*/*.go
//go:embed harness/agent/*.go harness/protocol/*.go harness/kernel/*.go harness/kreport/kinds/*.go
var builtin embed.FS

// Builtin is the built-in cells (kconfigs/) and scenarios (modules/), and
// the guest programs' source, laid out as in this module.
func Builtin() fs.FS { return builtin }
