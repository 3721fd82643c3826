package modmatrix

import (
	"embed"
	"io/fs"
)

// builtin is this module's cells and scenarios, carried by every binary
// built from it (harness/builtin puts them in the cache to run them).
//
//go:embed kconfigs modules
var builtin embed.FS

// Builtin is the built-in cells (kconfigs/) and scenarios (modules/).
func Builtin() fs.FS { return builtin }
