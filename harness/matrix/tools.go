package matrix

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// tool is a program (or a header) a run needs, and the Debian package
// that has it.
type tool struct {
	name, pkg string
	// header, when set, is a file to find instead of a program on PATH.
	header string
}

var (
	// runTools boot the guests and build the modules, whatever the kernel.
	runTools = []tool{
		{name: "qemu-system-x86_64", pkg: "qemu-system-x86"},
		{name: "make", pkg: "make"},
		{name: "gcc", pkg: "gcc"},
		{name: "ld", pkg: "binutils"},
		// depmod on the host, modprobe in the guest
		{name: "kmod", pkg: "kmod"},
	}
	// sourceTools build a kernel from source (objtool needs libelf).
	sourceTools = []tool{
		{name: "flex", pkg: "flex"},
		{name: "bison", pkg: "bison"},
		{name: "bc", pkg: "bc"},
		{name: "libelf.h", pkg: "libelf-dev", header: "/usr/include/libelf.h"},
	}
)

// checkTools refuses a run whose tools are missing before anything is
// unpacked or built, naming each and the package to install.
func checkTools(buildsFromSource bool) error {
	need := runTools
	if buildsFromSource {
		need = append(append([]tool{}, runTools...), sourceTools...)
	}
	var missing, pkgs []string
	for _, t := range need {
		var err error
		if t.header != "" {
			_, err = os.Stat(t.header)
		} else {
			_, err = exec.LookPath(t.name)
		}
		if err != nil {
			missing = append(missing, t.name)
			pkgs = append(pkgs, t.pkg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing %s: install them with `apt-get install %s` (or `make deps` in a checkout)",
		strings.Join(missing, ", "), strings.Join(pkgs, " "))
}
