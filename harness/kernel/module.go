package kernel

import "strings"

// ModuleName is a module's name as the kernel spells it: kbuild names the
// module built from foo-bar.c foo_bar (/proc/modules, /sys/module, the
// name delete_module takes), while its file stays foo-bar.ko. Either
// spelling gives the kernel's.
func ModuleName(name string) string {
	return strings.ReplaceAll(name, "-", "_")
}
